#!/usr/bin/env bash
# make overhead: what the kit's own measuring costs the gateway it measures. The same request
# (GET /health by default: the cheapest, where a cost of the kit shows most) sent by plain
# `hey -n N -c C` and by the kit (run-configurable.sh --endpoint: hey under GNU time, CSV output,
# the resource sampler, the probe), interleaved in blocks (ABBA...: the order reverses every
# block), in the same minutes; the kit/plain ratio of req/s with its 95% interval over the
# blocks. --parts adds each part of the kit alone on top of plain hey (CSV output, GNU time, the
# sampler), to say where the cost goes.
#
#   utils/overhead.sh [--url URL] [--path PATH] [--requests N] [--concurrency C] [--blocks K]
#                     [--parts]
#
#   --url URL          the gateway (default: the local stack's; started when nothing answers)
#   --path PATH        the request (default /health: no token needed)
#   --requests N       requests a run (default 500)
#   --concurrency C    clients (default 10)
#   --blocks K         blocks of one run of each variant (default 8)
#   --parts            also measure each part of the kit alone
#
# Results: results/overhead_<stamp>/overhead.json and the table on stdout.
# Exit: 0 done, 2 bad option, 3 no gateway / missing tool, 4 a run failed, 130 interrupted.
set -euo pipefail

PERF_PROG="overhead.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

oh_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

