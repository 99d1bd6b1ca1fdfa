#!/usr/bin/env bash
# Run several profiles in order (light -> medium -> heavy by default), each through
# run-configurable.sh and judged against its own baseline, then write one master report
# comparing them: results/all_<stamp>/runs.json and report.html.
# Exit codes: as run-configurable.sh, the profiles' codes combined (README.md, "Exit codes").
set -euo pipefail

PERF_PROG="run-all.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/utils/lib/lib.sh"

readonly ALL_DEFAULT_PROFILES=light,medium,heavy

all_usage() {
  cat <<'EOF'
usage: ./run-all.sh [--profiles LIST] [--scenarios all|LIST] [--baseline compare|save|skip]
                    [--url URL] [--iterations N] [--sequential] [--strict-secrets] [--quiet]

  --profiles LIST     comma list of profiles/NAME.env, run in this order; default light,medium,heavy
  --scenarios LIST    all (default: each profile's own), or a comma list (see run-configurable.sh)
  --baseline MODE     passed to every run: compare (default) | save | skip
  --url URL           benchmark this gateway only (also GATEWAY_URL); never starts the local stack
  --iterations N      measured rounds per test, for every profile
  --sequential        a test's rounds stop once they settle it against its baseline (every profile)
  --strict-secrets    every run refuses (exit 3) a gateway that issues no benchmark token
                      (run-configurable.sh --strict-secrets; README.md, "Secrets")
  --quiet             no progress on stderr

Each profile runs ./run-configurable.sh --profile NAME (its output goes to stderr and to
results/all_<stamp>/NAME.log). When the sequence stops early and how the profiles' exit codes
make run-all's: README.md, "Exit codes". The master report is written either way; stdout gets
its path.
EOF
}

# all_parse_args ARGS...: fill ALL_* variables; ALL_CHILD_ARGS are passed to every profile's run
# and ALL_SETS (--set NAME=VALUE) check the same values against each profile's settings.
all_parse_args() {
  local value
  ALL_PROFILES_LIST="${ALL_DEFAULT_PROFILES}"
  ALL_SCENARIOS=""
  ALL_BASELINE=""
  ALL_URL="${GATEWAY_URL:-}"
  ALL_CHILD_ARGS=()
  ALL_SETS=()
  while (($#)); do
    case "$1" in
      --profiles) ALL_PROFILES_LIST="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios)
        ALL_SCENARIOS="$(perf_flag_value "$@")"
        ALL_CHILD_ARGS+=(--scenarios "${ALL_SCENARIOS}")
        ALL_SETS+=(--set "PERF_SCENARIOS=${ALL_SCENARIOS}")
        shift 2
        ;;
      --baseline) ALL_BASELINE="$(perf_flag_value "$@")"; shift 2 ;;
      --url) ALL_URL="$(perf_flag_value "$@")"; shift 2 ;;
      --iterations)
        value="$(perf_flag_value "$@")"
        ALL_CHILD_ARGS+=(--iterations "${value}")
        ALL_SETS+=(--set "PERF_ITERATIONS=${value}")
        shift 2
        ;;
      --sequential) ALL_CHILD_ARGS+=(--sequential); shift ;;
      --strict-secrets) ALL_CHILD_ARGS+=(--strict-secrets); shift ;;
      --quiet) PERF_QUIET=1; ALL_CHILD_ARGS+=(--quiet); shift ;;
      -h | --help) all_usage; exit 0 ;;
      *) all_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  case "${ALL_BASELINE}" in
    "") ;;
    save | compare | skip) ALL_CHILD_ARGS+=(--baseline "${ALL_BASELINE}") ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--baseline '${ALL_BASELINE}' is not one of: save, compare, skip" ;;
  esac
  if [[ -n "${ALL_URL}" ]]; then
    ALL_URL="${ALL_URL%/}"
    perf_check_loopback "${ALL_URL}"
    ALL_CHILD_ARGS+=(--url "${ALL_URL}")
  fi
  all_check_profile_names
}

