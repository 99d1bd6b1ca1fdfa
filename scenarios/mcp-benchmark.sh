#!/usr/bin/env bash
# MCP: what real MCP clients send - streamable HTTP to the virtual server bench-virtual's
# endpoint /servers/<id>/mcp and to the global /mcp - beside the same operations over the plain
# JSON-RPC endpoint /rpc, at the same concurrency in the same run. The server's id and every
# request are read from the gateway when a test is probed (tool arguments from the tool's
# inputSchema; values in payloads/mcp/arguments.json). Run alone: scenarios/mcp-benchmark.sh [flags].

scenario_mcp() {
  local server='/servers/{server:bench-virtual}/mcp' path name
  # the operations each path runs: rpc = /rpc, server = bench-virtual's endpoint, global = /mcp
  for path in rpc server global; do
    case "${path}" in
      rpc) name=/rpc ;;
      server) name="${server}" ;;
      global) name=/mcp ;;
    esac
    perf_test "${path}_tools_list" POST "${name}" --mcp tools/list --expect 'result.tools.0.name'
    perf_test "${path}_tools_call_get_system_time" POST "${name}" --mcp tools/call:get-system-time \
      --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
    [[ "${path}" != global ]] || continue
    perf_test "${path}_resources_read_world_times" POST "${name}" --mcp resources/read:time://world_times \
      --expect 'result.contents.0.text~Europe/Berlin'
    perf_test "${path}_prompts_get_compare_timezones" POST "${name}" --mcp prompts/get:compare-timezones \
      --expect 'result.messages.0.content.text~Europe/Berlin'
  done
  # the rest of what bench-virtual's endpoint serves
  perf_test server_tools_call_convert_time POST "${server}" --mcp tools/call:convert-time \
    --expect 'result.content.0.text~T18:30:00\+09:00$'
  perf_test server_resources_list POST "${server}" --mcp resources/list --expect 'result.resources.0.uri'
  perf_test server_prompts_list POST "${server}" --mcp prompts/list --expect 'result.prompts.0.name'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios mcp "$@"
fi
