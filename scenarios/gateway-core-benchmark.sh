#!/usr/bin/env bash
# Gateway core: health without auth, readiness, virtual servers and registered MCP
# servers (each list limit), and a JSON-RPC ping that never leaves the gateway.
# Run alone: scenarios/gateway-core-benchmark.sh [flags].

scenario_gateway_core() {
  local limit limits
  perf_test health GET /health --no-auth --expect 'status~^healthy$'
  perf_test ready GET /ready --no-auth --expect 'status~^ready$'
  IFS=, read -ra limits <<<"${PERF_LIST_LIMITS}"
  for limit in "${limits[@]}"; do
    perf_test "rest_list_servers_limit_${limit}" GET "/servers?limit=${limit}" --expect '0.name'
    perf_test "rest_list_gateways_limit_${limit}" GET "/gateways?limit=${limit}" --expect '0.name~^bench-time-'
  done
  perf_test rpc_ping POST /rpc --payload "${PERF_PAYLOAD_DIR_CORE}/ping.json" --expect 'jsonrpc~^2\.0$'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios gateway-core "$@"
fi
