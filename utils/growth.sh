#!/usr/bin/env bash
# How cost grows with data: the same tests on a fresh local stack per dataset, smallest first,
# then each test's p50, p95 and req/s against the rows in the gateway's database, with the fitted
# growth in words (perfkit growth: growth.json, growth.html, the table on stdout).
#
#   utils/growth.sh [--datasets empty,tiny,small] [--profile NAME] [--scenarios LIST]
#                   [--tests GLOBS] [--database sqlite|postgresql]
#   make growth DATASETS=empty,tiny,small [PROFILE= SCENARIOS= TESTS= DATABASE=]
#
# --datasets: `empty` (the gateway's own fresh database) and names of datasets/*.yaml (make
#   datasets), in the order given - smallest first (default empty,tiny,small).
# --scenarios: default tools,database - the REST tool lists at every list limit and the tool
#   calls over HTTP, and the database scenario's direct reads (its pool analysis off here).
# Each dataset runs on a local stack of its own (named growth: gateway :4477, MCP servers
# :9650...) started fresh with that dataset and taken down after; the runs skip baselines.
# Results: results/growth_<stamp>/ beside the runs. Exit 0 when every run measured; a run that
# could not start stops it (its exit code), Ctrl+C stops it (130) with the stack taken down.
set -euo pipefail

PERF_PROG="growth.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly GROWTH_STACK=growth
readonly GROWTH_URL=http://127.0.0.1:4477
readonly GROWTH_SERVER_BASE_PORT=9650

growth_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

# growth_known: ", tiny, small, ..." - the datasets/*.yaml there are.
growth_known() {
  local file
  for file in "${PERF_KIT_ROOT}"/datasets/*.yaml; do
    [[ -f "${file}" ]] && printf ', %s' "$(basename "${file}" .yaml)"
  done
}

growth_parse_args() {
  GROWTH_DATASETS=empty,tiny,small
  GROWTH_PROFILE="${PERF_PROFILE:-light}"
  GROWTH_SCENARIOS=tools,database
  GROWTH_ARGS=()
  GROWTH_DB=""
  while (($#)); do
    case "$1" in
      --datasets) GROWTH_DATASETS="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) GROWTH_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios) GROWTH_SCENARIOS="$(perf_flag_value "$@")"; shift 2 ;;
      --tests) GROWTH_ARGS+=(--tests "$(perf_flag_value "$@")"); shift 2 ;;
      --database) GROWTH_DB="$(perf_flag_value "$@")"; shift 2 ;;
      -h | --help) growth_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  perf_check_profile "${GROWTH_PROFILE}"
  case "${GROWTH_DB}" in
    "" | sqlite | postgresql) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--database '${GROWTH_DB}': expected sqlite or postgresql" ;;
  esac
  IFS=, read -ra GROWTH_LIST <<<"${GROWTH_DATASETS}"
  ((${#GROWTH_LIST[@]} >= 2)) ||
    perf_die "${PERF_EXIT_USAGE}" "--datasets '${GROWTH_DATASETS}': name at least two, smallest first (e.g. empty,tiny,small)"
  local name seen=" "
  for name in "${GROWTH_LIST[@]}"; do
    [[ "${name}" == empty || -f "${PERF_KIT_ROOT}/datasets/${name}.yaml" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--datasets: '${name}' is neither empty nor a dataset (have: empty$(growth_known))"
    [[ "${seen}" != *" ${name} "* ]] || perf_die "${PERF_EXIT_USAGE}" "--datasets: '${name}' named twice"
    seen+="${name} "
  done
}

# growth_env: the environment of the growth stack and its runs.
growth_env() {
  unset GATEWAY_URL
  export PERF_STACK_NAME="${GROWTH_STACK}" PERF_BASE_URL="${GROWTH_URL}"
  export PERF_SERVER_BASE_PORT="${GROWTH_SERVER_BASE_PORT}" PERF_MANAGE=always PERF_DB_STATE=fresh
  export PERF_DB_POOL_LEVELS=off
  [[ -z "${GROWTH_DB}" ]] || export PERF_DB_BACKEND="${GROWTH_DB}"
}

growth_down() {
  "${PERF_KIT_ROOT}/utils/local-stack.sh" down >/dev/null 2>&1 || true
}

growth_main() {
  local name rc runs=() out results
  growth_parse_args "$@"
  perf_ensure_setup
  growth_env
  results="$(perf_load_settings "${GROWTH_PROFILE}" && printf '%s\n' "${PERF_RESULTS_DIR}")" || exit "$?"
  trap 'growth_down; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  growth_down # a growth stack an earlier, killed run left behind
  for name in "${GROWTH_LIST[@]}"; do
    perf_log "dataset ${name}: a fresh local stack (${GROWTH_URL}), ${GROWTH_PROFILE} profile, scenarios ${GROWTH_SCENARIOS}"
    rc=0
    PERF_DATASET="$([[ "${name}" == empty ]] || printf '%s' "${name}")" \
      "${PERF_KIT_ROOT}/run-configurable.sh" --profile "${GROWTH_PROFILE}" --scenarios "${GROWTH_SCENARIOS}" \
      --baseline skip "${GROWTH_ARGS[@]}" || rc=$?
    growth_down
    case "${rc}" in
      0 | "${PERF_EXIT_REGRESSION}" | "${PERF_EXIT_BENCHMARK_FAILED}") ;;
      *) perf_die "${rc}" "the run on dataset ${name} stopped (exit ${rc}; see above); the runs so far stay in ${results}" ;;
    esac
    runs+=("$(readlink -f "${results}/latest")")
  done
  out="$(perf_make_fresh_dir "${results}/growth_$(date -u +%Y%m%d-%H%M%S)")"
  perf_py growth "${out}" "${runs[@]}"
  perf_log "results: ${out}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  growth_main "$@"
fi
