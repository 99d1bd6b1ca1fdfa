#!/usr/bin/env bash
# The kit's shared shell library: messages, exit codes (and the rule combining them), arguments
# and profiles, setup and the Python CLI, process tracking, run folders, HTTP, the target of a
# run, settings, scenario scripts. Sourced by the three runners (through utils/lib/bench-lib.sh for
# run-configurable.sh) and utils/*.sh.
# Bash drives (flags, processes, curl, hey); everything that parses or computes is perfkit.

# Exit codes: mirrors utils/perfkit/exitcodes.py (tests/bats/lib.bats checks they agree).
# shellcheck disable=SC2034  # used by the scripts that source this library
readonly PERF_EXIT_OK=0
readonly PERF_EXIT_REGRESSION=1
readonly PERF_EXIT_USAGE=2
readonly PERF_EXIT_ENV_NOT_READY=3
readonly PERF_EXIT_BENCHMARK_FAILED=4
readonly PERF_EXIT_INTERRUPTED=130

PERF_KIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly PERF_KIT_ROOT
readonly PERF_STATE_DIR="${PERF_KIT_ROOT}/.state"
readonly PERF_VENV="${PERF_STATE_DIR}/venv"
# the benchmark tokens issued and not yet revoked (perfkit bench-token; README.md, "Secrets")
readonly PERF_BENCH_LEDGER="${PERF_STATE_DIR}/auth/bench-tokens.json"

PERF_PROG="${PERF_PROG:-$(basename "$0")}"
PERF_QUIET="${PERF_QUIET:-0}"
PERF_CHILD_PIDS=()

# --- messages -------------------------------------------------------------------------------

perf_log() {
  [[ "${PERF_QUIET}" == "1" ]] || printf '%s: %s\n' "${PERF_PROG}" "$*" >&2
}

perf_warn() {
  printf '%s: warning: %s\n' "${PERF_PROG}" "$*" >&2
}

perf_error() {
  printf '%s: error: %s\n' "${PERF_PROG}" "$*" >&2
}

# perf_die CODE MESSAGE...: print an error naming the problem and the fix, exit with CODE.
perf_die() {
  local code="$1"
  shift
  perf_error "$*"
  exit "${code}"
}

# --- arguments ------------------------------------------------------------------------------

