#!/usr/bin/env bash
# Check that everything a benchmark needs is up: one line per service, exit 3 naming the first
# failing one.
#
#   utils/check-services.sh [--url URL] [--profile NAME] [--servers N] [--version-out FILE]
#
# --version-out FILE keeps the answer of GET /version (slow: the gateway checks its
# dependencies) for a run that records it, so the run need not ask again.
set -euo pipefail

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

CHECK_FAILED=()

check_line() {
  local name="$1" ok="$2" detail="$3"
  if [[ "${ok}" == "0" ]]; then
    printf '  ok    %-12s %s\n' "${name}" "${detail}"
  else
    printf '  FAIL  %-12s %s\n' "${name}" "${detail}"
    CHECK_FAILED+=("${name}")
  fi
}

# check_json NAME PERFKIT_CHECK FILE [ARGS...]: judge a saved answer with perfkit services.
check_json() {
  local name="$1" check="$2" file="$3" detail rc=0
  shift 3
  detail="$(perf_py services "${check}" "${file}" "$@")" || rc=$?
  check_line "${name}" "${rc}" "${detail}"
}

# check_endpoint NAME URL CHECK BODY_FILE: GET URL into BODY_FILE and judge it.
check_endpoint() {
  local name="$1" url="$2" check="$3" body="$4" status
  status="$(perf_http_get "${url}" "${body}")"
  if [[ "${status}" == "000" ]]; then
    check_line "${name}" 1 "no answer from ${url}"
  else
    check_json "${name}" "${check}" "${body}"
  fi
}

check_redis() {
  local reply="" host port
  [[ "${PERF_REDIS_URL}" =~ ^redis://([^:/]+):([0-9]+) ]] || {
    check_line cache 1 "cannot read host:port from PERF_REDIS_URL=${PERF_REDIS_URL}"
    return
  }
  host="${BASH_REMATCH[1]}"
  port="${BASH_REMATCH[2]}"
  if exec 3<>"/dev/tcp/${host}/${port}" 2>/dev/null; then
    printf 'PING\r\n' >&3
    IFS= read -r -t 3 reply <&3 || true
    exec 3<&-
  fi
  if [[ "${reply}" == "+PONG"* ]]; then
    check_line cache 0 "redis ${host}:${port} answers PING"
  else
    check_line cache 1 "redis ${host}:${port} does not answer PING (start it, or set PERF_CACHE=memory)"
  fi
}

check_main() {
  local url="" profile="${PERF_PROFILE:-light}" servers="" body token gateways_json version version_out=""
  while (($#)); do
    case "$1" in
      --url) url="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) profile="$(perf_flag_value "$@")"; shift 2 ;;
      --servers) servers="$(perf_flag_value "$@")"; shift 2 ;;
      --version-out) version_out="$(perf_flag_value "$@")"; shift 2 ;;
      -h | --help) sed -n '2,9p' "$0"; return 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  perf_check_profile "${profile}"
  perf_ensure_setup
  perf_require_cmd curl "install it: apt-get install -y curl"
  perf_load_settings "${profile}"
  [[ -n "${url}" ]] || url="$(perf_target_url)"
  url="${url%/}"
  servers="${servers:-${PERF_SERVERS_COUNT}}"
  printf 'services at %s\n' "${url}"
  body="$(mktemp)"
  check_endpoint gateway "${url}/health" health "${body}"
  if ((${#CHECK_FAILED[@]})); then
    rm -f "${body}"
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "gateway not healthy at ${url}; start it with 'make up' or check --url / GATEWAY_URL"
  fi
  check_endpoint ready "${url}/ready" ready "${body}"
  check_json database database "${body}"
  rm -f "${body}"
  if [[ "${PERF_CACHE}" == "redis" ]]; then
    check_redis
  else
    check_line cache 0 "${PERF_CACHE} (no external cache to check)"
  fi
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${url}" --profile "${profile}" --print 2>/dev/null)" || {
    check_line auth 1 "could not log in; run utils/setup-auth.sh --url ${url} to see why"
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "failing: ${CHECK_FAILED[*]}"
  }
  check_line auth 0 "token for ${PERF_AUTH_EMAIL} accepted"
  body="$(mktemp)"
  if [[ "$(perf_http_get "${url}/version" "${body}" "${token}")" == 200 ]] && version="$(perf_py services version "${body}")"; then
    check_line version 0 "${version}"
    [[ -z "${version_out}" ]] || cp "${body}" "${version_out}"
  else
    check_line version 1 "GET /version gave no release number (is this a ContextForge gateway?)"
  fi
  rm -f "${body}"
  gateways_json="$(mktemp)"
  perf_http_get "${url}/gateways" "${gateways_json}" "${token}" >/dev/null
  check_json "mcp-servers" servers "${gateways_json}" --expected "${servers}"
  rm -f "${gateways_json}"
  if ((${#CHECK_FAILED[@]})); then
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "failing: ${CHECK_FAILED[*]}; see the lines above (make status, make up)"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  check_main "$@"
fi
