#!/usr/bin/env bash
# Obtain a JWT for the gateway and cache it (mode 0600) until shortly before it expires.
#
#   utils/setup-auth.sh [--url URL] [--profile NAME] [--refresh] [--print] [--expiry]
#                       [--min-valid SECONDS] [--no-verify]
#   utils/setup-auth.sh [--url URL] --bench-token | --revoke-bench [--owner-pid PID]
#
# The gateway's auth endpoints allow only ~10 requests a minute and lock out repeat offenders,
# so the kit logs in once and reuses the token (one per gateway and account); a cached token is
# checked with an authenticated GET and replaced when the gateway no longer accepts it (e.g.
# restarted with a new secret).
set -euo pipefail

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

auth_usage() {
  cat <<'EOF'
usage: utils/setup-auth.sh [--url URL] [--profile NAME] [--refresh] [--print] [--expiry]
                           [--min-valid SECONDS] [--no-verify]
  --url URL          gateway to log in to (default: GATEWAY_URL, else service.base_url)
  --profile NAME     profile whose settings to use (default: light)
  --refresh          ignore the cached token and log in again
  --print            print the token on stdout (it is never printed otherwise)
  --expiry           say when the cached token expires, and exit
  --min-valid S      the token must stay valid this long (default: auth.refresh_margin_seconds;
                     never more than half the token's lifetime)
  --no-verify        trust a cached token without asking the gateway
  --bench-token      print a benchmark token instead of yours: a token of the kit's benchmark
                     user that may only list, read and call tools (README.md, "Secrets"), for
                     hey's command line; it is the process --owner-pid names' until revoked
  --revoke-bench     revoke the benchmark tokens issued to --owner-pid's process at the URL
  --owner-pid PID    the process a benchmark token belongs to (default: the caller, i.e. the
                     shell running this); when it has ended, the kit's next run revokes its token
Credentials: auth.email / auth.password in config.yaml, or PERF_AUTH_EMAIL / PERF_AUTH_PASSWORD.
EOF
}

# auth_token URL REFRESH MARGIN VERIFY: print a usable token on stdout (cached, verified, or fresh).
auth_token() {
  local url="$1" refresh="$2" margin="$3" verify="$4" token status body
  if [[ "${refresh}" == "0" ]] &&
    token="$(perf_py auth cached --cache "${PERF_TOKEN_CACHE}" --url "${url}" \
      --email "${PERF_AUTH_EMAIL}" --margin "${margin}")"; then
    [[ "${verify}" == 1 ]] || status=200
    # a cheap authenticated request (GET /version checks its dependencies and is slow)
    [[ "${verify}" == 0 ]] || status="$(perf_http_get "${url}/servers?limit=1" /dev/null "${token}")"
    if [[ "${status}" == "200" ]]; then
      printf '%s\n' "${token}"
      return 0
    fi
    perf_log "cached token refused by ${url} (HTTP ${status}); logging in again"
  fi
  body="$(mktemp)"
  status="$(perf_py auth body | curl -sS -o "${body}" -w '%{http_code}' --max-time 30 \
    -H 'Content-Type: application/json' --data-binary @- "${url}/auth/login" 2>/dev/null)" || true
  token="$(perf_py auth store --cache "${PERF_TOKEN_CACHE}" --url "${url}" --email "${PERF_AUTH_EMAIL}" \
    --status "${status:-000}" --body "${body}")" || {
    rm -f "${body}"
    exit "${PERF_EXIT_ENV_NOT_READY}"
  }
  rm -f "${body}"
  perf_log "logged in to ${url} as ${PERF_AUTH_EMAIL}; token cached in ${PERF_TOKEN_CACHE}"
  printf '%s\n' "${token}"
}

# auth_bench issue|revoke URL TOKEN OWNER_PID: a benchmark token for OWNER_PID printed (only the
# token; earlier processes' leftovers at URL revoked first), or OWNER_PID's revoked. TOKEN, the
# user's, goes to perfkit in the environment.
auth_bench() {
  local action="$1" url="$2" token="$3" owner="$4" out
  if [[ "${action}" == revoke ]]; then
    PERFKIT_TOKEN="${token}" perf_py bench-token revoke --url "${url}" --ledger "${PERF_BENCH_LEDGER}" \
      --owner-pid "${owner}" || exit
    perf_log "revoked the benchmark tokens of process ${owner} at ${url}"
    return 0
  fi
  kill -0 "${owner}" 2>/dev/null || perf_die "${PERF_EXIT_USAGE}" "--owner-pid ${owner}: no such process"
  PERFKIT_TOKEN="${token}" perf_py bench-token leftovers --url "${url}" --ledger "${PERF_BENCH_LEDGER}" ||
    perf_warn "the benchmark tokens earlier runs left at ${url} were not all revoked (see above); they expire within a day"
  out="$(PERFKIT_TOKEN="${token}" perf_py bench-token issue --url "${url}" --ledger "${PERF_BENCH_LEDGER}" \
    --owner-pid "${owner}" --run-dir manual)" || exit
  perf_log "a benchmark token for process ${owner} (reads and tool calls only); revoke it with: utils/setup-auth.sh --url ${url} --revoke-bench --owner-pid ${owner}"
  printf '%s\n' "${out%%$'\n'*}"
}

auth_main() {
  local url="" profile="${PERF_PROFILE:-light}" refresh=0 print=0 expiry=0 token margin="" verify=1
  local bench="" owner="${PPID}"
  while (($#)); do
    case "$1" in
      --url) url="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) profile="$(perf_flag_value "$@")"; shift 2 ;;
      --refresh) refresh=1; shift ;;
      --print) print=1; shift ;;
      --expiry) expiry=1; shift ;;
      --min-valid) margin="$(perf_flag_value "$@")"; shift 2 ;;
      --no-verify) verify=0; shift ;;
      --bench-token) bench=issue; shift ;;
      --revoke-bench) bench=revoke; shift ;;
      --owner-pid) owner="$(perf_flag_value "$@")"; shift 2 ;;
      -h | --help) auth_usage; return 0 ;;
      *) auth_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  [[ -z "${margin}" || "${margin}" =~ ^[0-9]+$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--min-valid '${margin}' is not a number of seconds"
  [[ "${owner}" =~ ^[1-9][0-9]*$ ]] || perf_die "${PERF_EXIT_USAGE}" "--owner-pid '${owner}' is not a process id"
  perf_check_profile "${profile}"
  perf_ensure_setup
  perf_require_cmd curl "install it: apt-get install -y curl"
  perf_load_settings "${profile}"
  [[ -n "${url}" ]] || url="$(perf_target_url)"
  url="${url%/}"
  if ((expiry)); then
    perf_py auth expiry --cache "${PERF_TOKEN_CACHE}" --url "${url}" --email "${PERF_AUTH_EMAIL}"
    return
  fi
  perf_gateway_answers "${url}" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "gateway at ${url} does not answer /health; start it (make up) or check --url"
  token="$(auth_token "${url}" "${refresh}" "${margin:-${PERF_TOKEN_REFRESH_MARGIN}}" "${verify}")"
  if [[ -n "${bench}" ]]; then
    auth_bench "${bench}" "${url}" "${token}" "${owner}"
  elif ((print)); then
    printf '%s\n' "${token}"
  else
    perf_py auth expiry --cache "${PERF_TOKEN_CACHE}" --url "${url}" --email "${PERF_AUTH_EMAIL}" >&2
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  auth_main "$@"
fi
