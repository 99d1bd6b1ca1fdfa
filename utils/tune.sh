#!/usr/bin/env bash
# make tune: the tuning advisor. Each candidate setting (config.yaml `tune.candidates`, or
# --candidate) is tried against the local stack's own settings in an interleaved A/B of its own
# (utils/compare-versions.sh: two gateways, rounds alternating, the kit's verdicts), then ranked
# by its measured effect; only settings measured better beyond noise are recommended, and when
# two or more are, they are measured once more together (gains do not simply add).
#
#   utils/tune.sh [--candidate NAME=VALUE[,NAME=VALUE...]]... [--profile NAME]
#                 [--scenarios LIST] [--tests GLOBS] [--iterations N] [--budget MINUTES]
#                 [--no-combination] [--write-env-example]
#
#   --candidate SPEC     a candidate instead of config.yaml's list; repeatable
#   --profile NAME       the workload's profile (default: tune.profile, light)
#   --scenarios LIST     its scenarios (default: tune.scenarios, tools,gateway-core,mcp)
#   --tests GLOBS        only these tests of them (run-configurable.sh --tests)
#   --iterations N       rounds a side (default: the profile's)
#   --budget MINUTES     stop starting A/Bs once the next would not fit (default: tune.budget_minutes)
#   --no-combination     do not measure the better settings together
#   --write-env-example  write .env.example (the kit's top level) from this sweep
#
# Results: results/tune_<stamp>/ - tune.json, tune.html, recommended.env and each candidate's A/B
# run folder; the ranked table on stdout. A candidate whose gateway does not start or answer is
# "broke the gateway" with its log's tail, and the sweep goes on. Ctrl+C stops every gateway the
# sweep started and keeps the partial results, labelled partial.
# Exit: 0 done, 2 bad option or a setting the release does not read, 3 missing tool or a port
# taken, 130 interrupted.
set -euo pipefail

PERF_PROG="tune.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly TUNE_AB_PORTS=(4481 4482)

tune_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

tune_parse_args() {
  TUNE_CANDIDATES=() TUNE_PROFILE="" TUNE_SCENARIOS="" TUNE_TESTS="" TUNE_ITERATIONS=""
  TUNE_BUDGET="" TUNE_COMBINE=1 TUNE_ENV_EXAMPLE=0
  while (($#)); do
    case "$1" in
      --candidate) TUNE_CANDIDATES+=(--candidate "$(perf_flag_value "$@")"); shift 2 ;;
      --profile) TUNE_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios) TUNE_SCENARIOS="$(perf_flag_value "$@")"; shift 2 ;;
      --tests) TUNE_TESTS="$(perf_flag_value "$@")"; shift 2 ;;
      --iterations) TUNE_ITERATIONS="$(perf_flag_value "$@")"; shift 2 ;;
      --budget) TUNE_BUDGET="$(perf_flag_value "$@")"; shift 2 ;;
      --no-combination) TUNE_COMBINE=0; shift ;;
      --write-env-example) TUNE_ENV_EXAMPLE=1; shift ;;
      -h | --help) tune_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -z "${TUNE_ITERATIONS}" || "${TUNE_ITERATIONS}" =~ ^[1-9][0-9]{0,2}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--iterations '${TUNE_ITERATIONS}': give a whole number of rounds, 1..999"
  [[ -z "${TUNE_BUDGET}" || "${TUNE_BUDGET}" =~ ^[0-9]+(\.[0-9]+)?$ && "${TUNE_BUDGET}" != 0 ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--budget '${TUNE_BUDGET}': give minutes, e.g. 90"
}

# tune_defaults: the workload from config.yaml's tune block where no flag set it.
tune_defaults() {
  local key value defaults
  defaults="$(perf_py tune defaults --config "${TUNE_CONFIG}")" || exit "$?"
  while IFS=$'\t' read -r key value; do
    case "${key}" in
      profile) TUNE_PROFILE="${TUNE_PROFILE:-${value}}" ;;
      scenarios) TUNE_SCENARIOS="${TUNE_SCENARIOS:-${value}}" ;;
      tests) TUNE_TESTS="${TUNE_TESTS:-${value}}" ;;
      budget_minutes) TUNE_BUDGET="${TUNE_BUDGET:-${value}}" ;;
    esac
  done <<<"${defaults}"
  TUNE_PROFILE="${TUNE_PROFILE:-light}"
  TUNE_SCENARIOS="${TUNE_SCENARIOS:-tools,gateway-core,mcp}"
  perf_check_profile "${TUNE_PROFILE}"
}

