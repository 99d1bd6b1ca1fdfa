#!/usr/bin/env bash
# Concurrency sweep: for each client count in PERF_SWEEP_LEVELS (--concurrency-sweep of
# run-advanced.sh), tool calls spread over the stack's MCP servers (min(clients, servers) of
# them, the clients shared out evenly), max(profile requests, 4 x clients) requests a round.
# Run alone: PERF_SWEEP_LEVELS=5,10,20 scenarios/concurrency-sweep.sh [flags].

scenario_sweep() {
  local level levels servers saved_c="${PERF_CONCURRENCY}" saved_n="${PERF_REQUESTS}"
  [[ -n "${PERF_SWEEP_LEVELS}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "the sweep scenario needs client counts: PERF_SWEEP_LEVELS=5,10,20 (run-advanced.sh --concurrency-sweep)"
  IFS=, read -ra levels <<<"${PERF_SWEEP_LEVELS}"
  for level in "${levels[@]}"; do
    servers=$((level < PERF_SERVERS_COUNT ? level : PERF_SERVERS_COUNT))
    PERF_CONCURRENCY="${level}"
    PERF_REQUESTS=$((saved_n > 4 * level ? saved_n : 4 * level))
    perf_group "c${level}" "${level} clients calling tools on ${servers} MCP server(s)"
    perf_server_calls 1 "${servers}"
  done
  PERF_CONCURRENCY="${saved_c}"
  PERF_REQUESTS="${saved_n}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios sweep "$@"
fi
