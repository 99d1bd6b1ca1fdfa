#!/usr/bin/env bash
# Prompts: list prompts over REST (each list limit) and JSON-RPC, and render the benchmark
# prompt through the gateway. Run alone: scenarios/prompts-benchmark.sh [flags].

scenario_prompts() {
  perf_list_tests prompts /prompts '0.name'
  perf_test rpc_prompts_list POST /rpc --payload "${PERF_PAYLOAD_DIR_PROMPTS}/prompts_list.json" \
    --expect 'result.prompts.0.name'
  perf_test rpc_prompts_get_compare_timezones POST /rpc --payload "${PERF_PAYLOAD_DIR_PROMPTS}/get_compare_timezones.json" \
    --expect 'result.messages.0.content.text~in Asia/Tokyo'
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios prompts "$@"
fi