# tune_workload: TUNE_TEST_COUNT and TUNE_ROUNDS, what each A/B will run (no gateway needed).
tune_workload() {
  local args=(--profile "${TUNE_PROFILE}" --scenarios "${TUNE_SCENARIOS}" --list-tests)
  [[ -z "${TUNE_TESTS}" ]] || args+=(--tests "${TUNE_TESTS}")
  TUNE_TEST_COUNT="$("${PERF_KIT_ROOT}/run-configurable.sh" "${args[@]}" | tail -n +2 | wc -l)"
  ((TUNE_TEST_COUNT > 0)) || perf_die "${PERF_EXIT_USAGE}" "--tests '${TUNE_TESTS}' selects no test of ${TUNE_SCENARIOS}"
  TUNE_ROUNDS="${TUNE_ITERATIONS:-${PERF_ITERATIONS}}"
}

tune_ab_args() {
  TUNE_AB_ARGS=(--base "${PERF_GATEWAY_VERSION}" --profile "${TUNE_PROFILE}" --scenarios "${TUNE_SCENARIOS}")
  [[ -z "${TUNE_TESTS}" ]] || TUNE_AB_ARGS+=(--tests "${TUNE_TESTS}")
  [[ -z "${TUNE_ITERATIONS}" ]] || TUNE_AB_ARGS+=(--iterations "${TUNE_ITERATIONS}")
}

# tune_ab SLUG SETTINGS_FILE: one candidate's A/B, recorded (measured, broke, failed or
# interrupted); returns 130 when it was interrupted.
tune_ab() {
  local slug="$1" settings="$2" dir="${TUNE_DIR}/$1" started="${SECONDS}" rc=0 run="" status
  mkdir -p "${dir}"
  perf_log "[$((++TUNE_DONE))] ${slug}: A/B against the stack's own settings (log: ${dir}.log)"
  PERF_RESULTS_DIR="${dir}" perf_waited "${PERF_KIT_ROOT}/utils/compare-versions.sh" "${TUNE_AB_ARGS[@]}" \
    --candidate-env "${settings}" >"${dir}.log" 2>&1 || rc=$?
  [[ -L "${dir}/latest" ]] && run="$(cd -P "${dir}/latest/.." && pwd)"
  case "${rc}" in
    # 4: a test failed - on the candidate's side that is a verdict (worse), judged from the run
    0 | 1 | "${PERF_EXIT_BENCHMARK_FAILED}") status=measured ;;
    "${PERF_EXIT_INTERRUPTED}") status=interrupted ;;
    "${PERF_EXIT_ENV_NOT_READY}") status=broke ;;
    *) status=failed ;;
  esac
  # no run folder (or no comparison in it): the A/B failed before a verdict, its log says why
  [[ "${status}" != measured || -f "${run}/candidate/comparison.json" ]] || status=failed
  perf_py tune record "${TUNE_DIR}" --slug "${slug}" --status "${status}" --exit "${rc}" \
    --seconds "$((SECONDS - started))" --run "${run}" --log "${dir}.log" \
    --log "${PERF_STATE_DIR}/ab-candidate/logs/gateway.log" || true
  [[ "${status}" != interrupted ]] || return "${PERF_EXIT_INTERRUPTED}"
}

