#!/usr/bin/env bash
# REST coverage: which of the gateway's operations the kit put under load, computed from the
# gateway's own OpenAPI document (GET /openapi.json, with the kit's token) against the requests
# run folders show the kit made (perfkit coverage: coverage per group and overall, the uncovered
# operations, the excluded ones with their reasons from config.yaml coverage.exclude).
#
#   utils/coverage.sh [--run DIR]... [--url URL] [--profile NAME] [--all] [--quiet]
#   make coverage [RUN=results/latest] [GATEWAY_URL=...]
#
# --run DIR: a run folder (repeatable: their requests count together); default the newest run,
#   results/latest. The document is kept beside the result: DIR/openapi.json, DIR/coverage.json;
#   the run's report.html, if it has one, is written again with a coverage section.
# --url URL: the gateway whose document is read (also GATEWAY_URL); by default the configured
#   one, and with service.manage auto the local stack is brought up for it (and taken down
#   again) when nothing answers - as make test does.
# --all: list every uncovered operation (default: the first 40; all of them are in the JSON).
# Exit: 0 done; 2 bad option or no run folder; 3 the document could not be had (no gateway, the
# token refused, the release does not serve /openapi.json) - never a coverage of 0% or 100% by
# default.
set -euo pipefail

PERF_PROG="coverage.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

coverage_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

coverage_parse_args() {
  COV_RUNS=() COV_URL="${GATEWAY_URL:-}" COV_PROFILE="${PERF_PROFILE:-light}" COV_ARGS=()
  while (($#)); do
    case "$1" in
      --run) COV_RUNS+=("$(perf_flag_value "$@")"); shift 2 ;;
      --url) COV_URL="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) COV_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --all) COV_ARGS+=(--all); shift ;;
      --quiet) COV_ARGS+=(--quiet); PERF_QUIET=1; shift ;;
      -h | --help) coverage_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  perf_check_profile "${COV_PROFILE}"
}

# coverage_runs: the run folders, checked before any gateway is touched.
coverage_runs() {
  local run
  if ((${#COV_RUNS[@]} == 0)); then
    [[ -e "${PERF_RESULTS_DIR}/latest" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "no run yet in ${PERF_RESULTS_DIR}: coverage counts what runs exercised - run the benchmarks first (make test), or name a run folder (RUN=... / --run DIR)"
    COV_RUNS=("$(readlink -f "${PERF_RESULTS_DIR}/latest")")
  fi
  for run in "${COV_RUNS[@]}"; do
    [[ -e "${run}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "no run folder at '${run}': coverage counts what runs exercised - run the benchmarks first (make test), or name a run folder (RUN=... / --run DIR)"
    [[ -f "${run}/plan.tsv" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "'${run}' is not a run folder (no plan.tsv); name one under ${PERF_RESULTS_DIR}"
  done
}

# coverage_fetch OUT: the gateway's /openapi.json into OUT, the token sent from a 0600 header
# file (never on a command line); exit 3 saying why when the document cannot be had.
coverage_fetch() {
  local out="$1" token headers status
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${PERF_TARGET_URL}" --profile "${COV_PROFILE}" --print)" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "no token for ${PERF_TARGET_URL} (see above); /openapi.json needs one"
  headers="$(umask 077 && mktemp)"
  printf 'Authorization: Bearer %s\n' "${token}" >"${headers}"
  status="$(curl -sS -o "${out}" -w '%{http_code}' --max-time 60 -H @"${headers}" "${PERF_TARGET_URL}/openapi.json" 2>/dev/null)" || status=000
  rm -f "${headers}"
  case "${status}" in
    200) ;;
    401 | 403) perf_die "${PERF_EXIT_ENV_NOT_READY}" "${PERF_TARGET_URL}/openapi.json refused the kit's token (HTTP ${status}): log in again (make auth) with a user allowed to read the API docs" ;;
    404) perf_die "${PERF_EXIT_ENV_NOT_READY}" "${PERF_TARGET_URL} does not serve /openapi.json (HTTP 404): an older release, or its API docs turned off; coverage is computed from that document, so it needs a gateway that serves it" ;;
    000) perf_die "${PERF_EXIT_ENV_NOT_READY}" "${PERF_TARGET_URL}/openapi.json did not answer within 60 s" ;;
    *) perf_die "${PERF_EXIT_ENV_NOT_READY}" "${PERF_TARGET_URL}/openapi.json answered HTTP ${status}: $(head -c 300 "${out}")" ;;
  esac
}

coverage_main() {
  local document rc=0
  coverage_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${COV_PROFILE}"
  coverage_runs
  trap 'perf_stop_started_stack; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  perf_resolve_target "${COV_URL}" "${COV_PROFILE}" "${PERF_SERVERS_COUNT}"
  document="${COV_RUNS[0]}/openapi.json"
  # in a subshell: a refusal exits it, and the stack this call started still goes down
  (coverage_fetch "${document}.part") || rc=$?
  perf_stop_started_stack
  if ((rc != 0)); then
    rm -f "${document}.part"
    exit "${rc}"
  fi
  mv -f "${document}.part" "${document}"
  perf_py coverage "${COV_RUNS[@]}" --openapi "${document}" --source "${PERF_TARGET_URL}/openapi.json" \
    --profile "${COV_PROFILE}" "${COV_ARGS[@]}"
  # the run's report gains its coverage section
  [[ ! -f "${COV_RUNS[0]}/report.html" ]] || perf_py report "${COV_RUNS[0]}" >/dev/null
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  coverage_main "$@"
fi
