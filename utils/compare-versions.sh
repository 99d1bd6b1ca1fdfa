#!/usr/bin/env bash
# A/B of two gateway builds, or of one build with two sets of settings: is the candidate slower
# than the base? A side is a release on PyPI (1.0.7.post20260921), a wheel or sdist file, or a
# source checkout of the gateway, each installed into a venv of its own (.state/gateways/<key>/,
# keyed by the version or by a hash of the file's or folder's content), with its own settings
# on top of the local stack's (--base-env/--candidate-env: files of NAME=VALUE lines;
# --base-set/--candidate-set NAME=VALUE, repeatable, after the file's). Every name is checked
# against the release installed before anything starts. Both sides start on loopback with
# fresh SQLite databases, both registering the same benchmark MCP server(s); every test's rounds
# then alternate between them (ABBA...), and the candidate gets the same verdict a baseline
# comparison gives (--sequential: a test's rounds stop once they settle it). Both stacks are always stopped at the end, on failure and Ctrl+C too.
#
#   utils/compare-versions.sh --base BUILD [--candidate BUILD] [--base-env FILE]
#                             [--candidate-env FILE] [--base-set NAME=VALUE]...
#                             [--candidate-set NAME=VALUE]... [--profile NAME]
#                             [--scenarios LIST] [--tests GLOBS] [--iterations N] [--sequential]
#                             [--base-database DB] [--candidate-database DB] [--dataset NAME]
#                             [--strict-secrets]
#
# BUILD: a release version, a .whl / .tar.gz / .zip file, or a source folder. Without
# --candidate, the candidate is the base build (an A/B of settings, or of databases - then
# --base may go too: both sides run service.gateway_version. DB is
# sqlite or postgresql, default service.database; each side's database is made fresh, and
# --dataset writes the same dataset into both). Secrets belong in the files, not in --*-set
# (a command line is visible to every local user). --strict-secrets: the run refuses (exit 3) a
# side that issues no benchmark token (run-configurable.sh --strict-secrets).
set -euo pipefail

PERF_PROG="compare-versions.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly AB_SERVER_BASE_PORT=9800
readonly AB_SIDES=(base candidate)
declare -A AB_PORT=([base]=4481 [candidate]=4482)

ab_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

