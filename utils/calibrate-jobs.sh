#!/usr/bin/env bash
# make calibrate-jobs: the kit's verdicts across whole jobs on the real gateway, run as a CI
# would run them. Every job brings a local stack of its own up on a fresh database, runs the
# workload, takes the stack down and is judged:
#   stored  against a stored baseline (saved by job 0) and its run-to-run history; unchanged
#           jobs join the history as a CI's would (perfkit baseline record), slowed ones do not
#   ab      as an interleaved A/B of two gateways in one job (utils/compare-versions.sh)
# Kinds of job, alternating: aa (nothing changed), mcp+<ms>ms (--slow-ms: the benchmark MCP
# server slower by that much a call; stored mode only - the A/B sides share their servers) and
# gw:<NAME=VALUE,...> (--slow-setting, repeatable: the gateway started with settings that cost it
# time).
# perfkit calibrate-jobs (utils/perfkit/calibration/jobs.py) records the verdicts and reports
# the false-alarm and detection rates with their Wilson intervals; the A/B jobs are also judged
# again on fewer rounds and under the stopping rule (verdict quality against time).
set -euo pipefail

PERF_PROG="calibrate-jobs.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly CJ_PORT=4471
readonly CJ_SERVER_BASE_PORT=9471
readonly CJ_JOB_TIMEOUT=1800 # seconds one job may take

cj_usage() {
  cat <<'EOF'
usage: utils/calibrate-jobs.sh [--mode stored|ab|both] [--jobs N] [--slow-ms MS]
                               [--slow-setting NAME=VALUE]... [--profile NAME] [--scenarios LIST]
                               [--iterations K] [--requests R] [--concurrency C]
                               [--sequential] [--include RESULT]... [--output FILE] [--keep]
                               [--quiet]

  --mode M              stored (default), ab or both
  --jobs N              jobs of each kind (default 10); stored mode runs one more, the baseline
  --slow-ms MS          also jobs with the benchmark MCP server slower by MS a call (stored mode)
  --slow-setting N=V    also jobs whose gateway runs with this setting (a known cost); repeatable
  --profile NAME        the workload's profile (default light)
  --scenarios LIST      its scenarios (default tools,gateway-core)
  --iterations K, --requests R, --concurrency C   override the profile's
  --sequential          the jobs stop a test's rounds once settled (run-configurable.sh --sequential)
  --include RESULT      an earlier result of the same workload and machine: its jobs count too
                        (top up a calibration; a differing setting is exit 2)
  --output FILE         the JSON result (default results/calibration/jobs_<stamp>.json)
  --keep                keep the jobs' run folders and logs (their path is printed)
  --quiet               no progress on stderr

Exit: 0 done, 2 bad option, 3 missing tool or port taken, 4 a job gave no verdict, 130 Ctrl+C.
EOF
}

