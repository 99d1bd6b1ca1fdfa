#!/usr/bin/env bash
# make calibrate: the kit's own detection check, through the same path a user takes.
# Starts utils/servers/calibrated_server.py (latency we set), and per trial runs ./run-configurable.sh
# against it twice (A at the base delay, then B at the candidate delay), then
# `perfkit compare B --against A`. Reports the false-alarm rate (A/A) and the detection rate
# (A/B) per pair kind; perfkit calibrate (utils/perfkit/calibration/target.py) does the computing.
set -euo pipefail

PERF_PROG="calibrate.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly CAL_RUN_TIMEOUT=600   # seconds one run-configurable.sh or compare may take
readonly CAL_START_TIMEOUT=100 # tenths of a second the server may take to answer /health

cal_usage() {
  cat <<'EOF'
usage: utils/calibrate.sh [--trials N] [--kinds aa,10,20,30] [--rounds K] [--requests R]
                          [--concurrency C] [--warmup W] [--base-ms MS] [--port P]
                          [--output FILE] [--keep] [--quiet]

  --trials N        trials per pair kind (default 10)
  --kinds LIST      aa (A/A: base vs base) and slowdowns in percent (default aa,10,20,30)
  --rounds K        measured rounds per run (run-configurable.sh --iterations; default 5)
  --requests R      requests per round (default 200), --concurrency C (1..10, default 10)
  --warmup W        warm-up requests per run (default 20)
  --base-ms MS      the calibrated server's base delay (default 20)
  --port P          loopback port of the calibrated server (default 18080)
  --output FILE     JSON result (default results/calibration/calibration_<stamp>.json)
  --keep            keep the trials' run folders (their path is printed)
  --quiet           no progress on stderr

Exit: 0 done, 2 bad option, 3 missing tool or port taken, 4 a trial gave no verdict, 130 Ctrl+C.
EOF
}

cal_parse_args() {
  CAL_TRIALS=10 CAL_KINDS=aa,10,20,30 CAL_ROUNDS=5 CAL_REQUESTS=200 CAL_CONCURRENCY=10
  CAL_WARMUP=20 CAL_BASE_MS=20 CAL_PORT=18080 CAL_OUTPUT="" CAL_KEEP=0
  while (($#)); do
    case "$1" in
      --trials) CAL_TRIALS="$(perf_flag_value "$@")"; shift 2 ;;
      --kinds) CAL_KINDS="$(perf_flag_value "$@")"; shift 2 ;;
      --rounds) CAL_ROUNDS="$(perf_flag_value "$@")"; shift 2 ;;
      --requests) CAL_REQUESTS="$(perf_flag_value "$@")"; shift 2 ;;
      --concurrency) CAL_CONCURRENCY="$(perf_flag_value "$@")"; shift 2 ;;
      --warmup) CAL_WARMUP="$(perf_flag_value "$@")"; shift 2 ;;
      --base-ms) CAL_BASE_MS="$(perf_flag_value "$@")"; shift 2 ;;
      --port) CAL_PORT="$(perf_flag_value "$@")"; shift 2 ;;
      --output) CAL_OUTPUT="$(perf_flag_value "$@")"; shift 2 ;;
      --keep) CAL_KEEP=1; shift ;;
      --quiet) PERF_QUIET=1; shift ;;
      -h | --help) cal_usage; exit 0 ;;
      *) cal_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  local name var
  for name in trials rounds requests concurrency warmup base-ms port; do
    var="CAL_${name^^}"
    var="${var//-/_}"
    [[ "${!var}" =~ ^[0-9]+$ ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--${name} '${!var}' is not a whole number (see --help)"
  done
  ((CAL_CONCURRENCY >= 1 && CAL_CONCURRENCY <= 10)) ||
    perf_die "${PERF_EXIT_USAGE}" "--concurrency ${CAL_CONCURRENCY}: keep it modest, 1..10"
  ((CAL_PORT >= 1024 && CAL_PORT <= 65535 && CAL_PORT != 4444)) ||
    perf_die "${PERF_EXIT_USAGE}" "--port ${CAL_PORT}: choose a free port in 1024..65535 other than the gateway's 4444"
  ((CAL_BASE_MS >= 1)) || perf_die "${PERF_EXIT_USAGE}" "--base-ms must be 1 or more"
  [[ -n "${CAL_OUTPUT}" ]] ||
    CAL_OUTPUT="${PERF_KIT_ROOT}/results/calibration/calibration_$(date +%Y%m%d-%H%M%S).json"
  [[ ! -e "${CAL_OUTPUT}" ]] || perf_die "${PERF_EXIT_USAGE}" "--output ${CAL_OUTPUT} exists; choose another file"
  CAL_URL="http://127.0.0.1:${CAL_PORT}"
}

cal_cleanup() {
  perf_kill_children
  if [[ -n "${CAL_WORK:-}" && -d "${CAL_WORK}" ]]; then
    if [[ "${CAL_KEEP}" == 1 ]]; then
      perf_log "run folders kept in ${CAL_WORK}"
    else
      rm -rf "${CAL_WORK}"
    fi
  fi
}

cal_on_signal() {
  trap - INT TERM
  perf_warn "interrupted: stopping the calibrated server"
  cal_cleanup
  exit "${PERF_EXIT_INTERRUPTED}"
}

cal_answers() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${CAL_URL}/health" 2>/dev/null)" == 200 ]]
}

