#!/usr/bin/env bash
# Users in teams for multi-user runs, made on demand through the gateway's admin API and
# removed again (perfkit workflows-people). The multi-user workflows on Locust that will use
# them are not built yet; today the users serve manual runs (MANUAL_TESTING.md: hey as a team
# member).
#
#   utils/workflows.sh people --users N [--teams T] [--prefix P] [--url URL]
#   utils/workflows.sh clean [--prefix P] [--dry-run] [--url URL]
#
#   people       T teams (default 2) and N users <P>_user_<n>@perfkit.example.com, each in a
#                team (every third in two), each logged in once: their tokens in
#                .state/workflows/<P>.tokens.json (mode 0600, never printed); what was made in
#                .state/workflows/<P>.ledger.jsonl, written as it is made
#   clean        removes what the ledger of prefix P records (memberships, teams, users), or -
#                with no ledger - the users <P>_user_* and teams <P>_team_* earlier runs left;
#                a user who was in a team is deactivated (the gateway cannot delete it)
#   --prefix P   default loadtest; --dry-run lists what clean would remove
#   --url URL    the gateway (default PERF_BASE_URL); logs in as the configured admin
#
# Exit: 0 done, 2 usage, 3 the gateway does not answer, the token is not an admin's, or the
# gateway refused (its message and the fix are printed), 130 interrupted (what was made is
# removed again).
set -euo pipefail

PERF_PROG="workflows.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

wf_usage() {
  sed -n '7,/^# Exit:/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

wf_parse_args() {
  WF_ACTION="${1:-}"
  [[ -n "${WF_ACTION}" ]] || { wf_usage >&2; exit "${PERF_EXIT_USAGE}"; }
  shift
  WF_USERS="" WF_TEAMS=2 WF_PREFIX=loadtest WF_DRY_RUN=0 WF_URL=""
  while (($#)); do
    case "$1" in
      --users | --teams | --prefix | --url)
        (($# > 1)) || perf_die "${PERF_EXIT_USAGE}" "option $1 needs a value"
        case "$1" in
          --users) WF_USERS="$2" ;;
          --teams) WF_TEAMS="$2" ;;
          --prefix) WF_PREFIX="$2" ;;
          --url) WF_URL="$2" ;;
        esac
        shift 2 ;;
      --dry-run) WF_DRY_RUN=1; shift ;;
      -h | --help) wf_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  case "${WF_ACTION}" in
    people) [[ -n "${WF_USERS}" ]] || perf_die "${PERF_EXIT_USAGE}" "people needs --users N" ;;
    clean) ;;
    -h | --help) wf_usage; exit 0 ;;
    *) perf_die "${PERF_EXIT_USAGE}" "unknown action '${WF_ACTION}': people or clean (see --help)" ;;
  esac
  [[ "${WF_PREFIX}" =~ ^[A-Za-z0-9-]{1,32}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--prefix '${WF_PREFIX}': letters, digits and '-' only, at most 32 characters"
}

wf_main() {
  local token dir ledger tokens rc=0
  wf_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${PERF_PROFILE:-light}"
  WF_URL="${WF_URL:-${PERF_BASE_URL}}"
  perf_gateway_answers "${WF_URL}" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "no gateway answers at ${WF_URL}; start one (make up) or pass --url"
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${WF_URL}" --print --no-verify)" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "could not log in at ${WF_URL} as the admin (above)"
  dir="${PERF_STATE_DIR}/workflows"
  ledger="${dir}/${WF_PREFIX}.ledger.jsonl"
  tokens="${dir}/${WF_PREFIX}.tokens.json"
  mkdir -p "${dir}"
  if [[ "${WF_ACTION}" == people ]]; then
    PERFKIT_TOKEN="${token}" perf_py workflows-people make --url "${WF_URL}" --users "${WF_USERS}" \
      --teams "${WF_TEAMS}" --prefix "${WF_PREFIX}" --ledger "${ledger}" --tokens "${tokens}" || rc=$?
    ((rc == 0)) && perf_log "tokens: ${tokens} (readable by you only); remove them all: utils/workflows.sh clean --prefix ${WF_PREFIX}"
    return "${rc}"
  fi
  local which=(--prefix "${WF_PREFIX}")
  [[ ! -s "${ledger}" ]] || which=(--ledger "${ledger}")
  ((!WF_DRY_RUN)) || which+=(--dry-run)
  PERFKIT_TOKEN="${token}" perf_py workflows-people clean --url "${WF_URL}" "${which[@]}" || rc=$?
  if ((rc == 0 && !WF_DRY_RUN)); then
    rm -f "${ledger}" "${tokens}"
  fi
  return "${rc}"
}

wf_main "$@"
