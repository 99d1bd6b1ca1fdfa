#!/usr/bin/env bash
# Tools: list tools over REST (each list limit) and JSON-RPC, and call both benchmark tools
# through the gateway to the kit's MCP server. Run alone: scenarios/tools-benchmark.sh [flags].

scenario_tools() {
  perf_list_tests tools /tools '0.name'
  perf_test rpc_tools_list POST /rpc --payload "${PERF_PAYLOAD_DIR_TOOLS}/tools_list.json" \
    --expect 'result.tools.0.name'
  perf_test rpc_tools_call_get_system_time POST /rpc --payload "${PERF_PAYLOAD_DIR_TOOLS}/call_get_system_time.json" \
    --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  perf_test rpc_tools_call_convert_time POST /rpc --payload "${PERF_PAYLOAD_DIR_TOOLS}/call_convert_time.json" \
    --expect 'result.content.0.text~T18:30:00\+09:00$'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios tools "$@"
fi
