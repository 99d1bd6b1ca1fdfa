#!/usr/bin/env bash
# Run the kit's benchmark scenarios (or one ad-hoc endpoint) against a ContextForge MCP Gateway.
# Exit codes: README.md ("Exit codes"); the run folder: docs/internals.md.
set -euo pipefail

PERF_PROG="run-configurable.sh"
# shellcheck source=utils/lib/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/utils/lib/bench-lib.sh"

run_usage() {
  cat <<'EOF'
usage: ./run-configurable.sh [--profile NAME] [--scenarios all|LIST] [--tests GLOBS]
                             [--baseline save|compare|skip]
                             [--url URL] [--iterations N] [--requests N] [--concurrency N]
                             [--duration D] [--warmup N] [--timeout S] [--sequential]
                             [--mcp-sessions stateless|stateful] [--mcp-peer NAME]
                             [--dataset NAME] [--slow-ms MS] [--strict-secrets]
                             [--skip-checks] [--quiet]
       ./run-configurable.sh --endpoint URL [--method M] [--payload FILE] [--expect EXPR]
                             [--name NAME] [--no-auth] [--skip-checks] [other options above]

  --profile NAME      profiles/NAME.env (smoke, light, medium, heavy, spike, soak); default light
  --scenarios LIST    all, or a comma list of: tools, resources, prompts, gateway-core, mcp, mixed,
                      database (all of these), history (by name only: the recorded call history);
                      run-advanced.sh also uses scale and sweep: tool calls spread over every
                      MCP server of the stack, and the concurrency sweep
  --tests GLOBS       only the tests these comma-separated shell globs name, by id or name
                      (e.g. 'mcp/server_tools_*,rpc_ping'; PERF_TESTS): compared with the
                      baseline's same tests; such a run never becomes or replaces a baseline
  --baseline MODE     compare (default: judge the run against its stored baseline; the first
                      run becomes the baseline) | save (make this run the baseline) | skip
  --url URL           benchmark this gateway only (also GATEWAY_URL); exit 3 if it does not answer
  --iterations N      measured rounds per test (PERF_ITERATIONS)
  --requests N, --concurrency N, --duration D (hey -z, e.g. 30s), --warmup N, --timeout S
  --sequential        a test's rounds stop once they settle it against its baseline (A/B: its
                      base): no slowdown of regression size is left possible (PERF_SEQUENTIAL)
  --mcp-sessions M    the mcp scenario's MCP tests: stateless (default) or stateful - each client
                      in a session of its own (initialize, Mcp-Session-Id, DELETE at the end);
                      the local stack then starts the gateway with USE_STATEFUL_SESSIONS=true
                      (PERF_MCP_SESSIONS)
  --mcp-peer NAME     federation: the mcp scenario also calls a tool through the peer gateway
                      registered under NAME (a tool call across two gateways), beside the same
                      call made directly; the local stack starts and registers one (PERF_MCP_PEER)
  --dataset NAME      measure a populated gateway: the local stack writes datasets/NAME.yaml
                      (make datasets lists them) into its fresh database when the run starts it;
                      a stack already running must hold that dataset (PERF_DATASET)
  --slow-ms MS        the database scenario: a statement at least this slow, run alone, is a
                      slow query - explained, and the index its scan suggests measured
                      (default 100; PERF_DB_SLOW_MS)
  --strict-secrets    refuse to run (exit 3) when the gateway issues no benchmark token: by
                      default the load then sends your own token, which local users can
                      read on hey's command line (README.md, "Secrets"; PERF_STRICT_SECRETS=1
                      in the environment does the same for every run a wrapper starts)
  --skip-checks       skip utils/check-services.sh
  --list-tests        print the tests the run would measure (plan.tsv's rows: id, scenario,
                      kind, ...) and exit: no gateway needed, nothing sent
  --quiet             no progress on stderr
  --endpoint URL      ad-hoc: benchmark this one URL (GET unless --method) and nothing else
  --method M          HTTP method for --endpoint
  --payload FILE      JSON body for --endpoint (sent with Content-Type: application/json)
  --expect EXPR       content the --endpoint answer must hold (docs/internals.md); default: any 2xx
  --name NAME         name of the ad-hoc test (default: derived from the URL)
  --no-auth           send no Authorization header (and do not log in)

