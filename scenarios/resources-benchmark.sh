#!/usr/bin/env bash
# Resources: list resources over REST (each list limit) and JSON-RPC, and read both benchmark
# resources through the gateway. Run alone: scenarios/resources-benchmark.sh [flags].

scenario_resources() {
  perf_list_tests resources /resources '0.uri'
  perf_test rpc_resources_list POST /rpc --payload "${PERF_PAYLOAD_DIR_RESOURCES}/resources_list.json" \
    --expect 'result.resources.0.uri'
  perf_test rpc_resources_read_timezone_info POST /rpc --payload "${PERF_PAYLOAD_DIR_RESOURCES}/read_timezone_info.json" \
    --expect 'result.contents.0.text~Asia/Tokyo'
  perf_test rpc_resources_read_world_times POST /rpc --payload "${PERF_PAYLOAD_DIR_RESOURCES}/read_world_times.json" \
    --expect 'result.contents.0.text~Europe/Berlin'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios resources "$@"
fi
