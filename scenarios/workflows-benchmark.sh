#!/usr/bin/env bash
# Scenario: several users at once, on Locust - the workflows of make workflows (baseline,
# share, collaborate, token, agent; the profile's workload, default mixed) run by
# PERF_WF_USERS gateway users made for the run and removed after it. One multi-user run
# measures every test: after PERF_WF_WARMUP seconds, PERF_ITERATIONS windows of
# PERF_WF_ROUND_SECONDS are the rounds of each workflow (its whole time) and of each of its
# timed steps, judged against the baseline and reported like hey's tests; the per-workflow,
# per-step and per-user tables are the run's raw/workflows/workflows.json (and its report).
# By name only (not in all). Run alone: scenarios/workflows-benchmark.sh [flags].

scenario_workflows() {
  local name
  while read -r name; do
    perf_workflow_test "${name}"
  done < <(perf_py workflows-rounds tests --workload "${PERF_WF_WORKLOAD}")
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios workflows "$@"
fi