# ab_parse_args ARGS...: AB_SPEC, AB_FILES_<side>, AB_SETS_<side>, AB_PROFILE and AB_RUN_ARGS
# from the flags; exit 2 on a bad flag, a missing value or no base. No Python needed.
ab_parse_args() {
  local side
  declare -gA AB_SPEC=([base]="" [candidate]="")
  AB_FILES_base=()
  AB_FILES_candidate=()
  AB_SETS_base=()
  AB_SETS_candidate=()
  AB_PROFILE="${PERF_PROFILE:-light}"
  AB_RUN_ARGS=()
  AB_DATASET="${PERF_DATASET:-}"
  declare -gA AB_DB=([base]="" [candidate]="")
  while (($#)); do
    case "$1" in
      --base | --candidate) AB_SPEC[${1#--}]="$(perf_flag_value "$@")"; shift 2 ;;
      --base-env) AB_FILES_base+=("$(perf_flag_value "$@")"); shift 2 ;;
      --candidate-env) AB_FILES_candidate+=("$(perf_flag_value "$@")"); shift 2 ;;
      --base-set) AB_SETS_base+=("$(perf_flag_value "$@")"); shift 2 ;;
      --candidate-set) AB_SETS_candidate+=("$(perf_flag_value "$@")"); shift 2 ;;
      --base-database | --candidate-database)
        side="${1#--}"
        AB_DB[${side%-database}]="$(perf_flag_value "$@")"
        [[ "${AB_DB[${side%-database}]}" == sqlite || "${AB_DB[${side%-database}]}" == postgresql ]] ||
          perf_die "${PERF_EXIT_USAGE}" "$1 '${AB_DB[${side%-database}]}': expected sqlite or postgresql"
        shift 2 ;;
      --dataset) AB_DATASET="$(perf_flag_value "$@")"; AB_RUN_ARGS+=("$1" "${AB_DATASET}"); shift 2 ;;
      --profile) AB_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios | --iterations | --tests) AB_RUN_ARGS+=("$1" "$(perf_flag_value "$@")"); shift 2 ;;
      --sequential | --strict-secrets) AB_RUN_ARGS+=("$1"); shift ;;
      -h | --help) ab_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  [[ -n "${AB_SPEC[base]}" || "${AB_DB[base]}" != "${AB_DB[candidate]}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "name the base: --base BUILD (a release such as 1.0.7.post20260921, a wheel or sdist, or a source folder; make compare-versions BASE=...)"
  if [[ -z "${AB_SPEC[candidate]}" ]]; then
    ((${#AB_FILES_base[@]} + ${#AB_FILES_candidate[@]} + ${#AB_SETS_base[@]} + ${#AB_SETS_candidate[@]})) ||
      [[ "${AB_DB[base]}" != "${AB_DB[candidate]}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "name the candidate (--candidate BUILD), or give the sides different settings (--base-env/--candidate-env FILE, --base-set/--candidate-set NAME=VALUE) or databases (--base-database/--candidate-database) to compare the base build with itself"
    AB_SPEC[candidate]="${AB_SPEC[base]}" # "" when only the databases differ: filled in by ab_main
  fi
  perf_check_profile "${AB_PROFILE}"
}

# ab_describe SIDE: the side's build as perfkit gateway describe names it (exit 2 for a text
# that is no build, 3 for a path that is not one of the gateway): AB_KIND, AB_KEY, AB_LABEL,
# AB_PATH, AB_VENV.
# shellcheck disable=SC2153  # GW_* are set by the eval
ab_describe() {
  local side="$1" described
  described="$(perf_py gateway describe "${AB_SPEC[${side}]}" --state-dir "${PERF_STATE_DIR}")" || exit "$?"
  eval "${described}"
  AB_KIND[${side}]="${GW_KIND}"
  AB_KEY[${side}]="${GW_KEY}"
  AB_LABEL[${side}]="${GW_LABEL}"
  AB_PATH[${side}]="${GW_PATH}"
  AB_VENV[${side}]="${GW_VENV}"
}

# ab_settings_args SIDE: AB_SETTINGS_ARGS, the side's settings files and NAME=VALUE pairs as
# perfkit gateway settings takes them (none: no settings of its own).
ab_settings_args() {
  local files_of="AB_FILES_$1[@]" sets_of="AB_SETS_$1[@]" item
  AB_SETTINGS_ARGS=()
  for item in "${!files_of}"; do
    AB_SETTINGS_ARGS+=(--file "${item}")
  done
  for item in "${!sets_of}"; do
    AB_SETTINGS_ARGS+=(--set "${item}")
  done
}

# ab_read_settings SIDE: the side's settings read, nothing written (exit 2 naming FILE:LINE of a
# malformed line, or the file that cannot be read); AB_SHOWN[SIDE]: them, secrets masked.
ab_read_settings() {
  local side="$1" shown
  AB_SHOWN[${side}]=""
  ab_settings_args "${side}"
  ((${#AB_SETTINGS_ARGS[@]})) || return 0
  shown="$(perf_py gateway settings "${AB_SETTINGS_ARGS[@]}" "--set-flag=--${side}-set")" || exit "$?"
  AB_SHOWN[${side}]="${shown//$'\n'/ }"
}

# ab_check_settings SIDE: every name of the side's settings checked against the release
# installed for it (exit 2 naming an unknown one, where it came from and the release), then
# written, merged, to .state/ab-SIDE/settings.env (0600) for local-stack.sh
# (PERF_GATEWAY_ENV_FILE); AB_SETTINGS[SIDE] is that file, "" when the side has none.
ab_check_settings() {
  local side="$1"
  AB_SETTINGS[${side}]=""
  rm -f "${PERF_STATE_DIR}/ab-${side}/settings.env"
  ab_settings_args "${side}"
  ((${#AB_SETTINGS_ARGS[@]})) || return 0
  perf_py gateway settings "${AB_SETTINGS_ARGS[@]}" "--set-flag=--${side}-set" \
    --venv "${AB_VENV[${side}]}" --release "${AB_LABEL[${side}]}" \
    --output "${PERF_STATE_DIR}/ab-${side}/settings.env" >/dev/null || exit "$?"
  AB_SETTINGS[${side}]="${PERF_STATE_DIR}/ab-${side}/settings.env"
}

# ab_same_settings: true when both sides have the same settings (or none).
ab_same_settings() {
  [[ -z "${AB_SETTINGS[base]}${AB_SETTINGS[candidate]}" ]] && return 0
  [[ -n "${AB_SETTINGS[base]}" && -n "${AB_SETTINGS[candidate]}" ]] &&
    cmp -s "${AB_SETTINGS[base]}" "${AB_SETTINGS[candidate]}"
}

# ab_stack SIDE ACTION [SHARED]: drive the named stack of one side (utils/local-stack.sh).
ab_stack() {
  local side="$1" action="$2" shared="${3:-0}" version="${PERF_GATEWAY_VERSION}" source=""
  if [[ "${AB_KIND[${side}]:-release}" == release ]]; then
    version="${AB_SPEC[${side}]:-${version}}"
  else
    source="${AB_PATH[${side}]}"
  fi
  PERF_STACK_NAME="ab-${side}" GATEWAY_VERSION="${version}" PERF_GATEWAY_VERSION="${version}" \
    PERF_GATEWAY_SOURCE="${source}" PERF_GATEWAY_ENV_FILE="${AB_SETTINGS[${side}]:-}" \
    PERF_BASE_URL="http://127.0.0.1:${AB_PORT[${side}]}" PERF_SERVER_BASE_PORT="${AB_SERVER_BASE_PORT}" \
    PERF_DB_BACKEND="${AB_DB[${side}]:-${PERF_DB_BACKEND}}" PERF_DB_STATE=fresh PERF_DATASET="${AB_DATASET}" \
    PERF_STACK_SHARED_SERVERS="${shared}" "${PERF_KIT_ROOT}/utils/local-stack.sh" "${action}" --profile "${AB_PROFILE}"
}

# ab_down: stop both sides' stacks (what they run, by PID; nothing when nothing runs).
ab_down() {
  trap - EXIT INT TERM
  ab_stack candidate down || true
  ab_stack base down || true
}

# ab_side_text SIDE: how the progress lines name a side.
ab_side_text() {
  printf '%s %s at :%s on %s%s\n' "$1" "${AB_LABEL[$1]}" "${AB_PORT[$1]}" "${AB_DB[$1]:-${PERF_DB_BACKEND}}" \
    "${AB_SHOWN[$1]:+ with ${AB_SHOWN[$1]}}"
}

ab_main() {
  local rc=0 side
  declare -gA AB_KIND=() AB_KEY=() AB_LABEL=() AB_PATH=() AB_VENV=() AB_SETTINGS=() AB_SHOWN=()
  ab_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${AB_PROFILE}"
  # an A/B of databases alone runs the configured release on both sides
  AB_SPEC[base]="${AB_SPEC[base]:-${PERF_GATEWAY_VERSION}}"
  AB_SPEC[candidate]="${AB_SPEC[candidate]:-${AB_SPEC[base]}}"
  # what the arguments alone decide, before anything is installed: the builds, the settings' lines
  for side in "${AB_SIDES[@]}"; do
    ab_describe "${side}"
    ab_read_settings "${side}"
  done
  trap ab_down EXIT
  trap 'ab_down; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  # a stack an earlier run left behind (killed) would be reused with its own build and settings
  ab_stack candidate down >/dev/null 2>&1 || true
  ab_stack base down >/dev/null 2>&1 || true
  for side in "${AB_SIDES[@]}"; do
    ab_stack "${side}" install
  done
  # the names each release reads are known once it is installed: checked before anything starts
  for side in "${AB_SIDES[@]}"; do
    ab_check_settings "${side}"
  done
  if [[ "${AB_KEY[base]}" == "${AB_KEY[candidate]}" && "${AB_DB[base]:-${PERF_DB_BACKEND}}" == "${AB_DB[candidate]:-${PERF_DB_BACKEND}}" ]] && ab_same_settings; then
    perf_warn "both sides run ${AB_LABEL[base]} with the same settings: an A/A run"
  fi
  # fresh databases: both gateways start from the same (empty) state
  rm -rf "${PERF_STATE_DIR}/ab-base/data" "${PERF_STATE_DIR}/ab-candidate/data"
  ab_stack base up
  ab_stack candidate up 1
  perf_log "$(ab_side_text base); $(ab_side_text candidate); rounds alternate"
  "${PERF_KIT_ROOT}/run-configurable.sh" --profile "${AB_PROFILE}" --baseline skip "${AB_RUN_ARGS[@]}" \
    --ab-base "http://127.0.0.1:${AB_PORT[base]}" --ab-candidate "http://127.0.0.1:${AB_PORT[candidate]}" \
    --ab-base-record "${PERF_STATE_DIR}/ab-base/gateway.json" \
    --ab-candidate-record "${PERF_STATE_DIR}/ab-candidate/gateway.json" || rc=$?
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  ab_main "$@"
fi
