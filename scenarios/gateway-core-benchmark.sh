#!/usr/bin/env bash
# Gateway core: health without auth, readiness, virtual servers and registered MCP
# servers (each list limit), and a JSON-RPC ping that never leaves the gateway.
# Run alone: scenarios/gateway-core-benchmark.sh [flags].

scenario_gateway_core() {
  perf_test health GET /health --no-auth --expect 'status~^healthy$'
  perf_test ready GET /ready --no-auth --expect 'status~^ready$'
  perf_list_tests servers /servers '0.name'
  perf_list_tests gateways /gateways '0.name~^bench-time-'
  perf_test rpc_ping POST /rpc --payload "${PERF_PAYLOAD_DIR_CORE}/ping.json" --expect 'jsonrpc~^2\.0$'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios gateway-core "$@"
fi
