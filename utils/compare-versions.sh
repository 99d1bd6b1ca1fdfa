#!/usr/bin/env bash
# Version A/B: is gateway release B slower than release A? Both are installed from PyPI side by
# side (.state/gateways/<version>/venv), started on loopback with fresh SQLite databases, both
# registering the same benchmark MCP server(s); every test's rounds then alternate between
# them (ABBA...) on this machine, and the candidate gets the same verdict a baseline comparison
# gives. Both stacks are always stopped at the end, Ctrl+C included.
#
#   utils/compare-versions.sh --base VERSION --candidate VERSION [--profile NAME]
#                             [--scenarios LIST] [--iterations N]
set -euo pipefail

PERF_PROG="compare-versions.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly AB_BASE_PORT=4481
readonly AB_CANDIDATE_PORT=4482
readonly AB_SERVER_BASE_PORT=9800

ab_usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

# ab_stack SIDE VERSION PORT ACTION [SHARED]: drive the named stack of one side.
ab_stack() {
  local side="$1" version="$2" port="$3" action="$4" shared="${5:-0}"
  PERF_STACK_NAME="ab-${side}" GATEWAY_VERSION="${version}" PERF_GATEWAY_VERSION="${version}" \
    PERF_BASE_URL="http://127.0.0.1:${port}" PERF_SERVER_BASE_PORT="${AB_SERVER_BASE_PORT}" \
    PERF_STACK_SHARED_SERVERS="${shared}" "${PERF_KIT_ROOT}/utils/local-stack.sh" "${action}" --profile "${AB_PROFILE}"
}

ab_down() {
  trap - EXIT INT TERM
  ab_stack candidate "${AB_CANDIDATE}" "${AB_CANDIDATE_PORT}" down || true
  ab_stack base "${AB_BASE}" "${AB_BASE_PORT}" down || true
}

ab_main() {
  local run_args=() rc=0
  AB_BASE=""
  AB_CANDIDATE=""
  AB_PROFILE="${PERF_PROFILE:-light}"
  while (($#)); do
    case "$1" in
      --base) AB_BASE="$(perf_flag_value "$@")"; shift 2 ;;
      --candidate) AB_CANDIDATE="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) AB_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios | --iterations) run_args+=("$1" "$(perf_flag_value "$@")"); shift 2 ;;
      -h | --help) ab_usage; return 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -n "${AB_BASE}" && -n "${AB_CANDIDATE}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "name both releases: --base VERSION --candidate VERSION (e.g. make compare-versions BASE=1.0.6 CANDIDATE=1.0.7.post20260921)"
  perf_check_profile "${AB_PROFILE}"
  perf_ensure_setup
  perf_load_settings "${AB_PROFILE}"
  trap ab_down EXIT
  trap 'ab_down; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  # fresh databases: both gateways start from the same (empty) state
  rm -rf "${PERF_STATE_DIR}/ab-base/data" "${PERF_STATE_DIR}/ab-candidate/data"
  ab_stack base "${AB_BASE}" "${AB_BASE_PORT}" up
  ab_stack candidate "${AB_CANDIDATE}" "${AB_CANDIDATE_PORT}" up 1
  perf_log "base ${AB_BASE} at :${AB_BASE_PORT}, candidate ${AB_CANDIDATE} at :${AB_CANDIDATE_PORT}; rounds alternate"
  "${PERF_KIT_ROOT}/run-configurable.sh" --profile "${AB_PROFILE}" --baseline skip "${run_args[@]}" \
    --ab-base "http://127.0.0.1:${AB_BASE_PORT}" --ab-candidate "http://127.0.0.1:${AB_CANDIDATE_PORT}" || rc=$?
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ab_main "$@"
fi
