#!/usr/bin/env bash
# Mixed workload: several hey processes at once - listing, tool calls, resource reads, prompt
# rendering and health checks - sharing the profile's concurrency; reports aggregate throughput
# and each component. Run alone: scenarios/mixed-workload.sh [flags].

scenario_mixed() {
  perf_group concurrent_mix "list + call tools, read a resource, render a prompt, health"
  perf_component list_tools GET "/tools?limit=50" --expect '0.name'
  perf_component call_get_system_time POST /rpc --payload "${PERF_PAYLOAD_DIR_TOOLS}/call_get_system_time.json" \
    --expect 'result.content.0.text~^[0-9]{4}-'
  perf_component read_world_times POST /rpc --payload "${PERF_PAYLOAD_DIR_RESOURCES}/read_world_times.json" \
    --expect 'result.contents.0.text~UTC'
  perf_component get_compare_timezones POST /rpc --payload "${PERF_PAYLOAD_DIR_PROMPTS}/get_compare_timezones.json" \
    --expect 'result.messages.0.content.text'
  perf_component health GET /health --no-auth --expect 'status~^healthy$'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios mixed "$@"
fi