tune_report() {
  local args=(--stack-env "${PERF_STATE_DIR}/ab-base/gateway.env")
  [[ -z "${1:-}" ]] || args+=(--partial "$1")
  [[ "${TUNE_ENV_EXAMPLE}" != 1 ]] || args+=(--env-example "${PERF_KIT_ROOT}/.env.example")
  perf_py tune report "${TUNE_DIR}" "${args[@]}"
}

tune_on_signal() {
  trap - INT TERM
  perf_warn "interrupted: stopping the A/B's gateways"
  perf_stop_waited
  tune_interrupted
}

tune_interrupted() {
  TUNE_ENV_EXAMPLE=0 # a partial sweep never rewrites .env.example
  tune_report "interrupted (Ctrl+C) after ${TUNE_DONE} A/B(s); the rest were not measured" || true
  perf_log "partial results kept in ${TUNE_DIR}"
  exit "${PERF_EXIT_INTERRUPTED}"
}

tune_main() {
  local slug settings rc=0 port
  tune_parse_args "$@"
  perf_ensure_setup
  TUNE_CONFIG="${PERF_KIT_ROOT}/config.yaml"
  tune_defaults
  perf_load_settings "${TUNE_PROFILE}"
  perf_require_tools
  for port in "${TUNE_AB_PORTS[@]}"; do
    ! perf_gateway_answers "http://127.0.0.1:${port}" ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "something already answers at http://127.0.0.1:${port} (the A/B's ports); stop it first (an A/B running?)"
  done
  tune_workload
  tune_ab_args
  # the release is installed first: the candidates' names are checked against what it reads
  eval "$(perf_py gateway describe "${PERF_GATEWAY_VERSION}" --state-dir "${PERF_STATE_DIR}")"
  # shellcheck disable=SC2153  # GW_* come from the eval
  [[ -x "${GW_VENV}/bin/mcpgateway" ]] ||
    PERF_STACK_NAME=ab-base "${PERF_KIT_ROOT}/utils/local-stack.sh" install --profile "${TUNE_PROFILE}"
  TUNE_DIR="$(perf_make_fresh_dir "${PERF_RESULTS_DIR}/tune_$(date +%Y%m%d-%H%M%S)")"
  local plan_args=(--config "${TUNE_CONFIG}" --venv "${GW_VENV}"
    --release "${GW_LABEL}" --profile "${TUNE_PROFILE}" --scenarios "${TUNE_SCENARIOS}"
    --tests "${TUNE_TESTS}" --test-count "${TUNE_TEST_COUNT}" --rounds "${TUNE_ROUNDS}"
    --results "${PERF_RESULTS_DIR}" "${TUNE_CANDIDATES[@]}")
  [[ -z "${TUNE_BUDGET}" ]] || plan_args+=(--budget "${TUNE_BUDGET}")
  local plan
  plan="$(perf_py tune plan "${TUNE_DIR}" "${plan_args[@]}")" || { rc=$?; rm -rf "${TUNE_DIR}"; exit "${rc}"; }
  perf_log "sweep folder: ${TUNE_DIR}"
  TUNE_DONE=0
  trap tune_on_signal INT TERM
  while IFS=$'\t' read -r slug settings; do
    if ! perf_py tune fits "${TUNE_DIR}" --elapsed "${SECONDS}"; then
      break
    fi
    tune_ab "${slug}" "${settings}" || tune_interrupted
  done <<<"${plan}"
  if [[ "${TUNE_COMBINE}" == 1 ]] &&
    perf_py tune winners "${TUNE_DIR}" --output "${TUNE_DIR}/settings/combination.env" &&
    perf_py tune fits "${TUNE_DIR}" --elapsed "${SECONDS}"; then
    tune_ab combination "${TUNE_DIR}/settings/combination.env" || tune_interrupted
  fi
  trap - INT TERM
  tune_report || rc=$?
  perf_log "results: ${TUNE_DIR}/tune.html"
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  tune_main "$@"
fi
