#!/usr/bin/env bash
# Scenario: the gateway's recorded call history - every tool, prompt, resource and server call
# leaves a metrics row (tool_metrics, ...), and the REST lists with ?include_metrics=true
# aggregate them: the lists of tools, servers, prompts and resources at limit 50 with their
# metrics, a tool call (which records one more row), and the server list with its metrics
# through the gateway's own service layer (its SQL kept, as the database scenario's). By name
# only (not in all): make growth DATASETS=tiny,history-10k,history-100k SCENARIOS=history holds
# it against the number of recorded calls. Run alone: scenarios/history-benchmark.sh [flags].

scenario_history() {
  local noun
  for noun in tools servers prompts resources; do
    perf_test "rest_list_${noun}_metrics_limit_50" GET "/${noun}?limit=50&include_metrics=true" --expect '0.id'
  done
  perf_test rpc_tools_call_get_system_time POST /rpc --payload "${PERF_PAYLOAD_DIR_TOOLS}/call_get_system_time.json" \
    --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  perf_db_test list_servers_metrics_limit_50 list_servers_metrics --limit 50
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios history "$@"
fi