cj_parse_args() {
  CJ_MODE=stored CJ_JOBS=10 CJ_SLOW_MS="" CJ_SLOW_SETTINGS=() CJ_PROFILE=light
  CJ_SCENARIOS=tools,gateway-core CJ_OUTPUT="" CJ_KEEP=0 CJ_RUN_ENV=() CJ_INCLUDE=()
  while (($#)); do
    case "$1" in
      --mode) CJ_MODE="$(perf_flag_value "$@")"; shift 2 ;;
      --jobs) CJ_JOBS="$(perf_flag_value "$@")"; shift 2 ;;
      --slow-ms) CJ_SLOW_MS="$(perf_flag_value "$@")"; shift 2 ;;
      --slow-setting) CJ_SLOW_SETTINGS+=("$(perf_flag_value "$@")"); shift 2 ;;
      --profile) CJ_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios) CJ_SCENARIOS="$(perf_flag_value "$@")"; shift 2 ;;
      # through the environment, which beats the profile for run-configurable.sh and the A/B alike
      --iterations) CJ_RUN_ENV+=("PERF_ITERATIONS=$(perf_flag_value "$@")"); shift 2 ;;
      --requests) CJ_RUN_ENV+=("PERF_REQUESTS=$(perf_flag_value "$@")"); shift 2 ;;
      --concurrency) CJ_RUN_ENV+=("PERF_CONCURRENCY=$(perf_flag_value "$@")"); shift 2 ;;
      --sequential) CJ_RUN_ENV+=(PERF_SEQUENTIAL=true); shift ;;
      --include) CJ_INCLUDE+=(--include "$(perf_flag_value "$@")"); shift 2 ;;
      --output) CJ_OUTPUT="$(perf_flag_value "$@")"; shift 2 ;;
      --keep) CJ_KEEP=1; shift ;;
      --quiet) PERF_QUIET=1; shift ;;
      -h | --help) cj_usage; exit 0 ;;
      *) cj_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  case "${CJ_MODE}" in
    stored) CJ_MODES=(stored) ;;
    ab) CJ_MODES=(ab) ;;
    both) CJ_MODES=(stored ab) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--mode '${CJ_MODE}' is not one of: stored, ab, both" ;;
  esac
  [[ "${CJ_JOBS}" =~ ^[1-9][0-9]{0,2}$ && "${CJ_JOBS}" -le 200 ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--jobs '${CJ_JOBS}': give a whole number 1..200"
  [[ -z "${CJ_SLOW_MS}" || "${CJ_SLOW_MS}" =~ ^[1-9][0-9]*$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--slow-ms '${CJ_SLOW_MS}': give milliseconds, e.g. 150"
  local setting
  for setting in "${CJ_SLOW_SETTINGS[@]}"; do
    [[ "${setting}" =~ ^[A-Za-z_][A-Za-z0-9_]*=.*$ ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--slow-setting '${setting}': give NAME=VALUE, e.g. LOG_LEVEL=DEBUG"
  done
  CJ_SLOW_KIND=""
  ((${#CJ_SLOW_SETTINGS[@]} == 0)) || CJ_SLOW_KIND="gw:$(IFS=,; printf '%s' "${CJ_SLOW_SETTINGS[*]}")"
  perf_check_profile "${CJ_PROFILE}"
  [[ -n "${CJ_OUTPUT}" ]] ||
    CJ_OUTPUT="${PERF_KIT_ROOT}/results/calibration/jobs_$(date +%Y%m%d-%H%M%S).json"
  [[ ! -e "${CJ_OUTPUT}" ]] || perf_die "${PERF_EXIT_USAGE}" "--output ${CJ_OUTPUT} exists; choose another file"
  local i
  for ((i = 1; i < ${#CJ_INCLUDE[@]}; i += 2)); do
    [[ -f "${CJ_INCLUDE[i]}" ]] || perf_die "${PERF_EXIT_USAGE}" "--include ${CJ_INCLUDE[i]}: no such result file"
  done
}


# cj_stack ACTION [ENV...]: the calibration's own stack (fresh database at every up).
cj_stack() {
  local action="$1"
  shift
  env "$@" PERF_STACK_NAME=calibrate-jobs PERF_BASE_URL="http://127.0.0.1:${CJ_PORT}" \
    PERF_SERVER_BASE_PORT="${CJ_SERVER_BASE_PORT}" PERF_DB_STATE=fresh \
    PERF_TOKEN_CACHE="${CJ_WORK}/token.json" \
    "${PERF_KIT_ROOT}/utils/local-stack.sh" "${action}" --profile "${CJ_PROFILE}" >>"${CJ_WORK}/stack.log" 2>&1
}

# cj_stored_job KIND N [ENV...]: one stored-mode job - stack up (with ENV), the workload, stack
# down - then its verdict against the stored baseline (job 0 saves it instead).
cj_stored_job() {
  local kind="$1" job="$2" dir="${CJ_WORK}/stored-$1-$2" started rc=0 run="" note=""
  shift 2
  started="${SECONDS}"
  mkdir -p "${dir}"
  if perf_waited cj_stack up "$@"; then
    PERF_RESULTS_DIR="${dir}" PERF_BASELINES_DIR="${CJ_WORK}/baselines" PERF_TOKEN_CACHE="${CJ_WORK}/token.json" \
      perf_waited env "${CJ_RUN_ENV[@]}" timeout -k 10 "${CJ_JOB_TIMEOUT}" "${PERF_KIT_ROOT}/run-configurable.sh" \
      --url "http://127.0.0.1:${CJ_PORT}" --profile "${CJ_PROFILE}" --scenarios "${CJ_SCENARIOS}" \
      --baseline skip --skip-checks --quiet >"${dir}.log" 2>&1 || rc=$?
  else
    rc="${PERF_EXIT_ENV_NOT_READY}" note="the stack did not come up; see ${CJ_WORK}/stack.log"
  fi
  cj_stack down || true
  [[ -L "${dir}/latest" ]] && run="$(cd -P "${dir}/latest" && pwd)"
  if [[ -z "${run}" || "${rc}" -gt 1 ]]; then
    note="${note:-the run exited ${rc}; see ${dir}.log}"
  elif [[ "${kind}" == baseline ]]; then
    perf_py baseline save "${run}" --dir "${CJ_WORK}/baselines" --name calibration
    return 0
  else
    rc=0
    perf_py compare "${run}" --baseline "${CJ_WORK}/baselines/baseline_calibration.json" --quiet \
      >"${dir}/compare.log" 2>&1 || rc=$?
    # as a CI job would: an unchanged job joins the history; a deliberately slowed one does not
    [[ "${kind}" != aa ]] ||
      perf_py baseline record "${run}" --comparison "${run}/comparison.json" \
        --dir "${CJ_WORK}/baselines" --name calibration 2>>"${dir}/compare.log" || true
  fi
  cj_record stored "${kind}" "${job}" "${run}" "${rc}" "$((SECONDS - started))" "${note}"
}

# cj_ab_job KIND N [--candidate-set NAME=VALUE]: one interleaved A/B job of the release with
# itself (aa), or with the setting on the candidate side.
cj_ab_job() {
  local kind="$1" job="$2" dir="${CJ_WORK}/ab-$1-$2" started rc=0 run="" note=""
  shift 2
  started="${SECONDS}"
  mkdir -p "${dir}"
  PERF_RESULTS_DIR="${dir}" PERF_BASELINES_DIR="${CJ_WORK}/baselines" \
    perf_waited env "${CJ_RUN_ENV[@]}" timeout -k 10 "${CJ_JOB_TIMEOUT}" "${PERF_KIT_ROOT}/utils/compare-versions.sh" \
    --base "${PERF_GATEWAY_VERSION}" --candidate "${PERF_GATEWAY_VERSION}" --profile "${CJ_PROFILE}" \
    --scenarios "${CJ_SCENARIOS}" "$@" >"${dir}.log" 2>&1 || rc=$?
  [[ -L "${dir}/latest" ]] && run="$(cd -P "${dir}/latest" && pwd)"
  [[ -n "${run}" && "${rc}" -le 1 ]] || note="the job exited ${rc}; see ${dir}.log"
  cj_record ab "${kind}" "${job}" "${run}" "${rc}" "$((SECONDS - started))" "${note}"
}

cj_record() {
  local args=(--mode "$1" --kind "$2" --job "$3" --run "$4" --exit "$5" --seconds "$6")
  [[ -z "$7" ]] || args+=(--note "$7")
  [[ "${PERF_QUIET}" != 1 ]] || args+=(--quiet)
  perf_py calibrate-jobs record "${CJ_WORK}/trials.jsonl" "${args[@]}"
}

cj_slow_env_file() {
  (
    umask 077
    printf '%s\n' "${CJ_SLOW_SETTINGS[@]}" >"${CJ_WORK}/slow.env"
  )
}

cj_cleanup() {
  trap - EXIT
  perf_stop_waited
  [[ " ${CJ_MODES[*]} " != *" stored "* ]] || cj_stack down 2>/dev/null || true
  if [[ -n "${CJ_WORK:-}" && -d "${CJ_WORK}" ]]; then
    if [[ "${CJ_KEEP}" == 1 ]]; then
      perf_log "jobs kept in ${CJ_WORK}"
    else
      rm -rf "${CJ_WORK}"
    fi
  fi
}

cj_on_signal() {
  trap - INT TERM
  perf_warn "interrupted: taking the calibration's stack down"
  cj_cleanup
  exit "${PERF_EXIT_INTERRUPTED}"
}

cj_main() {
  local mode job rc=0
  cj_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${CJ_PROFILE}"
  perf_require_tools
  [[ " ${CJ_MODES[*]} " != *" stored "* ]] || ! perf_gateway_answers "http://127.0.0.1:${CJ_PORT}" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "something already answers at http://127.0.0.1:${CJ_PORT} (the calibration's own stack); stop it first"
  CJ_STARTED="$(date +%s)"
  CJ_WORK="$(mktemp -d "${TMPDIR:-/tmp}/perfkit-calibrate-jobs.XXXXXX")"
  trap cj_cleanup EXIT
  trap cj_on_signal INT TERM
  [[ -z "${CJ_SLOW_KIND}" ]] || cj_slow_env_file
  perf_log "${CJ_JOBS} job(s) of each kind, ${CJ_PROFILE} over ${CJ_SCENARIOS}, modes: ${CJ_MODES[*]}; work in ${CJ_WORK}"
  for mode in "${CJ_MODES[@]}"; do
    if [[ "${mode}" == stored ]]; then
      cj_stored_job baseline 0
      for ((job = 1; job <= CJ_JOBS; job++)); do
        cj_stored_job aa "${job}"
        [[ -z "${CJ_SLOW_MS}" ]] || cj_stored_job "mcp+${CJ_SLOW_MS}ms" "${job}" PERF_SERVER_DELAY_MS="${CJ_SLOW_MS}"
        [[ -z "${CJ_SLOW_KIND}" ]] || cj_stored_job "${CJ_SLOW_KIND}" "${job}" PERF_GATEWAY_ENV_FILE="${CJ_WORK}/slow.env"
      done
    else
      for ((job = 1; job <= CJ_JOBS; job++)); do
        cj_ab_job aa "${job}"
        [[ -z "${CJ_SLOW_KIND}" ]] || cj_ab_job "${CJ_SLOW_KIND}" "${job}" --candidate-env "${CJ_WORK}/slow.env"
      done
    fi
  done
  perf_py calibrate-jobs report "${CJ_WORK}/trials.jsonl" --output "${CJ_OUTPUT}" \
    --started-at "${CJ_STARTED}" --setting "profile=${CJ_PROFILE}" --setting "scenarios=${CJ_SCENARIOS}" \
    --setting "jobs=${CJ_JOBS}" --setting "slow_ms=${CJ_SLOW_MS}" --setting "slow_settings=${CJ_SLOW_SETTINGS[*]}" \
    --setting "overrides=${CJ_RUN_ENV[*]}" --setting "host=$(hostname)" "${CJ_INCLUDE[@]}" || rc=$?
  ((rc != PERF_EXIT_BENCHMARK_FAILED)) || CJ_KEEP=1
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cj_main "$@"
fi
