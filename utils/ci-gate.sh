#!/usr/bin/env bash
# The CI gate of docs/ci.md, runnable anywhere the kit is: what the example jobs run, so the
# recipe is tested here end to end (tests/integration/test_ci_gate.py).
#
#   utils/ci-gate.sh pr --base BUILD --candidate BUILD [--profile NAME] [--scenarios LIST]
#                       [--iterations N]
#       a pull request: the PR's gateway build against its target branch's, both in this job,
#       rounds interleaved (utils/compare-versions.sh); BUILD is a source checkout, a wheel or
#       sdist, or a release
#   utils/ci-gate.sh nightly [--profile NAME] [--scenarios LIST] [--iterations N]
#       a nightly job: the release in config.yaml (or GATEWAY_VERSION / PERF_GATEWAY_SOURCE)
#       against the stored baseline of its profile and its run-to-run history
#       (./run-configurable.sh --baseline compare; the local stack on a fresh database); keep
#       baselines/ between jobs (the CI's cache) so the history grows
#
# Exit: the job's own code (README.md, "Exit codes"): 0 pass, 1 regression, 2 usage, 3
# environment, 4 benchmark failed, 130 interrupted. The last stdout line names the verdict and
# the files to keep (comparison.json, comparison.junit.xml, report.html).
set -euo pipefail

PERF_PROG="ci-gate.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

gate_usage() {
  sed -n '5,/^# Exit:/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

gate_parse_args() {
  GATE_MODE="${1:-}"
  GATE_BASE="" GATE_CANDIDATE="" GATE_PROFILE=light GATE_RUN_ARGS=()
  case "${GATE_MODE}" in
    pr | nightly) shift ;;
    -h | --help) gate_usage; exit 0 ;;
    "") gate_usage >&2; perf_die "${PERF_EXIT_USAGE}" "say which job: pr or nightly" ;;
    *) gate_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown job '${GATE_MODE}' (have: pr, nightly)" ;;
  esac
  while (($#)); do
    case "$1" in
      --base) GATE_BASE="$(perf_flag_value "$@")"; shift 2 ;;
      --candidate) GATE_CANDIDATE="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) GATE_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios | --iterations) GATE_RUN_ARGS+=("$1" "$(perf_flag_value "$@")"); shift 2 ;;
      -h | --help) gate_usage; exit 0 ;;
      *) gate_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  if [[ "${GATE_MODE}" == pr ]]; then
    [[ -n "${GATE_BASE}" && -n "${GATE_CANDIDATE}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "a pr job needs both builds: --base TARGET-BRANCH-CHECKOUT --candidate PR-CHECKOUT"
  else
    [[ -z "${GATE_BASE}${GATE_CANDIDATE}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "a nightly job takes no --base/--candidate: it runs the configured gateway against the stored baseline"
  fi
  perf_check_profile "${GATE_PROFILE}"
}

# gate_verdict RC: one line for the CI log: what the exit code means, and the files a CI keeps.
gate_verdict() {
  local rc="$1" run=""
  run="$(readlink -f "${PERF_RESULTS_DIR}/latest" 2>/dev/null || true)"
  printf 'ci-gate: %s job: exit %s (%s)' "${GATE_MODE}" "${rc}" "$(perf_code_meaning "${rc}")"
  if [[ -n "${run}" && -f "${run}/comparison.json" ]]; then
    printf '; keep %s/comparison.json, comparison.junit.xml, report.html' "${run}"
  fi
  printf '\n'
}

gate_main() {
  local rc=0
  gate_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${GATE_PROFILE}"
  if [[ "${GATE_MODE}" == pr ]]; then
    "${PERF_KIT_ROOT}/utils/compare-versions.sh" --base "${GATE_BASE}" --candidate "${GATE_CANDIDATE}" \
      --profile "${GATE_PROFILE}" "${GATE_RUN_ARGS[@]}" || rc=$?
  else
    "${PERF_KIT_ROOT}/run-configurable.sh" --profile "${GATE_PROFILE}" --baseline compare \
      "${GATE_RUN_ARGS[@]}" || rc=$?
  fi
  gate_verdict "${rc}"
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  gate_main "$@"
fi