oh_parse_args() {
  OH_URL="${GATEWAY_URL:-}" OH_PATH=/health OH_REQUESTS=500 OH_CONCURRENCY=10 OH_BLOCKS=8 OH_PARTS=0
  while (($#)); do
    case "$1" in
      --url) OH_URL="$(perf_flag_value "$@")"; shift 2 ;;
      --path) OH_PATH="$(perf_flag_value "$@")"; shift 2 ;;
      --requests) OH_REQUESTS="$(perf_flag_value "$@")"; shift 2 ;;
      --concurrency) OH_CONCURRENCY="$(perf_flag_value "$@")"; shift 2 ;;
      --blocks) OH_BLOCKS="$(perf_flag_value "$@")"; shift 2 ;;
      --parts) OH_PARTS=1; shift ;;
      -h | --help) oh_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  local flag value
  for flag in requests concurrency blocks; do
    value="OH_${flag^^}"
    value="${!value}"
    [[ "${value}" =~ ^[1-9][0-9]{0,5}$ ]] || perf_die "${PERF_EXIT_USAGE}" "--${flag} '${value}': give a whole number"
  done
  ((OH_BLOCKS >= 2 && OH_BLOCKS <= 100)) || perf_die "${PERF_EXIT_USAGE}" "--blocks ${OH_BLOCKS}: give 2..100 (an interval needs two)"
  ((OH_CONCURRENCY <= OH_REQUESTS)) || perf_die "${PERF_EXIT_USAGE}" "--concurrency ${OH_CONCURRENCY} is more than --requests ${OH_REQUESTS}"
  [[ "${OH_PATH}" == /* ]] || perf_die "${PERF_EXIT_USAGE}" "--path '${OH_PATH}': give a path starting with /"
}

# oh_run VARIANT BLOCK: one run of VARIANT; its output in OH_WORK/BLOCK-VARIANT.*
oh_run() {
  local variant="$1" base="${OH_WORK}/$2-$1" url="${PERF_TARGET_URL}${OH_PATH}" rc=0
  local hey=("${PERF_HEY_BIN}" -n "${OH_REQUESTS}" -c "${OH_CONCURRENCY}" -t "${PERF_TIMEOUT}")
  case "${variant}" in
    plain) perf_waited "${hey[@]}" "${url}" >"${base}.txt" 2>&1 || rc=$? ;;
    csv) perf_waited "${hey[@]}" -o csv "${url}" >"${base}.csv" 2>&1 || rc=$? ;;
    time)
      perf_waited /usr/bin/time -o "${base}.time" -f $'elapsed=%e\nuser=%U\nsys=%S\nexit=%x' \
        "${hey[@]}" -o csv "${url}" >"${base}.csv" 2>"${base}.err" || rc=$?
      ;;
    sampler)
      mkdir -p "${base}.monitor"
      perf_spawn env PYTHONPATH="${PERF_KIT_ROOT}/utils" PERF_RUN_DIR="${base}.monitor" "${PERF_VENV}/bin/python" \
        -m perfkit monitor "${base}.monitor" --watch-pid "$$" "${OH_MONITOR_ARGS[@]}" >/dev/null
      local monitor="${PERF_LAST_PID}"
      sleep 1 # the sampler running, as it is before a kit's round starts
      PERF_RUN_DIR="${base}.monitor" perf_waited "${hey[@]}" -o csv "${url}" >"${base}.csv" 2>&1 || rc=$?
      perf_stop_group "${monitor}" 2
      perf_forget_pid "${monitor}"
      ;;
    kit)
      PERF_RESULTS_DIR="${base}.runs" PERF_GENERATE_REPORT=false PERF_WARMUP=0 perf_waited \
        "${PERF_KIT_ROOT}/run-configurable.sh" --endpoint "${url}" --no-auth --requests "${OH_REQUESTS}" \
        --concurrency "${OH_CONCURRENCY}" --iterations 1 --baseline skip --skip-checks --quiet \
        >"${base}.txt" 2>&1 || rc=$?
      ;;
  esac
  ((rc == 0)) || perf_die "${PERF_EXIT_BENCHMARK_FAILED}" "the ${variant} run of block $2 failed (exit ${rc}); see ${base}.*"
}

oh_cleanup() {
  trap - EXIT
  perf_stop_waited
  perf_kill_children
  perf_stop_started_stack
}

oh_main() {
  local block variant order=()
  oh_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${PERF_PROFILE:-light}"
  perf_require_tools
  trap oh_cleanup EXIT
  trap 'oh_cleanup; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  perf_resolve_target "${OH_URL}" "${PERF_PROFILE:-light}" "${PERF_SERVERS_COUNT}"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${PERF_TARGET_URL}${OH_PATH}")" == 2* ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "${PERF_TARGET_URL}${OH_PATH} does not answer 2xx without a token; choose another --path"
  # the sampler watches the gateway as a kit's run does
  OH_MONITOR_ARGS=()
  [[ ! "${PERF_TARGET_URL}" =~ :([0-9]+)$ ]] || OH_MONITOR_ARGS+=(--gateway-port "${BASH_REMATCH[1]}")
  OH_WORK="$(perf_make_fresh_dir "${PERF_RESULTS_DIR}/overhead_$(date +%Y%m%d-%H%M%S)")"
  local variants=(plain kit)
  [[ "${OH_PARTS}" == 0 ]] || variants=(plain csv time sampler kit)
  perf_log "${#variants[@]} variants x ${OH_BLOCKS} blocks of ${OH_REQUESTS} requests at concurrency ${OH_CONCURRENCY} on ${PERF_TARGET_URL}${OH_PATH}, interleaved; work in ${OH_WORK}"
  for ((block = 1; block <= OH_BLOCKS; block++)); do
    order=("${variants[@]}")
    if ((block % 2 == 0)); then # ABBA: every other block runs the variants backwards
      local i reversed=()
      for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[i]}"); done
      order=("${reversed[@]}")
    fi
    for variant in "${order[@]}"; do
      oh_run "${variant}" "${block}"
    done
    perf_log "block ${block}/${OH_BLOCKS} done"
  done
  perf_py overhead "${OH_WORK}" --variants "$(IFS=,; printf '%s' "${variants[*]}")" --blocks "${OH_BLOCKS}" \
    --setting "url=${PERF_TARGET_URL}${OH_PATH}" --setting "requests=${OH_REQUESTS}" \
    --setting "concurrency=${OH_CONCURRENCY}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  oh_main "$@"
fi