# perf_flag_value FLAG VALUE...: print the flag's value, or exit 2 when it is missing.
# Use as: x="$(perf_flag_value "$@")"; shift 2
perf_flag_value() {
  [[ $# -ge 2 && "$2" != --* ]] || perf_die "${PERF_EXIT_USAGE}" "option $1 needs a value (see --help)"
  printf '%s\n' "$2"
}

# perf_check_profile NAME: exit 2 unless profiles/NAME.env exists, worded as perfkit config
# words it. It needs no Python, so a runner checks it with its other flags, before any setup;
# perfkit config checks the profile's contents later.
perf_check_profile() {
  local name="$1" file have="" LC_ALL=C # the order Python's sorted() gives
  local pattern='^[A-Za-z0-9][A-Za-z0-9._+-]*$'
  [[ "${name}" =~ ${pattern} && -f "${PERF_KIT_ROOT}/profiles/${name}.env" ]] && return 0
  for file in "${PERF_KIT_ROOT}"/profiles/*.env; do
    [[ -f "${file}" ]] || continue
    file="$(basename "${file}" .env)"
    have="${have:+${have}, }${file}"
  done
  perf_die "${PERF_EXIT_USAGE}" "profile '${name}' not found (have: ${have:-none})"
}

# --- tools ----------------------------------------------------------------------------------

# perf_ensure_setup: what `make setup` does, done here when needed, so that every entry point
# works as the first command on a fresh clone: utils/setup.sh installs the missing OS tools (as
# root; otherwise it names the apt-get line) and the Python venv, and does nothing when both
# are there. Call it once the arguments are checked, before anything that needs the venv.
perf_ensure_setup() {
  PERF_QUIET="${PERF_QUIET}" "${PERF_KIT_ROOT}/utils/setup.sh" >&2 || exit "$?"
}

# perf_py ARGS...: run the kit's Python CLI from its venv.
perf_py() {
  PYTHONPATH="${PERF_KIT_ROOT}/utils${PYTHONPATH:+:${PYTHONPATH}}" "${PERF_VENV}/bin/python" -m perfkit "$@"
}

# --- combining exit codes -------------------------------------------------------------------
# The one rule (README.md, "Exit codes") is perfkit.exitcodes; these ask it.

# perf_worst_code CODE...: print the code that says most of several steps' codes (none: 0).
perf_worst_code() {
  perf_py exit-codes worst "$@"
}

# perf_code_stops CODE: true when a step ending with CODE stops a sequence of steps.
perf_code_stops() {
  perf_py exit-codes stops "$1"
}

# perf_code_meaning CODE: print what CODE means.
perf_code_meaning() {
  perf_py exit-codes meaning "$1"
}

perf_require_venv() {
  [[ -x "${PERF_VENV}/bin/python" ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the kit's Python environment is missing (${PERF_VENV}); run: make setup"
}

# perf_require_cmd NAME HINT: exit 3 naming the missing tool and how to install it.
perf_require_cmd() {
  command -v "$1" >/dev/null 2>&1 || perf_die "${PERF_EXIT_ENV_NOT_READY}" "'$1' not found on PATH; $2"
}

perf_require_tools() {
  perf_require_venv
  perf_require_cmd curl "install it: apt-get install -y curl"
  perf_require_cmd "${PERF_HEY_BIN:-hey}" "install it: apt-get install -y hey (or set performance.hey_binary / PERF_HEY_BIN)"
  [[ -x /usr/bin/time ]] || perf_die "${PERF_EXIT_ENV_NOT_READY}" "GNU time (/usr/bin/time) not found; install it: apt-get install -y time"
}

# --- processes ------------------------------------------------------------------------------

# perf_spawn CMD...: start CMD in its own process group (setsid), remember it; sets PERF_LAST_PID.
perf_spawn() {
  setsid "$@" &
  PERF_LAST_PID=$!
  PERF_CHILD_PIDS+=("${PERF_LAST_PID}")
}

# perf_stop_group PID [GRACE_SECONDS]: TERM the process group led by PID, KILL it after the grace.
perf_stop_group() {
  local pid="$1" grace="${2:-5}" waited=0
  kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || return 0
  while kill -0 -- "-${pid}" 2>/dev/null && ((waited < grace * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL -- "-${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
}

# perf_stop_groups GRACE_SECONDS PID...: perf_stop_group for several groups at once - all TERMed
# together, then waited for together (a stack's gateway and its MCP servers each take 1-2 s to
# shut down; one after the other that added up on every stack down).
perf_stop_groups() {
  local grace="$1" waited=0 pid alive
  shift
  for pid in "$@"; do
    kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "${pid}" 2>/dev/null || true
  done
  while ((waited < grace * 10)); do
    alive=0
    for pid in "$@"; do
      ! kill -0 -- "-${pid}" 2>/dev/null || alive=1
    done
    ((alive)) || break
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in "$@"; do
    kill -KILL -- "-${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
}

perf_kill_children() {
  local pid
  for pid in "${PERF_CHILD_PIDS[@]}"; do
    perf_stop_group "${pid}" 3
  done
  PERF_CHILD_PIDS=()
}

# perf_waited CMD...: run CMD in the background and wait for it, so that a signal reaches the
# calling script at once (a foreground child would delay its trap until the child ends); the
# trap stops the child with perf_stop_waited. Returns CMD's exit code.
perf_waited() {
  local rc=0
  "$@" &
  PERF_WAITED_PID=$!
  wait "${PERF_WAITED_PID}" || rc=$?
  PERF_WAITED_PID=""
  return "${rc}"
}

# perf_stop_waited: TERM the child perf_waited waits for, if any, and wait for its own clean-up.
perf_stop_waited() {
  [[ -n "${PERF_WAITED_PID:-}" ]] || return 0
  kill -TERM "${PERF_WAITED_PID}" 2>/dev/null || true
  wait "${PERF_WAITED_PID}" 2>/dev/null || true
  PERF_WAITED_PID=""
}

# perf_forget_pid PID: drop a finished child from the tracked list.
perf_forget_pid() {
  local pid keep=()
  for pid in "${PERF_CHILD_PIDS[@]}"; do
    [[ "${pid}" == "$1" ]] || keep+=("${pid}")
  done
  PERF_CHILD_PIDS=("${keep[@]}")
}

# --- folders ------------------------------------------------------------------------------

# perf_make_fresh_dir BASE: create the folder BASE, or BASE-2, BASE-3, ... when it exists (mkdir
# claims a name atomically: two runs started in the same second get two folders); print it.
perf_make_fresh_dir() {
  local dir="$1" n=1
  mkdir -p "$(dirname "$1")"
  until mkdir "${dir}" 2>/dev/null; do
    [[ -e "${dir}" ]] || perf_die "${PERF_EXIT_ENV_NOT_READY}" "cannot create the folder ${dir}; check the permissions of $(dirname "$1")"
    n=$((n + 1))
    dir="$1-${n}"
  done
  printf '%s\n' "${dir}"
}

# --- HTTP -----------------------------------------------------------------------------------

# perf_curl TOKEN CURL_ARGS...: curl, with "Authorization: Bearer TOKEN" when TOKEN is not
# empty - read from a pipe (curl -H @FILE), never from curl's command line, which every local
# user can read (ps, /proc/PID/cmdline). printf is bash's own: no process ever holds the token
# in its arguments. Returns curl's exit code.
perf_curl() {
  local token="$1"
  shift
  if [[ -z "${token}" ]]; then
    curl "$@"
  else
    curl -H @<(printf 'Authorization: Bearer %s\n' "${token}") "$@"
  fi
}

# perf_http_get URL OUT_BODY [TOKEN]: GET with a short timeout; prints the HTTP status (000 if none).
perf_http_get() {
  local url="$1" out="$2" token="${3:-}"
  perf_curl "${token}" -sS -o "${out}" -w '%{http_code}' --max-time 10 "${url}" 2>/dev/null ||
    { [[ -s "${out}" ]] || : >"${out}"; }
}

# perf_gateway_answers URL: true when URL/health answers 200.
perf_gateway_answers() {
  local status
  status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1/health" 2>/dev/null)" || true
  [[ "${status}" == "200" ]]
}

# perf_is_loopback_url URL: the kit only generates load against 127.0.0.0/8, localhost or [::1].
perf_is_loopback_url() {
  [[ "$1" =~ ^https?://(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])(:[0-9]+)?(/.*)?$ ]]
}

# perf_check_loopback URL: exit 2 unless URL is on loopback or PERF_ALLOW_REMOTE=1.
perf_check_loopback() {
  perf_is_loopback_url "$1" || [[ "${PERF_ALLOW_REMOTE:-0}" == 1 ]] ||
    perf_die "${PERF_EXIT_USAGE}" "target $1 is not on loopback; load against another host must be deliberate: set PERF_ALLOW_REMOTE=1"
}

# --- the target -----------------------------------------------------------------------------

# perf_resolve_target URL PROFILE SERVERS [--endpoint ENDPOINT]: where the load goes (README.md,
# "What runs where"); sets PERF_TARGET_URL, and PERF_STARTED_STACK=1 when this run brings up the
# local stack (perf_stop_started_stack takes it down again, and nothing else). URL is the target
# named by --url or GATEWAY_URL, or empty: a named target must answer /health (with --endpoint,
# ENDPOINT, when not empty, must answer at all), else exit 3. With none named, service.manage (PERF_MANAGE)
# decides between the gateway answering at service.base_url (PERF_BASE_URL) and the local stack,
# brought up for PROFILE with SERVERS MCP servers. Load only goes to loopback (perf_check_loopback).
perf_resolve_target() {
  local url="$1" profile="$2" servers="$3" endpoint=""
  [[ "${4:-}" != --endpoint ]] || endpoint="$5"
  PERF_STARTED_STACK=0
  if [[ -n "${url}" ]]; then
    PERF_TARGET_URL="${url%/}"
    perf_check_loopback "${PERF_TARGET_URL}"
    if [[ -n "${endpoint}" ]]; then
      [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${endpoint}" 2>/dev/null)" != 000 ]] ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "${endpoint} does not answer; is the service running?"
    else
      perf_gateway_answers "${PERF_TARGET_URL}" ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "the gateway named as target (${PERF_TARGET_URL}) does not answer ${PERF_TARGET_URL}/health; start it or fix --url / GATEWAY_URL"
    fi
    return 0
  fi
  PERF_TARGET_URL="${PERF_BASE_URL%/}"
  perf_check_loopback "${PERF_TARGET_URL}"
  case "${PERF_MANAGE}" in
    never)
      perf_gateway_answers "${PERF_TARGET_URL}" ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "no gateway answers at ${PERF_TARGET_URL} and service.manage is 'never'; start one (make up) or set PERF_MANAGE=auto"
      ;;
    auto)
      if perf_gateway_answers "${PERF_TARGET_URL}"; then
        perf_log "using the gateway answering at ${PERF_TARGET_URL}"
        return 0
      fi
      perf_start_stack "${profile}" "${servers}"
      ;;
    always) perf_start_stack "${profile}" "${servers}" ;;
  esac
}

# perf_check_dataset: with service.dataset (PERF_DATASET), the target must be the kit's local
# stack holding that dataset (written by its `up`, or by make populate): exit 2 for another
# gateway, 3 for a running stack that holds another (or none).
perf_check_dataset() {
  local held
  [[ -n "${PERF_DATASET:-}" ]] || return 0
  [[ -n "$("${PERF_KIT_ROOT}/utils/local-stack.sh" database --url "${PERF_TARGET_URL}" 2>/dev/null)" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--dataset ${PERF_DATASET} is written into the kit's local stack, and ${PERF_TARGET_URL} is not it; drop --dataset, or stop that gateway so the run starts the local stack"
  held="$("${PERF_KIT_ROOT}/utils/local-stack.sh" dataset --url "${PERF_TARGET_URL}")"
  [[ "${held}" == "${PERF_DATASET}" ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the running local stack holds dataset '${held:-none}', not '${PERF_DATASET}'; take it down (make down) and the run starts it with ${PERF_DATASET}, or write it: make populate DATASET=${PERF_DATASET}"
}

# perf_start_stack PROFILE SERVERS: bring up the local stack (a no-op for what already runs);
# PERF_STARTED_STACK=1 unless its gateway was running before.
perf_start_stack() {
  "${PERF_KIT_ROOT}/utils/local-stack.sh" running || PERF_STARTED_STACK=1
  "${PERF_KIT_ROOT}/utils/local-stack.sh" up --profile "$1" --servers "$2"
}

# perf_stop_started_stack: take down the local stack if perf_resolve_target brought it up.
perf_stop_started_stack() {
  [[ "${PERF_STARTED_STACK:-0}" == 1 ]] || return 0
  PERF_STARTED_STACK=0
  perf_log "taking down the local stack this run started"
  "${PERF_KIT_ROOT}/utils/local-stack.sh" down || true
}

# --- settings -------------------------------------------------------------------------------

# perf_load_settings PROFILE [--set NAME=VALUE ...]: resolve and export every PERF_* setting.
perf_load_settings() {
  local profile="$1" exports
  shift
  perf_require_venv
  exports="$(perf_py config --kit-root "${PERF_KIT_ROOT}" --profile "${profile}" "$@" --format shell)" ||
    exit "${PERF_EXIT_USAGE}"
  eval "${exports}"
}

# perf_target_url: the explicit target (GATEWAY_URL) or the configured base URL, without a trailing /.
perf_target_url() {
  local url="${GATEWAY_URL:-${PERF_BASE_URL}}"
  printf '%s\n' "${url%/}"
}

# --- scenarios ------------------------------------------------------------------------------

# perf_scenario_script NAME: print the scenarios/*.sh that declares scenario NAME, the one that
# defines the function scenario_<NAME with - as _> (perfkit.names has the scenarios' names);
# exit 2 when no script or more than one does.
perf_scenario_script() {
  local name="$1" func files=()
  [[ "${name}" =~ ^[A-Za-z0-9_-]+$ ]] || perf_die "${PERF_EXIT_USAGE}" "scenario name '${name}' may hold only letters, digits, '_' and '-'"
  func="scenario_${name//-/_}"
  mapfile -t files < <(grep -l -E "^${func}[[:space:]]*\(\)" "${PERF_KIT_ROOT}"/scenarios/*.sh)
  case "${#files[@]}" in
    1) printf '%s\n' "${files[0]}" ;;
    0) perf_die "${PERF_EXIT_USAGE}" "scenario '${name}' has no script: no scenarios/*.sh defines ${func}()" ;;
    *) perf_die "${PERF_EXIT_USAGE}" "scenario '${name}' is declared by ${#files[@]} scripts (${files[*]##*/}); keep one ${func}()" ;;
  esac
}