cal_start_server() {
  local waited=0
  ! cal_answers ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "something already answers on ${CAL_URL}; stop it or choose another --port"
  perf_spawn "${PERF_VENV}/bin/python" "${PERF_KIT_ROOT}/utils/servers/calibrated_server.py" \
    --port "${CAL_PORT}" --delay-ms "${CAL_BASE_MS}" 2>"${CAL_WORK}/server.log"
  CAL_SERVER_PID="${PERF_LAST_PID}"
  until cal_answers; do
    if ! kill -0 "${CAL_SERVER_PID}" 2>/dev/null || ((waited >= CAL_START_TIMEOUT)); then
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the calibrated server did not start on ${CAL_URL}: $(tail -n 1 "${CAL_WORK}/server.log")"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# cal_set_delay MS: change the server's latency; exit 3 if it does not take it.
cal_set_delay() {
  local status
  status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "${CAL_URL}/set?delay_ms=$1")" || true
  [[ "${status}" == 200 ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the calibrated server refused delay_ms=$1 (HTTP ${status}); see ${CAL_WORK}/server.log"
}

# cal_run DIR: one user-path run into DIR (PERF_RESULTS_DIR); prints the run folder. Only its
# verdict counts: it writes no report.
cal_run() {
  local dir="$1" args=(--endpoint "${CAL_URL}/delay" --no-auth --skip-checks --baseline skip
    --requests "${CAL_REQUESTS}" --concurrency "${CAL_CONCURRENCY}" --iterations "${CAL_ROUNDS}"
    --warmup "${CAL_WARMUP}" --quiet)
  mkdir -p "${dir}"
  GATEWAY_URL="" PERF_RESULTS_DIR="${dir}" PERF_GENERATE_REPORT=false timeout --foreground -k 10 "${CAL_RUN_TIMEOUT}" \
    "${PERF_KIT_ROOT}/run-configurable.sh" "${args[@]}" >"${dir}.log" 2>&1 || return $?
  (cd -P "${dir}/latest" && pwd)
}

# cal_trial KIND N BASE_MS CANDIDATE_MS: run A, run B, compare, record the verdict.
cal_trial() {
  local kind="$1" trial="$2" base="$3" cand="$4" dir="${CAL_WORK}/$1-$2" run_a="" run_b=""
  local started rc=0 record=()
  started="$(date +%s.%N)"
  cal_set_delay "${base}"
  run_a="$(cal_run "${dir}/a")" || record+=(--note "run A exited $?; see ${dir}/a.log")
  if ((${#record[@]} == 0)); then
    cal_set_delay "${cand}"
    run_b="$(cal_run "${dir}/b")" || record+=(--note "run B exited $?; see ${dir}/b.log")
  fi
  if ((${#record[@]} == 0)); then
    PYTHONPATH="${PERF_KIT_ROOT}/utils" timeout --foreground -k 10 "${CAL_RUN_TIMEOUT}" \
      "${PERF_VENV}/bin/python" -m perfkit compare "${run_b}" --against "${run_a}" \
      >"${dir}/compare.log" 2>&1 || rc=$?
    record+=(--compare-exit "${rc}")
  fi
  [[ "${PERF_QUIET}" != 1 ]] || record+=(--quiet)
  perf_py calibrate record "${CAL_WORK}/trials.jsonl" --kind "${kind}" --trial "${trial}" \
    --base-ms "${base}" --candidate-ms "${cand}" --run-a "${run_a}" --run-b "${run_b}" \
    --trial-started "${started}" --of "${CAL_TOTAL}" --started-at "${CAL_STARTED}" \
    "${record[@]}"
}

cal_main() {
  local kind trial base cand rc=0
  cal_parse_args "$@"
  perf_ensure_setup
  perf_require_tools
  CAL_STARTED="$(date +%s)"
  CAL_WORK="$(mktemp -d "${TMPDIR:-/tmp}/perfkit-calibrate.XXXXXX")"
  trap cal_cleanup EXIT
  trap cal_on_signal INT TERM
  perf_py calibrate plan --kinds "${CAL_KINDS}" --trials "${CAL_TRIALS}" --base-ms "${CAL_BASE_MS}" \
    >"${CAL_WORK}/plan.tsv"
  CAL_TOTAL="$(wc -l <"${CAL_WORK}/plan.tsv")"
  cal_start_server
  perf_log "calibrated server on ${CAL_URL} (pid ${CAL_SERVER_PID}); ${CAL_TOTAL} trials of ${CAL_ROUNDS} rounds x ${CAL_REQUESTS} requests at concurrency ${CAL_CONCURRENCY}"
  while IFS=$'\t' read -r -u 3 kind trial base cand; do
    cal_trial "${kind}" "${trial}" "${base}" "${cand}"
  done 3<"${CAL_WORK}/plan.tsv"
  perf_stop_group "${CAL_SERVER_PID}" 3
  perf_forget_pid "${CAL_SERVER_PID}"
  perf_py calibrate report "${CAL_WORK}/trials.jsonl" --kinds "${CAL_KINDS}" --base-ms "${CAL_BASE_MS}" \
    --output "${CAL_OUTPUT}" --started-at "${CAL_STARTED}" --rounds "${CAL_ROUNDS}" \
    --setting "rounds=${CAL_ROUNDS}" --setting "requests=${CAL_REQUESTS}" \
    --setting "concurrency=${CAL_CONCURRENCY}" --setting "warmup=${CAL_WARMUP}" \
    --setting "trials=${CAL_TRIALS}" --setting "port=${CAL_PORT}" || rc=$?
  # a trial without a verdict: keep its logs for whoever reads the error
  ((rc != PERF_EXIT_BENCHMARK_FAILED)) || CAL_KEEP=1
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cal_main "$@"
fi
