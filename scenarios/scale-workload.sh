#!/usr/bin/env bash
# Scale: the mixed workload with its tool calls spread over every benchmark MCP server of the
# stack (bench-time-1..PERF_SERVERS_COUNT, one hey each), beside listing tools and resources,
# a prompt and health checks - what run-advanced.sh measures for each server count. The profile's
# concurrency is shared out; with more components than clients each still gets one client (the
# group's real concurrency is in plan.tsv and summary.json). Run alone against a stack with N
# servers: PERF_SERVERS_COUNT=N scenarios/scale-workload.sh [flags].

scenario_scale() {
  perf_group spread "tool calls over ${PERF_SERVERS_COUNT} MCP server(s) + list, resource, prompt, health"
  perf_server_calls 1 "${PERF_SERVERS_COUNT}"
  perf_component list_tools GET "/tools?limit=50" --expect '0.name'
  # resources are listed, not read: every server exposes the same URIs, and the gateway refuses
  # a read of a URI that several servers share ("ambiguous across multiple servers")
  perf_component list_resources POST /rpc --payload "${PERF_PAYLOAD_DIR_RESOURCES}/resources_list.json" \
    --expect 'result.resources.0.uri'
  perf_component get_compare_timezones POST /rpc --payload "${PERF_PAYLOAD_DIR_PROMPTS}/get_compare_timezones.json" \
    --expect 'result.messages.0.content.text'
  perf_component health GET /health --no-auth --expect 'status~^healthy$'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios scale "$@"
fi