Settings: defaults < config.yaml < profiles/NAME.env < environment (PERF_*) < flags.
EOF
}

# run_parse_args ARGS...: fill RUN_* variables and RUN_SETS (--set NAME=VALUE for perfkit config).
run_parse_args() {
  RUN_PROFILE="${PERF_PROFILE:-light}"
  RUN_BASELINE=""
  RUN_URL="${GATEWAY_URL:-}"
  RUN_ENDPOINT=""
  RUN_METHOD=""
  RUN_PAYLOAD="-"
  RUN_EXPECT="*"
  RUN_NAME=""
  RUN_AUTH=yes
  RUN_SKIP_CHECKS=0
  RUN_STRICT_SECRETS="${PERF_STRICT_SECRETS:-0}"
  [[ "${RUN_STRICT_SECRETS}" == 0 || "${RUN_STRICT_SECRETS}" == 1 ]] ||
    perf_die "${PERF_EXIT_USAGE}" "PERF_STRICT_SECRETS='${RUN_STRICT_SECRETS}': expected 1 (refuse a run without a benchmark token) or 0"
  RUN_AB_BASE=""
  RUN_AB_CANDIDATE=""
  RUN_AB_RECORDS=("" "")
  RUN_SETS=()
  RUN_LIST_TESTS=0
  while (($#)); do
    case "$1" in
      --profile) RUN_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --scenarios) RUN_SETS+=(--set "PERF_SCENARIOS=$(perf_flag_value "$@")"); shift 2 ;;
      --baseline) RUN_BASELINE="$(perf_flag_value "$@")"; shift 2 ;;
      --url) RUN_URL="$(perf_flag_value "$@")"; shift 2 ;;
      --iterations) RUN_SETS+=(--set "PERF_ITERATIONS=$(perf_flag_value "$@")"); shift 2 ;;
      --requests) RUN_SETS+=(--set "PERF_REQUESTS=$(perf_flag_value "$@")"); shift 2 ;;
      --concurrency) RUN_SETS+=(--set "PERF_CONCURRENCY=$(perf_flag_value "$@")"); shift 2 ;;
      --duration) RUN_SETS+=(--set "PERF_DURATION=$(perf_flag_value "$@")"); shift 2 ;;
      --warmup) RUN_SETS+=(--set "PERF_WARMUP=$(perf_flag_value "$@")"); shift 2 ;;
      --timeout) RUN_SETS+=(--set "PERF_TIMEOUT=$(perf_flag_value "$@")"); shift 2 ;;
      --sequential) RUN_SETS+=(--set PERF_SEQUENTIAL=true); shift ;;
      --mcp-sessions) RUN_SETS+=(--set "PERF_MCP_SESSIONS=$(perf_flag_value "$@")"); shift 2 ;;
      --mcp-peer) RUN_SETS+=(--set "PERF_MCP_PEER=$(perf_flag_value "$@")"); shift 2 ;;
      --dataset) RUN_SETS+=(--set "PERF_DATASET=$(perf_flag_value "$@")"); shift 2 ;;
      --slow-ms) RUN_SETS+=(--set "PERF_DB_SLOW_MS=$(perf_flag_value "$@")"); shift 2 ;;
      --tests) RUN_SETS+=(--set "PERF_TESTS=$(perf_flag_value "$@")"); shift 2 ;;
      --endpoint) RUN_ENDPOINT="$(perf_flag_value "$@")"; shift 2 ;;
      --method) RUN_METHOD="$(perf_flag_value "$@")"; shift 2 ;;
      --payload) RUN_PAYLOAD="$(perf_flag_value "$@")"; shift 2 ;;
      --expect) RUN_EXPECT="$(perf_flag_value "$@")"; shift 2 ;;
      --name) RUN_NAME="$(perf_flag_value "$@")"; shift 2 ;;
      --no-auth) RUN_AUTH=no; shift ;;
      --ab-base) RUN_AB_BASE="$(perf_flag_value "$@")"; shift 2 ;;
      --ab-candidate) RUN_AB_CANDIDATE="$(perf_flag_value "$@")"; shift 2 ;;
      --ab-base-record) RUN_AB_RECORDS[0]="$(perf_flag_value "$@")"; shift 2 ;;
      --ab-candidate-record) RUN_AB_RECORDS[1]="$(perf_flag_value "$@")"; shift 2 ;;
      --skip-checks) RUN_SKIP_CHECKS=1; shift ;;
      --strict-secrets) RUN_STRICT_SECRETS=1; shift ;;
      --list-tests) RUN_LIST_TESTS=1; shift ;;
      --quiet) PERF_QUIET=1; shift ;;
      -h | --help) run_usage; exit 0 ;;
      *) run_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  run_check_args
  [[ -z "${RUN_URL}" ]] || perf_check_loopback "${RUN_URL%/}"
}