# all_check_profile_names: ALL_PROFILES from the list; each must exist, once. No Python needed:
# checked with the other flags, before any setup.
all_check_profile_names() {
  local profile
  local -A seen=()
  IFS=, read -ra ALL_PROFILES <<<"${ALL_PROFILES_LIST}"
  ((${#ALL_PROFILES[@]} > 0)) || perf_die "${PERF_EXIT_USAGE}" "--profiles is empty; name at least one profile (e.g. --profiles smoke)"
  for profile in "${ALL_PROFILES[@]}"; do
    perf_check_profile "${profile}"
    [[ -z "${seen[${profile}]:-}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "profile '${profile}' is named twice in --profiles; each profile runs once"
    seen[${profile}]=1
  done
}

# all_check_profiles: each profile's settings (with the flags above) must validate. Sets
# ALL_RESULTS (profile -> results folder) and, from the first profile, ALL_BASE_URL and
# ALL_MANAGE; ALL_SERVERS is the most any profile wants.
all_check_profiles() {
  local profile line base manage servers results
  declare -gA ALL_RESULTS=()
  ALL_SERVERS=1
  for profile in "${ALL_PROFILES[@]}"; do
    line="$(all_profile_settings "${profile}")" ||
      perf_die "${PERF_EXIT_USAGE}" "profile '${profile}': its settings do not validate (see above)"
    IFS=$'\t' read -r base manage servers results <<<"${line}"
    ALL_RESULTS[${profile}]="${results}"
    ((servers <= ALL_SERVERS)) || ALL_SERVERS="${servers}"
    if [[ "${profile}" == "${ALL_PROFILES[0]}" ]]; then
      ALL_BASE_URL="${base%/}"
      ALL_MANAGE="${manage}"
    fi
  done
}

# all_profile_settings PROFILE: `BASE_URL MANAGE SERVERS RESULTS_DIR` (tab-separated) as that
# profile's run will resolve them. A subshell: one profile's settings must not leak into the
# environment of the next profile's run (environment beats profile).
all_profile_settings() {
  (
    perf_load_settings "$1" "${ALL_SETS[@]}"
    printf '%s\t%s\t%s\t%s\n' "${PERF_BASE_URL}" "${PERF_MANAGE}" "${PERF_SERVERS_COUNT}" "${PERF_RESULTS_DIR}"
  )
}

# --- the profiles ---------------------------------------------------------------------------

# all_make_dir: a fresh all_<stamp>/ in the first profile's results folder; sets ALL_DIR.
all_make_dir() {
  ALL_DIR="$(perf_make_fresh_dir "${ALL_RESULTS[${ALL_PROFILES[0]}]}/all_$(date +%Y%m%d-%H%M%S)")"
}

# all_latest PROFILE: where that profile's results/latest points (empty when nowhere).
all_latest() {
  readlink "${ALL_RESULTS[$1]}/latest" 2>/dev/null || true
}

# all_run_profile PROFILE N: run-configurable.sh for one profile. It runs in a session of its
# own, so a Ctrl+C or a kill of our process group reaches only run-all, which passes it on once
# (all_on_signal), and in the background, so that run-all hears it at once. Its stdout and
# stderr go to our stderr and to ALL_DIR/PROFILE.log (through a tee that outlives the signal
# and ends when the run's output closes). Records the profile, its run folder and exit code.
all_run_profile() {
  local profile="$1" n="$2" before fd started="${SECONDS}"
  perf_log "profile ${n}/${#ALL_PROFILES[@]}: ${profile}"
  before="$(all_latest "${profile}")"
  exec {fd}> >(trap '' INT TERM; exec tee -a "${ALL_DIR}/${profile}.log" >&2)
  ALL_TEE_PID=$!
  setsid -w "${PERF_KIT_ROOT}/run-configurable.sh" --profile "${profile}" "${ALL_CHILD_ARGS[@]}" >&"${fd}" 2>&1 &
  ALL_CHILD_PID=$!
  ALL_CHILD_PROFILE="${profile}"
  ALL_CHILD_BEFORE="${before}"
  ALL_CHILD_STARTED="${started}"
  exec {fd}>&-
  local rc=0
  wait "${ALL_CHILD_PID}" || rc=$?
  all_record_child "${rc}"
}

# all_record_child RC: note the profile that just ended (run folder: where its results/latest
# now points, if that moved to a folder of this profile) and reap its log writer.
all_record_child() {
  local rc="$1" profile="${ALL_CHILD_PROFILE}" after run_dir=-
  ALL_CHILD_PID=""
  after="$(all_latest "${profile}")"
  if [[ -n "${after}" && "${after}" != "${ALL_CHILD_BEFORE}" && "$(basename "${after}")" == "${profile}_"* ]]; then
    run_dir="${ALL_RESULTS[${profile}]}/${after}"
  fi
  ALL_RUNS+=(--run "${profile}" "${rc}" "${run_dir}" "$((SECONDS - ALL_CHILD_STARTED))")
  ALL_CODES+=("${rc}")
  all_reap_tee
  perf_log "${profile}: exit ${rc} ($(perf_code_meaning "${rc}")); run folder: ${run_dir}"
}

# all_reap_tee: the log writer ends once the run's output is closed; give it 5 s, then stop it.
all_reap_tee() {
  local waited=0
  [[ -n "${ALL_TEE_PID:-}" ]] || return 0
  while kill -0 "${ALL_TEE_PID}" 2>/dev/null && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "${ALL_TEE_PID}" 2>/dev/null || true
  wait "${ALL_TEE_PID}" 2>/dev/null || true
  ALL_TEE_PID=""
}

# all_finish CODE [--partial]: runs.json and the master report, then exit with CODE. A report
# that fails costs a warning, never the exit code (as for a run's own report).
all_finish() {
  local code="$1" args=()
  [[ ! -t 1 || -n "${CI:-}" ]] || args+=(--open)
  perf_py run-all-record "${ALL_DIR}" --profiles "${ALL_PROFILES[@]}" --scenarios "${ALL_SCENARIOS}" \
    --baseline-mode "${ALL_BASELINE}" --started-at "${ALL_STARTED_AT}" --exit-code "${code}" \
    "${ALL_RUNS[@]}" "${@:2}" ||
    perf_warn "could not write ${ALL_DIR}/runs.json (see above)"
  perf_py report-master "${ALL_DIR}" "${args[@]}" ||
    perf_warn "no master report in ${ALL_DIR} (see above); the results stand"
  perf_log "exit ${code} ($(perf_code_meaning "${code}")); results: ${ALL_DIR}"
  exit "${code}"
}

all_teardown() {
  all_reap_tee
  perf_stop_started_stack
}

# all_on_signal: Ctrl+C or a kill. The running profile (in its own session: the signal did not
# reach it) gets one TERM and cleans up after itself: hey stopped, partial summary.json kept.
# Then the master report, marked partial, and exit 130; the EXIT trap stops our stack.
all_on_signal() {
  trap '' INT TERM
  perf_warn "interrupted: stopping the running profile"
  if [[ -n "${ALL_CHILD_PID:-}" ]]; then
    kill -TERM "${ALL_CHILD_PID}" 2>/dev/null || true
    local rc=0
    wait "${ALL_CHILD_PID}" || rc=$?
    all_record_child "${rc}"
  fi
  [[ -n "${ALL_DIR:-}" ]] || exit "${PERF_EXIT_INTERRUPTED}"
  all_finish "${PERF_EXIT_INTERRUPTED}" --partial
}

# all_run_profiles: each profile in turn until one ends with a code that stops the sequence;
# sets ALL_CODE, the codes of the profiles that ran combined (README.md, "Exit codes").
all_run_profiles() {
  local profile n=0 code rest
  for profile in "${ALL_PROFILES[@]}"; do
    n=$((n + 1))
    all_run_profile "${profile}" "${n}"
    code="${ALL_CODES[-1]}"
    if perf_code_stops "${code}"; then
      rest="${ALL_PROFILES[*]:n}"
      perf_error "profile '${profile}' ended with exit ${code} ($(perf_code_meaning "${code}"); see above or ${ALL_DIR}/${profile}.log)${rest:+; not running: ${rest}}"
      break
    fi
  done
  ALL_CODE="$(perf_worst_code "${ALL_CODES[@]}")"
}

all_main() {
  all_parse_args "$@"
  perf_ensure_setup
  all_check_profiles
  perf_require_tools
  ALL_RUNS=()
  ALL_CODES=()
  ALL_CHILD_PID=""
  ALL_DIR=""
  trap all_teardown EXIT
  trap all_on_signal INT TERM
  # one target for every profile, resolved with the first profile's settings (all_check_profiles)
  PERF_BASE_URL="${ALL_BASE_URL}" PERF_MANAGE="${ALL_MANAGE}" \
    perf_resolve_target "${ALL_URL}" "${ALL_PROFILES[0]}" "${ALL_SERVERS}"
  all_make_dir
  ALL_STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  perf_log "master folder: ${ALL_DIR}"
  all_run_profiles
  all_finish "${ALL_CODE}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  all_main "$@"
fi
