#!/usr/bin/env bash
# MCP: what real MCP clients send - streamable HTTP to the virtual server bench-virtual's
# endpoint /servers/<id>/mcp and to the global /mcp - beside the same operations over the plain
# JSON-RPC endpoint /rpc, at the same concurrency in the same run (each operation's paths one
# after the other, so a drift during the run hits them alike). The server's id and every
# request are read from the gateway when a test is probed (tool arguments from the tool's
# inputSchema; values in payloads/mcp/arguments.json). Tests are named PATH_OPERATION
# (rpc, server, global), which the protocol comparison of the table and report pairs up.
# With mcp.peer (PERF_MCP_PEER=NAME, --mcp-peer NAME) the scenario also calls a tool through the
# federated peer gateway registered under NAME (peer_*: two gateways on the way), beside the
# same call made directly on the global /mcp (global_*).
# Run alone: scenarios/mcp-benchmark.sh [flags].

# mcp_paths OPERATION EXPECT PATH...: one test of OPERATION on each PATH (rpc, server, global).
mcp_paths() {
  local operation="$1" expect="$2" path name endpoint
  shift 2
  name="${operation%%:*}"
  name="${name//\//_}"
  [[ "${operation}" != *:* ]] || name+="_${operation##*[:/]}"
  for path in "$@"; do
    case "${path}" in
      rpc) endpoint=/rpc ;;
      server) endpoint='/servers/{server:bench-virtual}/mcp' ;;
      global) endpoint=/mcp ;;
    esac
    perf_test "${path}_${name//-/_}" POST "${endpoint}" --mcp "${operation}" --expect "${expect}"
  done
}

scenario_mcp() {
  mcp_paths tools/list 'result.tools.0.name' rpc server global
  mcp_paths tools/call:get-system-time 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T' rpc server global
  mcp_paths resources/read:time://world_times 'result.contents.0.text~Europe/Berlin' rpc server
  mcp_paths prompts/get:compare-timezones 'result.messages.0.content.text~Europe/Berlin' rpc server
  # the rest of what bench-virtual's endpoint serves
  mcp_paths tools/call:convert-time 'result.content.0.text~T18:30:00\+09:00$' server
  mcp_paths resources/list 'result.resources.0.uri' server
  mcp_paths prompts/list 'result.prompts.0.name' server
  # large answers through the virtual server's endpoint, by size: a resource and a tool result
  local size label bytes
  for size in 1KiB:1024 100KiB:102400 1MiB:1048576; do
    label="${size%%:*}" bytes="${size#*:}"
    perf_test "server_resources_read_payload_${label,,}" POST '/servers/{server:bench-virtual}/mcp' \
      --mcp "resources/read:payload://${label}" --expect "result.contents.0.text~^[0-9a-f]{${bytes}}\$"
    perf_test "server_tools_call_payload_${label,,}" POST '/servers/{server:bench-virtual}/mcp' \
      --mcp "tools/call:get-payload?size_bytes=${bytes}" --expect "result.content.0.text~^[0-9a-f]{${bytes}}\$"
  done
  # the legacy SSE transport (GET /servers/<id>/sse; messages POSTed to the URL its endpoint
  # event names, answers read from the stream): its connection's set-up, and a call over it
  perf_sse_test server_sse_connect connect '/servers/{server:bench-virtual}/mcp' \
    --mcp tools/call:get-system-time --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  perf_sse_test server_sse_tools_call_get_system_time call '/servers/{server:bench-virtual}/mcp' \
    --mcp tools/call:get-system-time --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  # federation: the call crosses the gateway and its peer, which forwards it to the MCP server
  if [[ -n "${PERF_MCP_PEER:-}" ]]; then
    perf_test peer_tools_call_get_system_time POST /mcp --mcp "tools/call:${PERF_MCP_PEER}/get-system-time" \
      --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  fi
  # what starting costs a client: each request a new session, initialize to the first call's answer
  perf_session_setup server_session_setup '/servers/{server:bench-virtual}/mcp' \
    --mcp tools/call:get-system-time --expect 'result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios mcp "$@"
fi