# run_check_args: everything the flags alone decide, checked before any setup (no Python needed).
run_check_args() {
  perf_check_profile "${RUN_PROFILE}"
  if [[ -n "${RUN_AB_BASE}${RUN_AB_CANDIDATE}" ]]; then
    [[ -n "${RUN_AB_BASE}" && -n "${RUN_AB_CANDIDATE}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--ab-base and --ab-candidate go together (make compare-versions sets both)"
    [[ -z "${RUN_ENDPOINT}${RUN_URL}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--ab-base/--ab-candidate name both targets: drop --url and --endpoint"
  fi
  [[ -z "${RUN_AB_RECORDS[0]}${RUN_AB_RECORDS[1]}" || -n "${RUN_AB_BASE}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--ab-base-record and --ab-candidate-record go with --ab-base and --ab-candidate"
  case "${RUN_BASELINE}" in
    "" | save | compare | skip) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--baseline '${RUN_BASELINE}' is not one of: save, compare, skip" ;;
  esac
  if [[ -z "${RUN_ENDPOINT}" ]]; then
    [[ -z "${RUN_METHOD}${RUN_NAME}" && "${RUN_PAYLOAD}" == - && "${RUN_EXPECT}" == "*" && "${RUN_AUTH}" == yes ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--method, --payload, --expect, --name and --no-auth only go with --endpoint URL"
    return
  fi
  [[ "${RUN_ENDPOINT}" =~ ^(https?://[^/]+)(/.*)?$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--endpoint '${RUN_ENDPOINT}' is not an http(s) URL (e.g. http://127.0.0.1:4444/tools)"
  [[ -z "${RUN_URL}" || "${RUN_URL%/}" == "${BASH_REMATCH[1]}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--endpoint ${RUN_ENDPOINT} is not on the target ${RUN_URL}; give one or the other"
  RUN_URL="${BASH_REMATCH[1]}"
  RUN_METHOD="${RUN_METHOD:-GET}"
  if [[ "${RUN_PAYLOAD}" != - ]]; then
    [[ -r "${RUN_PAYLOAD}" ]] || perf_die "${PERF_EXIT_USAGE}" "payload file '${RUN_PAYLOAD}' is not readable"
    RUN_PAYLOAD="$(cd "$(dirname "${RUN_PAYLOAD}")" && pwd)/$(basename "${RUN_PAYLOAD}")"
  fi
  [[ -z "${RUN_NAME}" || "${RUN_NAME}" =~ ^[A-Za-z0-9_.-]+$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--name '${RUN_NAME}' may hold only letters, digits, '.', '_' and '-'"
}

# --- target -------------------------------------------------------------------------------

# run_ab_targets: both gateways of a version A/B run must answer (they are named targets).
run_ab_targets() {
  local url
  RUN_AB_BASE="${RUN_AB_BASE%/}"
  RUN_AB_CANDIDATE="${RUN_AB_CANDIDATE%/}"
  for url in "${RUN_AB_BASE}" "${RUN_AB_CANDIDATE}"; do
    perf_check_loopback "${url}"
    perf_gateway_answers "${url}" ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the A/B target ${url} does not answer /health; start it (make compare-versions starts both)"
  done
}

# --- plan ---------------------------------------------------------------------------------

run_declare_tests() {
  local scenario file
  if [[ -n "${RUN_ENDPOINT}" ]]; then
    [[ -z "${PERF_TESTS:-}" ]] || perf_die "${PERF_EXIT_USAGE}" "--tests picks among the scenarios' tests; --endpoint runs one test of its own: drop one of them"
    PERF_CURRENT_SCENARIO=adhoc
    perf_test "${RUN_NAME:-$(run_endpoint_name)}" "${RUN_METHOD}" "${RUN_ENDPOINT}" \
      --payload "${RUN_PAYLOAD}" --expect "${RUN_EXPECT}" "${RUN_AUTH_ARGS[@]}"
    return
  fi
  IFS=, read -ra RUN_SCENARIOS <<<"${PERF_SCENARIOS}"
  for scenario in "${RUN_SCENARIOS[@]}"; do
    file="$(perf_scenario_script "${scenario}")" || exit "$?"
    # shellcheck source=/dev/null
    source "${file}"
    PERF_CURRENT_SCENARIO="${scenario}"
    "scenario_${scenario//-/_}"
  done
  perf_check_selection
  perf_split_groups
}

run_endpoint_name() {
  local name="${RUN_METHOD,,}_${RUN_ENDPOINT#*://*/}"
  name="${name//[^A-Za-z0-9_.-]/_}"
  printf '%s\n' "${name:0:80}"
}

# run_make_dir: a fresh results/<profile>_<stamp>/ (adhoc_... for --endpoint, <profile>_ab_...
# holding base/ and candidate/ for a version A/B run); sets RUN_DIR.
run_make_dir() {
  local kind="${RUN_PROFILE}"
  [[ -z "${RUN_ENDPOINT}" ]] || kind=adhoc
  [[ -z "${RUN_AB_BASE}" ]] || kind="${RUN_PROFILE}_ab"
  RUN_DIR="$(perf_make_fresh_dir "${PERF_RESULTS_DIR}/${kind}_$(date +%Y%m%d-%H%M%S)")"
  # every process this run starts inherits it: a stray one can be traced back to its run
  export PERF_RUN_DIR="${RUN_DIR}"
}

# run_prepare_side URL DIR [RECORD]: log in, check the services, get the load its benchmark
# token (perf_bench_token), write run.json (with RECORD, the gateway.json of the local stack
# serving URL: its build and settings) and the plan in DIR.
run_prepare_side() {
  local url="$1" dir="$2" record="${3:-}" token="" stack=""
  # a gateway record lies in its local stack's folder: .state/<stack>/gateway.json
  [[ -z "${record}" ]] || stack="$(basename "$(dirname "${record}")")"
  if [[ "${RUN_AUTH}" == yes ]]; then
    token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${url}" --profile "${RUN_PROFILE}" --print)"
  fi
  mkdir -p "${dir}/raw"
  if [[ "${RUN_SKIP_CHECKS}" == 0 ]]; then
    # the check's GET /version is kept for run_init (the gateway answers it slowly)
    "${PERF_KIT_ROOT}/utils/check-services.sh" --url "${url}" --profile "${RUN_PROFILE}" \
      --version-out "${dir}/gateway-version.json" >&2
  fi
  if [[ "${RUN_AUTH}" == yes ]]; then
    perf_bench_token "${url}" "${token}" "${dir}" "${RUN_STRICT_SECRETS}"
  else
    PERF_LOAD_TOKEN="" PERF_LOAD_ID="" PERF_LOAD_AS="$(perf_py bench-token as-user --none)"
  fi
  run_init "${url}" "${dir}" "${token}" "${record}" "${stack}"
  run_check_baseline
  perf_monitor_start "${url}" "${dir}"
  perf_add_side "${url}" "${PERF_LOAD_TOKEN}" "${dir}" "${stack}" "${PERF_LOAD_ID}"
}

# run_init URL DIR TOKEN [RECORD] [STACK]: run.json (settings, environment, the gateway's version and,
# from RECORD when it exists, its build and settings overrides) and plan.tsv.
run_init() {
  local url="$1" dir="$2" token="$3" record="${4:-}" stack="${5:-}" settings args=() rc=0 backend="${PERF_DB_BACKEND}" line
  # a local stack says which database it runs on (an A/B's sides may differ: --base-database)
  line="$(PERF_STACK_NAME="${stack:-${PERF_STACK_NAME:-}}" "${PERF_KIT_ROOT}/utils/local-stack.sh" database --url "${url}" 2>/dev/null || true)"
  case "${line}" in
    *" postgresql"*) backend=postgresql ;;
    *" sqlite"*) backend=sqlite ;;
  esac
  # the resolved settings hold the password: keep them out of the run folder
  settings="$(mktemp)"
  perf_py config --kit-root "${PERF_KIT_ROOT}" --profile "${RUN_PROFILE}" "${RUN_SETS[@]}" --format json >"${settings}"
  # GET /version: the gateway's release and benchmark-relevant settings, for the fingerprint
  # (check-services.sh kept its answer moments ago, unless --skip-checks)
  if [[ -s "${dir}/gateway-version.json" ]] ||
    [[ "$(perf_http_get "${url}/version" "${dir}/gateway-version.json" "${token}")" == 200 ]]; then
    args+=(--gateway-info "${dir}/gateway-version.json")
  fi
  [[ -z "${record}" || ! -f "${record}" ]] || args+=(--gateway-record "${record}")
  perf_py run-init "${dir}" --kit-root "${PERF_KIT_ROOT}" --profile "${RUN_PROFILE}" \
    --settings-json "${settings}" --target-url "${url}" --hey-bin "$(command -v "${PERF_HEY_BIN}")" \
    --db-backend "${backend}" --load-as "${PERF_LOAD_AS:-}" "${args[@]}" || rc=$?
  rm -f "${settings}"
  ((rc == 0)) || exit "${rc}"
  perf_write_plan "${dir}/plan.tsv"
}

# --- finishing ----------------------------------------------------------------------------

# run_summarize: summary.json (and the table) for every side; returns their codes combined
# (perf_worst_code).
run_summarize() {
  local dir rc codes=()
  for dir in "${PERF_SIDE_DIRS[@]}"; do
    ((${#PERF_SIDE_DIRS[@]} == 1)) || printf '\n%s\n' "$(basename "${dir}"): ${dir}"
    rc=0
    perf_py summarize "${dir}" || rc=$?
    codes+=("${rc}")
  done
  return "$(perf_worst_code "${codes[@]}")"
}

# run_judge: summary.json for every side, then the verdict: the A/B comparison, or the stored
# baseline's step. Returns the two codes combined (README.md, "Exit codes").
run_judge() {
  local rc=0 verdict_rc=0
  run_summarize || rc=$?
  if [[ -n "${RUN_AB_BASE}" ]]; then
    run_compare_ab || verdict_rc=$?
  else
    run_baseline "${rc}" || verdict_rc=$?
  fi
  return "$(perf_worst_code "${rc}" "${verdict_rc}")"
}

# run_compare_ab: the candidate's verdict against the base, rounds measured alternately.
run_compare_ab() {
  # the two sides differ in gateway version by design: the comparison is forced past that
  perf_py compare "${PERF_SIDE_DIRS[1]}" --against "${PERF_SIDE_DIRS[0]}" --force
}

# run_baseline_args: RUN_BASELINE_ARGS, how `perfkit baseline name` finds this run's baseline
# (another profile's with PERF_BASELINE_PROFILE).
run_baseline_args() {
  RUN_BASELINE_ARGS=()
  [[ "${PERF_BASELINE_PROFILE:-${RUN_PROFILE}}" == "${RUN_PROFILE}" || -n "${RUN_ENDPOINT}" ]] ||
    RUN_BASELINE_ARGS+=(--profile "${PERF_BASELINE_PROFILE}")
}

# run_check_baseline: in compare mode, the stored baseline this run will be judged against must
# be readable before any load is sent: a corrupt one is exit 2 now, not after the whole run.
# The run folder holds nothing measured yet and goes.
# With --sequential, its rounds are what a test's rounds are held against while the run goes on.
run_check_baseline() {
  local rc=0 file
  [[ "${RUN_BASELINE}" == compare && -z "${RUN_AB_BASE}" ]] || return 0
  perf_py baseline name "${RUN_DIR}" --check "${RUN_BASELINE_ARGS[@]}" >/dev/null || rc=$?
  if ((rc == 0)); then
    file="$(perf_py baseline name "${RUN_DIR}" --path "${RUN_BASELINE_ARGS[@]}")" || return 0
    [[ ! -f "${file}" ]] || export PERF_SEQUENTIAL_BASELINE="${file}"
    return 0
  fi
  rm -rf "${RUN_DIR}"
  exit "${rc}"
}

# run_baseline RC: the stored-baseline step of a single-target run (RC: the summary's exit
# code; a run that failed does not become the first baseline). compare: judge the run against
# its baseline (the first run becomes the baseline) and count it towards promotion; save: make
# it the baseline; skip: nothing. Returns the step's own exit code (run_judge combines the two).
run_baseline() {
  local rc="$1" file name compare_rc=0
  [[ "${RUN_BASELINE}" != skip ]] || return 0
  file="$(perf_py baseline name "${RUN_DIR}" --path "${RUN_BASELINE_ARGS[@]}")" || return "${PERF_EXIT_USAGE}"
  name="$(basename "${file}" .json)"
  name="${name#baseline_}"
  if [[ "${RUN_BASELINE}" == save ]]; then
    perf_py baseline save "${RUN_DIR}" --name "${name}" || return "$?"
    return 0
  fi
  if [[ ! -e "${file}" ]]; then
    if [[ -n "${PERF_TESTS:-}" ]]; then
      perf_warn "no baseline '${name}' yet, and a run of some tests (--tests) does not become it: run every test once"
    elif ((rc == 0)); then
      perf_log "no baseline '${name}' yet: this run becomes it (${file})"
      perf_py baseline save "${RUN_DIR}" --name "${name}" --how initial || return "$?"
    else
      perf_warn "no baseline '${name}' yet, and this run failed: it is not saved as the baseline"
    fi
    perf_py compare "${RUN_DIR}" --no-baseline --quiet || compare_rc=$?
  else
    perf_py compare "${RUN_DIR}" --baseline "${file}" || compare_rc=$?
    # a run of some tests is judged, but neither joins the baseline's history nor promotes
    [[ ! -f "${RUN_DIR}/comparison.json" || -n "${PERF_TESTS:-}" ]] ||
      perf_py baseline record "${RUN_DIR}" --comparison "${RUN_DIR}/comparison.json" --name "${name}" \
        --promote-after "${PERF_PROMOTE_AFTER}" || true
  fi
  return "${compare_rc}"
}

run_teardown() {
  perf_db_workers_stop
  perf_monitor_stop
  perf_bench_revoke
  perf_stop_started_stack
}

run_on_signal() {
  local dir
  trap - INT TERM
  perf_warn "interrupted: stopping hey and everything this run started"
  perf_kill_children
  for dir in "${PERF_SIDE_DIRS[@]}"; do
    [[ -f "${dir}/run.json" ]] || continue
    [[ -z "${PERF_CURRENT_TEST}" ]] ||
      perf_py record "${dir}" --id "${PERF_CURRENT_TEST}" --status skipped \
        --reason "interrupted during this test; rounds measured before are kept" || true
    perf_py summarize "${dir}" --partial || true
    perf_log "partial results kept in ${dir}"
  done
  run_teardown
  exit "${PERF_EXIT_INTERRUPTED}"
}

run_main() {
  local rc=0 side
  run_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${RUN_PROFILE}" "${RUN_SETS[@]}"
  perf_require_tools
  RUN_AUTH_ARGS=()
  [[ "${RUN_AUTH}" == yes ]] || RUN_AUTH_ARGS=(--no-auth)
  trap run_on_signal INT TERM
  trap run_teardown EXIT
  RUN_BASELINE="${RUN_BASELINE:-${PERF_BASELINE_MODE}}"
  [[ "${RUN_BASELINE}" != save || -z "${PERF_TESTS:-}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--baseline save with --tests: a baseline holds every test of its scenarios; drop --tests to save one"
  run_baseline_args
  run_declare_tests
  if [[ "${RUN_LIST_TESTS}" == 1 ]]; then
    perf_write_plan /dev/stdout
    return 0
  fi
  if [[ -n "${RUN_AB_BASE}" ]]; then
    run_ab_targets
    run_make_dir
    run_prepare_side "${RUN_AB_BASE}" "${RUN_DIR}/base" "${RUN_AB_RECORDS[0]}"
    run_prepare_side "${RUN_AB_CANDIDATE}" "${RUN_DIR}/candidate" "${RUN_AB_RECORDS[1]}"
  else
    perf_resolve_target "${RUN_URL}" "${RUN_PROFILE}" "${PERF_SERVERS_COUNT}" --endpoint "${RUN_ENDPOINT}"
    perf_check_dataset
    run_make_dir
    # the local stack's gateway, when it serves the target, says which build it runs
    run_prepare_side "${PERF_TARGET_URL}" "${RUN_DIR}" \
      "$("${PERF_KIT_ROOT}/utils/local-stack.sh" build --url "${PERF_TARGET_URL}" 2>/dev/null || true)"
  fi
  ln -sfn "${PERF_SIDE_DIRS[-1]#"${PERF_RESULTS_DIR}/"}" "${PERF_RESULTS_DIR}/latest"
  perf_log "run folder: ${RUN_DIR}"
  # per-server call counts and database rows only for one target (A/B sides share their servers)
  if ((${#PERF_SIDE_DIRS[@]} == 1)); then
    perf_servers_snapshot before
    perf_database_snapshot before
  fi
  perf_run_plan
  if ((${#PERF_SIDE_DIRS[@]} == 1)); then
    perf_servers_snapshot after
    perf_database_snapshot after
  fi
  for side in "${!PERF_SIDE_DIRS[@]}"; do
    perf_use_side "${side}"
    perf_database_plans
    perf_database_pool
  done
  perf_monitor_stop
  run_judge || rc=$?
  run_report
  perf_log "results: ${RUN_DIR}"
  return "${rc}"
}

# run_report: report.html in every run folder when reporting.generate_report / PERF_GENERATE_REPORT
# is on, opened in a browser only when interactive; a report that fails never fails the run.
run_report() {
  local dir args=()
  [[ "${PERF_GENERATE_REPORT}" == true ]] || return 0
  [[ -t 1 && -z "${CI:-}" ]] && args+=(--open)
  for dir in "${PERF_SIDE_DIRS[@]}"; do
    perf_py report "${dir}" "${args[@]}" >/dev/null || perf_warn "no report.html for ${dir} (see above); the results stand"
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  run_main "$@"
fi
