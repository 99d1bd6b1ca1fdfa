#!/usr/bin/env bash
# Benchmark library: scenario scripts declare tests with perf_test / perf_group / perf_component;
# run-configurable.sh plans them and runs each: probe and validate, warm up, measured rounds of
# hey -o csv under GNU time, probe again. Layout of the run folder: docs/internals.md.

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The plan: parallel arrays, one entry per declared test.
PERF_T_ID=()
PERF_T_SCENARIO=()
PERF_T_KIND=()
PERF_T_GROUP=()
PERF_T_METHOD=()
PERF_T_PATH=()
PERF_T_PAYLOAD=()
PERF_T_EXPECT=()
PERF_T_AUTH=()
PERF_T_CONC=()
PERF_T_REQ=()
PERF_CURRENT_SCENARIO=""
PERF_CURRENT_GROUP="-"
PERF_GROUP_SELECTED=1     # whether the current mixed workload is one --tests selected
PERF_T_UNSELECTED=()      # the tests --tests left out
PERF_CURRENT_TEST=""  # read by run-configurable.sh on interrupt
PERF_DB_PLAN_TESTS=() # `ID=OP:LIMIT` of the db tests that ran: perf_database_plans explains them
# The database workers (perfkit.dbbench.ops serve), one per local stack a db test ran on:
# stack name -> "PID SOCKET" (perf_db_worker starts them, perf_db_workers_stop ends them)
declare -gA PERF_DB_WORKERS=()
# What an --mcp test's endpoint and request became on each side ("SIDE:I" -> path / file),
# read from the gateway when the test is probed (perf_prepare).
declare -gA PERF_T_RESOLVED_PATH=()
declare -gA PERF_T_RESOLVED_PAYLOAD=()
# the MCP session an --mcp test on an MCP endpoint runs in ("SIDE:I" -> id; mcp.sessions stateful)
declare -gA PERF_T_SESSION=()
PERF_SIDE=0
readonly PERF_SSE_CHECK_TIMEOUT=5 # seconds: a legacy-SSE test's first session, before its rounds
# ... a call's on a gateway that reports CACHE_TYPE=memory, which is expected to lose it (an SSE
# call that works is answered in under a second here: 0.5-0.7 s p50)
readonly PERF_SSE_CHECK_TIMEOUT_MEMORY=2

# perf_declare KIND ID METHOD PATH [--payload FILE | --mcp OPERATION] [--expect EXPR] [--no-auth]
# --mcp: the JSON-RPC request is built when the test is probed, from what the gateway lists at
# PATH (perfkit mcp-prepare: tools/list, tools/call:TOOL, prompts/get:PROMPT, resources/read:URI,
# ...); PATH may name a virtual server as {server:NAME}. The plan's payload is then mcp:OPERATION.
perf_declare() {
  local kind="$1" id="$2" method="$3" path="$4" payload="-" expect="-" auth="yes"
  shift 4
  while (($#)); do
    case "$1" in
      --payload) payload="$2"; shift 2 ;;
      --mcp) payload="mcp:$2"; shift 2 ;;
      --expect) expect="$2"; shift 2 ;;
      --no-auth) auth="no"; shift ;;
      *) perf_die "${PERF_EXIT_USAGE}" "test ${id}: unknown option '$1'" ;;
    esac
  done
  # --tests: a mixed workload is selected whole, its components with it
  if [[ "${kind}" == component ]]; then
    [[ "${PERF_GROUP_SELECTED}" == 1 ]] || return 0
  elif ! perf_selected "${id}"; then
    PERF_T_UNSELECTED+=("${id}")
    [[ "${kind}" != group ]] || PERF_GROUP_SELECTED=0
    return 0
  elif [[ "${kind}" == group ]]; then
    PERF_GROUP_SELECTED=1
  fi
  PERF_T_ID+=("${id}")
  PERF_T_SCENARIO+=("${PERF_CURRENT_SCENARIO}")
  PERF_T_KIND+=("${kind}")
  PERF_T_GROUP+=("$([[ "${kind}" == component ]] && printf '%s' "${PERF_CURRENT_GROUP}" || printf '%s' -)")
  PERF_T_METHOD+=("${method}")
  PERF_T_PATH+=("${path}")
  PERF_T_PAYLOAD+=("${payload}")
  PERF_T_EXPECT+=("${expect}")
  PERF_T_AUTH+=("${auth}")
  if [[ "${kind}" == workflow ]]; then # its users are its clients; a window, not a count
    PERF_T_CONC+=("${PERF_WF_USERS}")
    PERF_T_REQ+=(0)
  else
    PERF_T_CONC+=("${PERF_CONCURRENCY}")
    PERF_T_REQ+=("${PERF_REQUESTS}")
  fi
}

# perf_selected ID: true when --tests (PERF_TESTS, comma-separated shell globs) is unset, or one
# of its globs matches ID (scenario/name) or the name alone.
perf_selected() {
  local id="$1" glob globs
  [[ -n "${PERF_TESTS:-}" ]] || return 0
  IFS=, read -ra globs <<<"${PERF_TESTS}"
  for glob in "${globs[@]}"; do
    perf_glob_names "${glob}" "${id}" && return 0
  done
  return 1
}

# perf_glob_names GLOB ID: true when GLOB matches test ID (scenario/name) or its name alone.
perf_glob_names() {
  # shellcheck disable=SC2053 # a glob on purpose
  [[ "$2" == $1 || "${2#*/}" == $1 ]]
}

# perf_check_selection: every glob of --tests names at least one declared test; exit 2 naming
# the one that does not, with the tests there are.
perf_check_selection() {
  local glob globs id found all
  [[ -n "${PERF_TESTS:-}" ]] || return 0
  IFS=, read -ra globs <<<"${PERF_TESTS}"
  for glob in "${globs[@]}"; do
    found=0
    for id in "${PERF_T_ID[@]}" "${PERF_T_UNSELECTED[@]}"; do
      perf_glob_names "${glob}" "${id}" && found=1 && break
    done
    if ((found == 0)); then
      all="$(printf '%s\n' "${PERF_T_ID[@]}" "${PERF_T_UNSELECTED[@]}" | sort | head -n 60 | paste -sd ' ')"
      perf_die "${PERF_EXIT_USAGE}" "--tests '${glob}' matches none of the tests of scenarios ${PERF_SCENARIOS}: ${all}"
    fi
  done
}

# perf_test NAME METHOD PATH [options]: one hey per round.
perf_test() {
  perf_declare single "${PERF_CURRENT_SCENARIO}/$1" "${@:2}"
}

# perf_session_setup NAME PATH --mcp OPERATION [options]: what starting an MCP session costs a
# client - each request of a round a new session at PATH, timed from initialize to the answer of
# its first call (OPERATION's request), by perfkit mcp-setup-cost (the official SDK client)
# instead of hey; judged like any test.
perf_session_setup() {
  perf_declare sessions "${PERF_CURRENT_SCENARIO}/$1" POST "${@:2}"
}

# perf_sse_test NAME connect|call PATH --mcp OPERATION [options]: the legacy SSE transport beside
# the MCP endpoint PATH (.../sse for .../mcp; the request is built and probed at PATH), each
# request a new SSE session by perfkit mcp-setup-cost (the official SDK's SSE client): timed
# from the GET to the endpoint event (connect), or OPERATION's call alone, POSTed to the
# announced message URL and answered over the stream (call).
perf_sse_test() {
  perf_declare "sse-$2" "${PERF_CURRENT_SCENARIO}/$1" POST "${@:3}"
}

# perf_db_test NAME OP [--limit N]: the gateway's database apart from the API - operation OP of
# perfkit.dbbench.ops (the gateway's own service layer and models, run in the local stack's
# gateway venv), each request of a round one call, instead of hey; judged like any test.
perf_db_test() {
  local name="$1" op="$2" limit=50
  [[ "${3:-}" != --limit ]] || limit="$4"
  perf_declare db "${PERF_CURRENT_SCENARIO}/${name}" DB "db:${op}?limit=${limit}" --no-auth
}

# perf_workflow_test NAME: a workflow (or one of its steps) of the scenario workflows; its
# rounds are windows of one multi-user run that measures all of them (perf_run_workflows).
perf_workflow_test() {
  perf_declare workflow "${PERF_CURRENT_SCENARIO}/$1" LOCUST "workflow:$1" --no-auth
}

# perf_driven I: true when test I's rounds are a driver's (perfkit mcp-setup-cost, or
# perfkit.dbbench.ops in the gateway's venv) instead of hey's.
perf_driven() {
  [[ "${PERF_T_KIND[$1]}" == sessions || "${PERF_T_KIND[$1]}" == sse-* || "${PERF_T_KIND[$1]}" == db ]]
}

# perf_db_command I: the command a db test's rounds and probe run: a request to the side's
# database worker (perfkit.dbbench.client), or - when none could start - the local stack's
# gateway Python with perfkit.dbbench.ops itself (utils/local-stack.sh python), seconds a call.
perf_db_command() {
  local spec="${PERF_T_PATH[$1]#db:}"
  PERF_DB_OP="${spec%%\?*}" PERF_DB_LIMIT="${spec##*limit=}"
  if perf_db_worker; then
    PERF_DB_COMMAND=(env "PYTHONPATH=${PERF_KIT_ROOT}/utils" "${PERF_VENV}/bin/python" -m perfkit.dbbench.client
      --socket "${PERF_DB_SOCKET}" --)
  else
    PERF_DB_COMMAND=(env "PERF_STACK_NAME=${PERF_SIDE_STACKS[PERF_SIDE]:-${PERF_STACK_NAME:-}}"
      "${PERF_KIT_ROOT}/utils/local-stack.sh" python --url "${PERF_TARGET_URL}" -- -m perfkit.dbbench.ops)
  fi
}

# perf_db_worker: PERF_DB_SOCKET of the current side's database worker - the gateway's side of
# perfkit.dbbench.ops made once in the local stack's venv (`serve`), answering every probe and
# round of the run over a Unix socket - started on first use (at most 60 s; its log:
# database-worker.log of the run folder). Returns 1 when it does not start.
perf_db_worker() {
  local stack="${PERF_SIDE_STACKS[PERF_SIDE]:-${PERF_STACK_NAME:-}}" key pid sock i
  key="${stack:-stack}"
  if [[ -n "${PERF_DB_WORKERS[${key}]:-}" ]]; then
    read -r pid sock <<<"${PERF_DB_WORKERS[${key}]}"
    if kill -0 "${pid}" 2>/dev/null && [[ -S "${sock}" ]]; then
      PERF_DB_SOCKET="${sock}"
      return 0
    fi
    unset "PERF_DB_WORKERS[${key}]"
  fi
  sock="${TMPDIR:-/tmp}/perfkit-db.$$.${key//[^A-Za-z0-9_-]/_}.sock"
  rm -f "${sock}"
  perf_spawn env "PERF_STACK_NAME=${stack}" "${PERF_KIT_ROOT}/utils/local-stack.sh" python --url "${PERF_TARGET_URL}" \
    -- -m perfkit.dbbench.ops serve --socket "${sock}" --parent "$$" >>"${PERF_RUN_DIR}/database-worker.log" 2>&1
  pid="${PERF_LAST_PID}"
  for ((i = 0; i < 240; i++)); do
    [[ ! -S "${sock}" ]] || break
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.25
  done
  if [[ ! -S "${sock}" ]]; then
    perf_stop_group "${pid}" 2
    perf_forget_pid "${pid}"
    perf_warn "database: no worker started (see ${PERF_RUN_DIR}/database-worker.log); each call starts the gateway's Python"
    return 1
  fi
  PERF_DB_WORKERS[${key}]="${pid} ${sock}"
  PERF_DB_SOCKET="${sock}"
}

# perf_db_workers_stop: end every database worker this run started (before its stack stops:
# a PostgreSQL database is dropped only without connections).
perf_db_workers_stop() {
  local key pid sock
  for key in "${!PERF_DB_WORKERS[@]}"; do
    read -r pid sock <<<"${PERF_DB_WORKERS[${key}]}"
    perf_stop_group "${pid}" 3
    perf_forget_pid "${pid}"
    rm -f "${sock}"
  done
  PERF_DB_WORKERS=()
}

# perf_db_probe I DIR: run a db test's operation once (DIR/probe.body says what it returned or
# why it failed); sets PERF_PROBE_REASON, or PERF_PROBE_SKIP when the target's database cannot
# be reached (a gateway the kit does not run) or lacks the rows the operation needs (a team
# member on an unpopulated database: ops exit 5).
perf_db_probe() {
  local i="$1" dir="$2" out rc=0
  if [[ -z "$(perf_local_stack database --url "${PERF_TARGET_URL}" 2>/dev/null)" ]]; then
    PERF_PROBE_SKIP="the database scenario calls the gateway's own service layer on its database, which the kit reaches on its local stack only, and ${PERF_TARGET_URL} is not it"
    return 0
  fi
  perf_db_command "${i}"
  out="$("${PERF_DB_COMMAND[@]}" probe --op "${PERF_DB_OP}" --limit "${PERF_DB_LIMIT}" 2>"${dir}/probe.err")" || rc=$?
  printf '%s\n' "${out}" >"${dir}/probe.body"
  printf '%s\n' "$( ((rc == 0)) && echo 200 || echo 500)" >"${dir}/probe.status"
  if ((rc == 5)); then # the database lacks what the operation needs: nothing to measure here
    PERF_PROBE_SKIP="${out}"
  elif ((rc != 0)); then
    PERF_PROBE_REASON="${out:-$(tail -n 3 "${dir}/probe.err" | tr '\n' ' ')}"
  fi
}

# perf_list_tests NOUN PATH EXPECT: GET PATH?limit=N for every limit in PERF_LIST_LIMITS, as
# tests rest_list_NOUN_limit_N.
perf_list_tests() {
  local noun="$1" path="$2" expect="$3" limit limits
  IFS=, read -ra limits <<<"${PERF_LIST_LIMITS}"
  for limit in "${limits[@]}"; do
    perf_test "rest_list_${noun}_limit_${limit}" GET "${path}?limit=${limit}" --expect "${expect}"
  done
}

# perf_group NAME DESCRIPTION: a mixed workload; the perf_component calls that follow run together.
perf_group() {
  PERF_CURRENT_GROUP="${PERF_CURRENT_SCENARIO}/$1"
  perf_declare group "${PERF_CURRENT_GROUP}" MIXED "$2"
}

perf_component() {
  perf_declare component "${PERF_CURRENT_GROUP}/$1" "${@:2}"
}

# perf_split_groups: give each component an even share of the group's concurrency and requests
# (requests kept a multiple of concurrency, as hey drops the remainder).
perf_split_groups() {
  local i j members share_c share_n
  for i in "${!PERF_T_ID[@]}"; do
    [[ "${PERF_T_KIND[i]}" == group ]] || continue
    members=0
    for j in "${!PERF_T_ID[@]}"; do
      [[ "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] && members=$((members + 1))
    done
    ((members > 0)) || perf_die "${PERF_EXIT_USAGE}" "mixed workload ${PERF_T_ID[i]} declares no components"
    share_c=$((PERF_T_CONC[i] / members))
    ((share_c > 0)) || share_c=1
    share_n=$((PERF_T_REQ[i] / members / share_c * share_c))
    ((share_n >= share_c || PERF_T_REQ[i] == 0)) || share_n="${share_c}"
    for j in "${!PERF_T_ID[@]}"; do
      [[ "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] || continue
      PERF_T_CONC[j]="${share_c}"
      PERF_T_REQ[j]="${share_n}"
    done
    # the group's own figures are what actually runs: the sum of its components
    PERF_T_CONC[i]=$((share_c * members))
    PERF_T_REQ[i]=$((share_n * members))
  done
}

# perf_write_plan FILE: the plan as TSV (columns in docs/internals.md).
perf_write_plan() {
  local i
  {
    printf 'id\tscenario\tkind\tgroup\tmethod\tpath\tpayload\texpect\tauth\tconcurrency\trequests\tduration\n'
    for i in "${!PERF_T_ID[@]}"; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${PERF_T_ID[i]}" "${PERF_T_SCENARIO[i]}" \
        "${PERF_T_KIND[i]}" "${PERF_T_GROUP[i]}" "${PERF_T_METHOD[i]}" "${PERF_T_PATH[i]}" \
        "${PERF_T_PAYLOAD[i]}" "${PERF_T_EXPECT[i]}" "${PERF_T_AUTH[i]}" "${PERF_T_CONC[i]}" \
        "${PERF_T_REQ[i]}" "${PERF_DURATION:--}"
    done
  } >"$1"
}

# --- running --------------------------------------------------------------------------------

# perf_url I: the full URL of test I on the current side (its path may already be a full URL
# for ad-hoc tests; an --mcp test's as perf_prepare resolved it).
perf_url() {
  local path="${PERF_T_RESOLVED_PATH["${PERF_SIDE}:$1"]:-${PERF_T_PATH[$1]}}"
  if [[ "${path}" == http://* || "${path}" == https://* ]]; then
    printf '%s\n' "${path}"
  else
    printf '%s%s\n' "${PERF_TARGET_URL}" "${path}"
  fi
}

perf_payload_file() {
  local payload="${PERF_T_RESOLVED_PAYLOAD["${PERF_SIDE}:$1"]:-${PERF_T_PAYLOAD[$1]}}"
  [[ "${payload}" == /* ]] && printf '%s\n' "${payload}" || printf '%s/%s\n' "${PERF_KIT_ROOT}" "${payload}"
}

# perf_hey_args I REQUESTS CONCURRENCY: fill PERF_HEY_ARGS for test I.
perf_hey_args() {
  local i="$1"
  PERF_HEY_ARGS=(-c "$3" -t "${PERF_TIMEOUT}" -m "${PERF_T_METHOD[i]}" -o csv)
  if [[ -n "${PERF_DURATION}" ]]; then
    PERF_HEY_ARGS+=(-z "${PERF_DURATION}")
  else
    PERF_HEY_ARGS+=(-n "$2")
  fi
  # hey takes headers on its command line only: PERF_TOKEN is the run's benchmark token there
  # (perf_bench_token; README.md, "Secrets")
  [[ "${PERF_T_AUTH[i]}" == no ]] || PERF_HEY_ARGS+=(-H "Authorization: Bearer ${PERF_TOKEN}")
  [[ "${PERF_T_PAYLOAD[i]}" == - ]] || PERF_HEY_ARGS+=(-T application/json -D "$(perf_payload_file "${i}")")
  perf_mcp_headers "${i}"
  PERF_HEY_ARGS+=("${PERF_MCP_HEADERS[@]}" "$(perf_url "${i}")")
}

# perf_mcp_endpoint I: true when test I's endpoint is an MCP streamable-HTTP one (a path ending
# in /mcp).
perf_mcp_endpoint() {
  local path="${PERF_T_PATH[$1]%%\?*}"
  [[ "${path%/}" == */mcp ]]
}

# perf_mcp_headers I: fill PERF_MCP_HEADERS with the headers an MCP streamable-HTTP client sends
# when test I's endpoint is one: it accepts JSON or an event stream, names its protocol version
# (mcp.protocol_version; empty: not sent) and, inside sessions, the first session's id (not with
# PERF_MCP_WITHOUT_SESSION set: mcp-clients.sh gives each client its own). Else none.
perf_mcp_headers() {
  local session="${PERF_T_SESSION["${PERF_SIDE}:$1"]:-}"
  session="${session%% *}"
  [[ -z "${PERF_MCP_WITHOUT_SESSION:-}" ]] || session=""
  PERF_MCP_HEADERS=()
  perf_mcp_endpoint "$1" || return 0
  PERF_MCP_HEADERS=(-H 'Accept: application/json, text/event-stream')
  [[ -z "${PERF_MCP_PROTOCOL_VERSION:-}" ]] || PERF_MCP_HEADERS+=(-H "MCP-Protocol-Version: ${PERF_MCP_PROTOCOL_VERSION}")
  [[ -z "${session}" ]] || PERF_MCP_HEADERS+=(-H "Mcp-Session-Id: ${session}")
}

# perf_prepare I DIR: for an --mcp test not yet prepared on this side, resolve its endpoint and
# build its request from what the gateway lists (DIR/request.json) - with mcp.sessions stateful
# and an MCP endpoint, inside a session opened for the test (DIR/session.txt; ended by
# perf_close_sessions); PERF_PROBE_REASON says why it could not be. Returns 1 then.
perf_prepare() {
  local i="$1" dir="$2" key="${PERF_SIDE}:$1" values="${PERF_PAYLOAD_DIR_MCP}/arguments.json" out rc=0 args=()
  [[ "${PERF_T_PAYLOAD[i]}" == mcp:* && -z "${PERF_T_RESOLVED_PAYLOAD["${key}"]:-}" ]] || return 0
  [[ "${values}" == /* ]] || values="${PERF_KIT_ROOT}/${values}"
  # stateful: a session per client; a set-up test opens its own, the probe needs one
  [[ "${PERF_MCP_SESSIONS:-stateless}" != stateful ]] || ! perf_mcp_endpoint "${i}" ||
    args+=(--sessions "$(perf_driven "${i}" && echo 1 || echo "${PERF_T_CONC[i]}")")
  out="$(PERFKIT_TOKEN="${PERF_TOKEN:-}" perf_py mcp-prepare --url "${PERF_TARGET_URL}" \
    --path "${PERF_T_PATH[i]}" --operation "${PERF_T_PAYLOAD[i]#mcp:}" \
    --arguments "${values}" --out "${dir}/request.json" "${args[@]}" \
    --protocol-version "${PERF_MCP_PROTOCOL_VERSION:-}" --timeout "${PERF_TIMEOUT}")" || rc=$?
  case "${rc}" in
    0)
      PERF_T_RESOLVED_PATH["${key}"]="${out%%$'\t'*}"
      PERF_T_RESOLVED_PAYLOAD["${key}"]="${dir}/request.json"
      if [[ "${out}" == *$'\t'* ]]; then
        PERF_T_SESSION["${key}"]="${out#*$'\t'}"
        printf 'sessions %s\n' "${out#*$'\t'}" >"${dir}/session.txt"
      fi
      ;;
    "${PERF_EXIT_BENCHMARK_FAILED}")
      PERF_PROBE_REASON="${out}"
      return 1
      ;;
    *) perf_die "${rc}" "${PERF_T_ID[i]}: could not prepare its MCP request (perfkit mcp-prepare exited ${rc}): ${out}" ;;
  esac
}

# perf_probe I DIR: send test I once with curl, keep the answer, judge it; sets PERF_PROBE_REASON.
perf_probe() {
  local i="$1" dir="$2" status token="" args=(-sS -o "$2/probe.body" -w '%{http_code}' --max-time "${PERF_TIMEOUT}")
  PERF_PROBE_REASON="" PERF_PROBE_SKIP=""
  if [[ "${PERF_T_KIND[i]}" == db ]]; then
    perf_db_probe "${i}" "${dir}"
    return 0
  fi
  perf_prepare "${i}" "${dir}" || return 0
  perf_mcp_headers "${i}"
  args+=(-X "${PERF_T_METHOD[i]}" "${PERF_MCP_HEADERS[@]}" -D "${dir}/probe.headers")
  [[ "${PERF_T_AUTH[i]}" == no ]] || token="${PERF_TOKEN}"
  [[ "${PERF_T_PAYLOAD[i]}" == - ]] || args+=(-H 'Content-Type: application/json' --data-binary "@$(perf_payload_file "${i}")")
  status="$(perf_curl "${token}" "${args[@]}" "$(perf_url "${i}")" 2>/dev/null)" || status="${status:-000}"
  printf '%s\n' "${status}" >"${dir}/probe.status"
  if PERF_PROBE_REASON="$(perf_py validate --status "${status}" --body "${dir}/probe.body" --expect "${PERF_T_EXPECT[i]}")"; then
    PERF_PROBE_REASON=""
    perf_check_session "${i}" "${dir}/probe.headers"
  elif [[ "${status}" == 403 && -n "${token}" && -n "${PERF_SIDE_BENCH[PERF_SIDE]:-}" ]]; then
    PERF_PROBE_REASON+=" (the load runs as the benchmark user, whose token may list, read and call tools only: README.md, \"Secrets\")"
  fi
}

# perf_sse_check I DIR: one session of legacy-SSE test I (DIR/sse-check.*, at most
# PERF_SSE_CHECK_TIMEOUT seconds) before it is measured. False when it got no answer, with
# PERF_SSE_STATUS and PERF_SSE_REASON: on a gateway that reports CACHE_TYPE=memory a call is
# skipped (measured here: its SSE transport's session registry holds one message at a time and
# loses them - calls time out or the stream closes; with redis they are answered); anything
# else (no SSE endpoint, a refusal, a connection that cannot be set up) fails the test.
perf_sse_check() {
  local i="$1" dir="$2" timeout="${PERF_TIMEOUT}" why limit="${PERF_SSE_CHECK_TIMEOUT}" memory=0
  if [[ "${PERF_T_KIND[i]}" == sse-call ]] &&
    grep -Eq '"cache_type": *"memory"' "${PERF_RUN_DIR}/gateway-version.json" 2>/dev/null; then
    memory=1 limit="${PERF_SSE_CHECK_TIMEOUT_MEMORY}"
  fi
  ((timeout <= limit)) || timeout="${limit}"
  PERF_TIMEOUT="${timeout}" perf_hey "${i}" "${dir}/sse-check" 1 1
  perf_wait "${PERF_LAST_PID}"
  ! awk -F, 'NR > 1 && $7 == 200 { found = 1 } END { exit !found }' "${dir}/sse-check.csv" 2>/dev/null || return 0
  why="$(grep -E '^[0-9]+ x ' "${dir}/sse-check.err" 2>/dev/null | head -1 | cut -d' ' -f3-)"
  why="${why:-no session could be timed (${dir}/sse-check.err)}"
  if ((memory)); then
    PERF_SSE_STATUS=skipped
    PERF_SSE_REASON="no answer over the SSE stream (${why}); this gateway runs CACHE_TYPE=memory, where its SSE transport's session registry holds one message at a time and loses them - measure it on a gateway with CACHE_TYPE=redis (local stack: PERF_CACHE=redis)"
  else
    PERF_SSE_STATUS=failed
    PERF_SSE_REASON="the legacy SSE transport did not work: ${why}"
  fi
  return 1
}

# perf_check_session I HEADERS: inside a session, the gateway must answer in that session (it
# echoes mcp-session-id); PERF_PROBE_REASON says so when it does not.
perf_check_session() {
  local session="${PERF_T_SESSION["${PERF_SIDE}:$1"]:-}" echoed
  session="${session%% *}"
  [[ -n "${session}" ]] || return 0
  echoed="$(tr -d '\r' <"$2" | sed -n 's/^[Mm][Cc][Pp]-[Ss][Ee][Ss][Ss][Ii][Oo][Nn]-[Ii][Dd]: *//p' | tail -n 1)"
  [[ "${echoed}" == "${session}" ]] ||
    PERF_PROBE_REASON="the gateway did not answer in MCP session ${session} (its answer carried mcp-session-id '${echoed}')"
}

# perf_close_sessions I DIR: end (DELETE) the MCP sessions test I (or its group's components)
# ran in on the current side; the outcome is added to the test's session.txt, a failure is a
# warning.
perf_close_sessions() {
  local i="$1" dir="$2" j session sessions out rc file args
  for j in "${!PERF_T_ID[@]}"; do
    [[ "${j}" == "${i}" || "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] || continue
    read -ra sessions <<<"${PERF_T_SESSION["${PERF_SIDE}:${j}"]:-}"
    ((${#sessions[@]})) || continue
    args=()
    for session in "${sessions[@]}"; do
      args+=(--session "${session}")
    done
    rc=0
    out="$(PERFKIT_TOKEN="${PERF_TOKEN:-}" perf_py mcp-session close --url "$(perf_url "${j}")" \
      "${args[@]}" --timeout "${PERF_TIMEOUT}")" || rc=$?
    PERF_T_SESSION["${PERF_SIDE}:${j}"]=""
    file="${dir}/session.txt"
    [[ "${j}" == "${i}" ]] || file="${dir}/${PERF_T_ID[j]##*/}/session.txt"
    printf 'delete %s\n' "${out}" >>"${file}"
    ((rc == 0)) || perf_warn "${PERF_T_ID[j]}: ending its MCP sessions failed: ${out}"
  done
}

# perf_hey I BASE REQUESTS CONCURRENCY: start one hey for test I writing BASE.csv / BASE.time.
# In stateful MCP sessions the test's clients are separate MCP clients, one session each
# (utils/lib/mcp-clients.sh runs one hey -c 1 per session and merges their CSVs).
perf_hey() {
  local i="$1" base="$2" requests="$3" conc="$4" sessions=() command token=""
  read -ra sessions <<<"${PERF_T_SESSION["${PERF_SIDE}:${i}"]:-}"
  if [[ "${PERF_T_KIND[i]}" == db ]]; then
    ((requests > 0)) || requests=$((20 * conc)) # duration mode: a fixed count of calls
    perf_db_command "${i}"
    command=("${PERF_DB_COMMAND[@]}" run)
    PERF_HEY_ARGS=(--op "${PERF_DB_OP}" --limit "${PERF_DB_LIMIT}" -n "${requests}" -c "${conc}" --stats "${base}.sql.json")
  elif perf_driven "${i}"; then
    ((requests > 0)) || requests=$((20 * conc)) # duration mode: a fixed count of sessions
    PERF_HEY_ARGS=(--url "$(perf_url "${i}")" --request "$(perf_payload_file "${i}")" -n "${requests}"
      -c "${conc}" -t "${PERF_TIMEOUT}")
    [[ "${PERF_T_KIND[i]}" != sse-* ]] || PERF_HEY_ARGS+=(--transport sse --time "${PERF_T_KIND[i]#sse-}")
    command=(env "PYTHONPATH=${PERF_KIT_ROOT}/utils" "${PERF_VENV}/bin/python" -m perfkit mcp-setup-cost)
    token="${PERF_TOKEN:-}" # in its environment, never on its command line
  elif ((${#sessions[@]})); then
    ((conc <= ${#sessions[@]})) || conc="${#sessions[@]}"
    PERF_MCP_WITHOUT_SESSION=1 perf_hey_args "${i}" "$((requests / conc))" 1
    command=("${PERF_KIT_ROOT}/utils/lib/mcp-clients.sh" "${PERF_HEY_BIN}" "${sessions[*]:0:conc}")
  else
    perf_hey_args "${i}" "${requests}" "${conc}"
    command=("${PERF_HEY_BIN}")
  fi
  printf 'started_at=%s\n' "${EPOCHREALTIME}" >"${base}.time"
  PERFKIT_TOKEN="${token}" perf_spawn /usr/bin/time -a -o "${base}.time" -f $'elapsed=%e\nuser=%U\nsys=%S\nexit=%x' \
    "${command[@]}" "${PERF_HEY_ARGS[@]}" >"${base}.csv" 2>"${base}.err"
}

perf_wait() {
  local pid="$1"
  wait "${pid}" || true
  perf_forget_pid "${pid}"
}

perf_progress() {
  local label="$1" eta="" elapsed
  elapsed=$((SECONDS - PERF_BENCH_START))
  if ((PERF_ROUNDS_DONE > 0 && PERF_ROUNDS_DONE < PERF_ROUNDS_TOTAL)); then
    eta=$((elapsed * (PERF_ROUNDS_TOTAL - PERF_ROUNDS_DONE) / PERF_ROUNDS_DONE))
    eta=" - ETA $((eta / 60))m$((eta % 60))s"
  fi
  perf_log "[${PERF_ROUNDS_DONE}/${PERF_ROUNDS_TOTAL} rounds] ${label}${eta}"
}

# perf_round I BASE: one measured round of test I (a group runs all its components at once).
perf_round() {
  local i="$1" base="$2" j pids=() pid
  if [[ "${PERF_T_KIND[i]}" == group ]]; then
    mkdir -p "${base}"
    for j in "${!PERF_T_ID[@]}"; do
      [[ "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] || continue
      perf_hey "${j}" "${base}/${PERF_T_ID[j]##*/}" "${PERF_T_REQ[j]}" "${PERF_T_CONC[j]}"
      pids+=("${PERF_LAST_PID}")
    done
  else
    perf_hey "${i}" "${base}" "${PERF_T_REQ[i]}" "${PERF_T_CONC[i]}"
    pids+=("${PERF_LAST_PID}")
  fi
  for pid in "${pids[@]}"; do
    perf_wait "${pid}"
  done
}

# perf_probe_all I DIR: probe test I, or every component of group I; first failure wins.
perf_probe_all() {
  local i="$1" dir="$2" j
  if [[ "${PERF_T_KIND[i]}" != group ]]; then
    perf_probe "${i}" "${dir}"
    return
  fi
  for j in "${!PERF_T_ID[@]}"; do
    [[ "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] || continue
    mkdir -p "${dir}/${PERF_T_ID[j]##*/}"
    perf_probe "${j}" "${dir}/${PERF_T_ID[j]##*/}"
    if [[ -n "${PERF_PROBE_REASON}" ]]; then
      PERF_PROBE_REASON="${PERF_T_ID[j]##*/}: ${PERF_PROBE_REASON}"
      # (an --mcp component that could not be prepared sent no probe)
      [[ ! -f "${dir}/${PERF_T_ID[j]##*/}/probe.status" ]] || cp "${dir}/${PERF_T_ID[j]##*/}/probe."{body,status} "${dir}/"
      return
    fi
  done
}

perf_record() {
  local id="$1" status="$2" reason="$3" dir="$4" args=()
  [[ -z "${reason}" ]] || args+=(--reason "${reason}")
  [[ ! -f "${dir}/probe.status" ]] || args+=(--probe-status "$(<"${dir}/probe.status")" --probe-body "${dir}/probe.body")
  perf_py record "${PERF_RUN_DIR}" --id "${id}" --status "${status}" "${args[@]}"
}

# --- sides: one target (a normal run) or two measured alternately (version A/B) -------------

PERF_SIDE_URLS=()
PERF_SIDE_TOKENS=()
PERF_SIDE_DIRS=()
PERF_SIDE_STACKS=() # the local stack serving each side ("": the configured one)
PERF_SIDE_BENCH=()  # the id of the benchmark token each side's load sends ("": the user's own)

# perf_add_side URL TOKEN RUN_DIR [STACK] [BENCH_ID]: one more target, with the token its load
# sends, its own run folder, the name of the kit's local stack serving it, when one does, and
# the id of that token when it is a benchmark token (perf_bench_token).
perf_add_side() {
  PERF_SIDE_URLS+=("$1")
  PERF_SIDE_TOKENS+=("$2")
  PERF_SIDE_DIRS+=("$3")
  PERF_SIDE_STACKS+=("${4:-}")
  PERF_SIDE_BENCH+=("${5:-}")
}

# perf_local_stack ARGS...: utils/local-stack.sh ARGS on the current side's stack - an A/B
# side's own (ab-base, ab-candidate: named by its gateway record), else the configured one.
perf_local_stack() {
  local stack="${PERF_SIDE_STACKS[PERF_SIDE]:-}"
  if [[ -n "${stack}" ]]; then
    PERF_STACK_NAME="${stack}" "${PERF_KIT_ROOT}/utils/local-stack.sh" "$@"
  else
    "${PERF_KIT_ROOT}/utils/local-stack.sh" "$@"
  fi
}

# perf_use_side S: point PERF_TARGET_URL / PERF_TOKEN / PERF_RUN_DIR at side S.
perf_use_side() {
  PERF_SIDE="$1"
  PERF_TARGET_URL="${PERF_SIDE_URLS[$1]}"
  PERF_TOKEN="${PERF_SIDE_TOKENS[$1]}"
  PERF_RUN_DIR="${PERF_SIDE_DIRS[$1]}"
}

# perf_round_order K: the sides in the order round K measures them - ABBA..., so that neither
# side always goes first (a drift within the job then hits both alike).
perf_round_order() {
  local k="$1" s order=()
  for s in "${!PERF_SIDE_URLS[@]}"; do
    order+=("${s}")
  done
  if ((k % 2 == 0 && ${#order[@]} == 2)); then
    order=("${order[1]}" "${order[0]}")
  fi
  printf '%s\n' "${order[@]}"
}

# perf_run_test I: on every side: probe, warm up; then PERF_ITERATIONS measured rounds, sides
# alternating; then probe again and record. A side whose first probe fails is not benchmarked.
perf_run_test() {
  local i="$1" id="${PERF_T_ID[$1]}" k s live=() order
  PERF_CURRENT_TEST="${id}"
  for s in "${!PERF_SIDE_URLS[@]}"; do
    perf_use_side "${s}"
    mkdir -p "${PERF_RUN_DIR}/raw/${id}"
    perf_probe_all "${i}" "${PERF_RUN_DIR}/raw/${id}"
    if [[ -n "${PERF_PROBE_SKIP:-}" ]]; then
      perf_warn "${id}: skipped at ${PERF_TARGET_URL}: ${PERF_PROBE_SKIP}"
      perf_record "${id}" skipped "${PERF_PROBE_SKIP}" "${PERF_RUN_DIR}/raw/${id}"
      continue
    fi
    if [[ -n "${PERF_PROBE_REASON}" ]]; then
      perf_warn "${id}: probe failed at ${PERF_TARGET_URL}, not benchmarked: ${PERF_PROBE_REASON}"
      perf_close_sessions "${i}" "${PERF_RUN_DIR}/raw/${id}"
      perf_record "${id}" failed "probe failed: ${PERF_PROBE_REASON}" "${PERF_RUN_DIR}/raw/${id}"
      continue
    fi
    if [[ "${PERF_T_KIND[i]}" == sse-* ]] && ! perf_sse_check "${i}" "${PERF_RUN_DIR}/raw/${id}"; then
      perf_warn "${id}: ${PERF_SSE_STATUS} at ${PERF_TARGET_URL}, not benchmarked: ${PERF_SSE_REASON}"
      perf_close_sessions "${i}" "${PERF_RUN_DIR}/raw/${id}"
      perf_record "${id}" "${PERF_SSE_STATUS}" "${PERF_SSE_REASON}" "${PERF_RUN_DIR}/raw/${id}"
      continue
    fi
    live+=("${s}")
    perf_refresh_token
    PERF_SIDE_TOKENS[s]="${PERF_TOKEN}"
    if ((PERF_WARMUP > 0)); then
      perf_progress "${id} warm-up (${PERF_WARMUP} requests, discarded)"
      perf_warmup "${i}" "${PERF_RUN_DIR}/raw/${id}"
    fi
  done
  for s in "${live[@]}"; do
    perf_use_side "${s}"
    perf_upstream_snapshot "${i}" before
    # the machine's speed in these minutes (perfkit.results.speed; ~0.15 s, between tests)
    perf_py speed-reference --out "${PERF_RUN_DIR}/raw/${id}/speed-reference.json" ||
      perf_warn "${id}: the machine-speed reference could not be measured"
  done
  for ((k = 1; k <= PERF_ITERATIONS; k++)); do
    mapfile -t order < <(perf_round_order "${k}")
    for s in "${order[@]}"; do
      [[ " ${live[*]} " == *" ${s} "* ]] || continue
      perf_use_side "${s}"
      perf_progress "${id} round ${k}/${PERF_ITERATIONS}$(perf_side_label)"
      perf_round "${i}" "${PERF_RUN_DIR}/raw/${id}/round-${k}"
    done
    PERF_ROUNDS_DONE=$((PERF_ROUNDS_DONE + 1))
    if perf_settled "${id}" "${k}" "${#live[@]}"; then
      perf_progress "${id} ${PERF_SETTLED_TEXT}"
      break
    fi
  done
  for s in "${live[@]}"; do
    perf_use_side "${s}"
    perf_upstream_snapshot "${i}" after
    perf_probe_all "${i}" "${PERF_RUN_DIR}/raw/${id}"
    perf_close_sessions "${i}" "${PERF_RUN_DIR}/raw/${id}"
    if [[ -n "${PERF_PROBE_REASON}" ]]; then
      perf_record "${id}" failed "answers went bad during the run: ${PERF_PROBE_REASON}" "${PERF_RUN_DIR}/raw/${id}"
    else
      perf_record "${id}" ok "${PERF_SETTLED_TEXT}" "${PERF_RUN_DIR}/raw/${id}"
      if [[ "${PERF_T_KIND[i]}" == db && " ${PERF_DB_PLAN_TESTS[*]} " != *" ${id}="* ]]; then
        perf_db_command "${i}"
        PERF_DB_PLAN_TESTS+=("${id}=${PERF_DB_OP}:${PERF_DB_LIMIT}")
      fi
    fi
  done
  # shellcheck disable=SC2034 # read by run_on_signal in run-configurable.sh
  PERF_CURRENT_TEST=""
}

# perf_settled ID K LIVE: with performance.sequential on, whether test ID's first K rounds
# settle it, so its rounds may stop (perfkit settled; docs/verdicts.md, "Stopping early"): the
# A/B candidate against the base (both sides live), or a single target against the stored
# baseline run-configurable.sh found (PERF_SEQUENTIAL_BASELINE). PERF_SETTLED_TEXT says so.
# Off, nothing to hold the rounds against, or the last round: no.
perf_settled() {
  local id="$1" k="$2" sides_live="$3" run_dir against=() text rc=0
  PERF_SETTLED_TEXT=""
  [[ "${PERF_SEQUENTIAL:-false}" == true ]] && ((k >= PERF_MIN_ROUNDS && k < PERF_ITERATIONS)) || return 1
  if ((${#PERF_SIDE_DIRS[@]} == 2)); then
    ((sides_live == 2)) || return 1
    run_dir="${PERF_SIDE_DIRS[1]}" against=(--against "${PERF_SIDE_DIRS[0]}")
  elif [[ -n "${PERF_SEQUENTIAL_BASELINE:-}" ]]; then
    run_dir="${PERF_SIDE_DIRS[0]}" against=(--baseline "${PERF_SEQUENTIAL_BASELINE}")
  else
    return 1
  fi
  text="$(perf_py settled "${run_dir}" --test "${id}" --rounds "${k}" --max-rounds "${PERF_ITERATIONS}" "${against[@]}")" || rc=$?
  if ((rc == 0)); then
    PERF_SETTLED_TEXT="${text}"
    return 0
  fi
  ((rc == 1)) || perf_warn "${id}: could not look at its rounds so far (perfkit settled exited ${rc}); it runs every round"
  return 1
}

perf_side_label() {
  ((${#PERF_SIDE_URLS[@]} > 1)) || return 0
  printf ' at %s' "${PERF_TARGET_URL}"
}

# perf_refresh_token: hey sends a fixed token, so make sure it outlives the test to come
# (15 minutes, or half the token's lifetime when that is shorter); logs in again only if not.
perf_refresh_token() {
  local token
  [[ -n "${PERF_TOKEN:-}" ]] || return 0
  # a benchmark token lasts the day its run may take (perfkit.benchtoken): not the login's
  [[ -z "${PERF_SIDE_BENCH[PERF_SIDE]:-}" ]] || return 0
  if token="$(perf_py auth cached --cache "${PERF_TOKEN_CACHE}" --url "${PERF_TARGET_URL}" \
    --email "${PERF_AUTH_EMAIL}" --margin 900)"; then
    PERF_TOKEN="${token}"
    return 0
  fi
  PERF_TOKEN="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${PERF_TARGET_URL}" --print --no-verify \
    --min-valid 900 2>/dev/null)" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "could not renew the login token for ${PERF_TARGET_URL}; run utils/setup-auth.sh to see why"
}

# --- the benchmark token: what hey sends (README.md, "Secrets") -----------------------------

PERF_BENCH_ISSUED=() # "URL ID" of each benchmark token this run issued and has not yet revoked

# perf_bench_token URL USER_TOKEN RUN_DIR STRICT: the token the load sends to URL - on hey's
# command line, in the probes and the MCP drivers. First the benchmark tokens of earlier runs
# at URL that ended without revoking theirs (killed) are revoked; then a benchmark token is
# issued (perfkit bench-token issue: a dedicated user's, scoped to the scenarios' reads and
# calls, for the shortest time the gateway allows; perf_bench_revoke revokes it). When the
# gateway cannot issue one, the user's own token, said once - or, STRICT=1 (--strict-secrets),
# exit 3. Sets PERF_LOAD_TOKEN, PERF_LOAD_ID (the benchmark token's id, or "") and PERF_LOAD_AS
# (who the load runs as: JSON without the token, for run.json).
# shellcheck disable=SC2034 # PERF_LOAD_* are read by run-configurable.sh
perf_bench_token() {
  local url="$1" user_token="$2" dir="$3" strict="$4" out err why rc=0
  PERF_LOAD_TOKEN="${user_token}" PERF_LOAD_ID=""
  err="$(mktemp)"
  PERFKIT_TOKEN="${user_token}" perf_py bench-token leftovers --url "${url}" --ledger "${PERF_BENCH_LEDGER}" ||
    perf_warn "the benchmark tokens earlier runs left at ${url} were not all revoked (see above); they expire within a day"
  if [[ "${PERF_MCP_SESSIONS:-stateless}" == stateful ]]; then
    # the run ends its sessions with DELETE on /servers/<id>/mcp, which 1.0.7 allows only a
    # token that may delete servers: not a benchmark token's right
    why="stateful MCP sessions are ended with DELETE /servers/<id>/mcp, which 1.0.7 allows only a token that may delete servers (servers.delete)"
  else
    out="$(PERFKIT_TOKEN="${user_token}" perf_py bench-token issue --url "${url}" --ledger "${PERF_BENCH_LEDGER}" \
      --owner-pid "$$" --run-dir "${dir}" 2>"${err}")" || rc=$?
    if ((rc == 0)); then
      PERF_LOAD_TOKEN="${out%%$'\n'*}"
      out="${out#*$'\n'}"
      PERF_LOAD_ID="${out%%$'\n'*}"
      PERF_LOAD_AS="${out#*$'\n'}"
      PERF_BENCH_ISSUED+=("${url} ${PERF_LOAD_ID}")
      rm -f "${err}"
      perf_log "the load runs as the benchmark user (reads and tool calls only), with a token of this run's, revoked at its end"
      return 0
    fi
    why="$(sed -n 's/^perfkit bench-token: error: //p' "${err}" | tail -n 1)"
    why="${why:-$(tail -n 1 "${err}")}"
  fi
  rm -f "${err}"
  ((strict == 0)) ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "--strict-secrets: ${url} issued no benchmark token (${why}), and hey would carry your own token on its command line; fix that, or run without --strict-secrets (README.md, \"Secrets\")"
  perf_warn "${url} issued no benchmark token (${why}): the load sends your own token (${PERF_AUTH_EMAIL}), which other local users can read on hey's command line while it runs; --strict-secrets refuses instead (README.md, \"Secrets\")"
  PERF_LOAD_AS="$(perf_py bench-token as-user --email "${PERF_AUTH_EMAIL}" --reason "no benchmark token: ${why}")"
}

# perf_bench_revoke: revoke every benchmark token this run issued (its EXIT and INT paths),
# with the user's token (cached, or a new login). One that cannot be revoked now stays in the
# ledger: the next run at its gateway revokes it, and it expires within a day anyway.
perf_bench_revoke() {
  local entry url id token
  for entry in "${PERF_BENCH_ISSUED[@]}"; do
    read -r url id <<<"${entry}"
    if token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${url}" --print --no-verify --min-valid 60 2>/dev/null)" &&
      PERFKIT_TOKEN="${token}" perf_py bench-token revoke --url "${url}" --ledger "${PERF_BENCH_LEDGER}" --id "${id}"; then
      perf_log "revoked the benchmark token of this run at ${url}"
    else
      perf_warn "the benchmark token ${id} at ${url} could not be revoked now: the next run there revokes it, and it expires within a day"
    fi
  done
  PERF_BENCH_ISSUED=()
}

# perf_warmup I DIR: a short discarded hey (count-based even in duration mode).
perf_warmup() {
  local i="$1" dir="$2" conc="${PERF_T_CONC[$1]}" duration="${PERF_DURATION}" j
  ((conc <= PERF_WARMUP)) || conc="${PERF_WARMUP}"
  PERF_DURATION=""
  if [[ "${PERF_T_KIND[i]}" == group ]]; then
    for j in "${!PERF_T_ID[@]}"; do
      [[ "${PERF_T_GROUP[j]}" == "${PERF_T_ID[i]}" ]] || continue
      perf_hey "${j}" "${dir}/warmup-${PERF_T_ID[j]##*/}" "$((PERF_WARMUP / conc * conc))" "${conc}"
      perf_wait "${PERF_LAST_PID}"
    done
  else
    perf_hey "${i}" "${dir}/warmup" "$((PERF_WARMUP / conc * conc))" "${conc}"
    perf_wait "${PERF_LAST_PID}"
  fi
  PERF_DURATION="${duration}"
}

# perf_run_plan: run every test of the plan (components run inside their group; the workflow
# tests all in one multi-user run).
perf_run_plan() {
  local i workflows=0
  PERF_ROUNDS_DONE=0
  PERF_ROUNDS_TOTAL=0
  for i in "${!PERF_T_ID[@]}"; do
    case "${PERF_T_KIND[i]}" in
      component) ;;
      workflow) workflows=1 ;;
      *) PERF_ROUNDS_TOTAL=$((PERF_ROUNDS_TOTAL + PERF_ITERATIONS)) ;;
    esac
  done
  PERF_ROUNDS_TOTAL=$((PERF_ROUNDS_TOTAL + workflows * PERF_ITERATIONS))
  PERF_BENCH_START="${SECONDS}"
  for i in "${!PERF_T_ID[@]}"; do
    [[ "${PERF_T_KIND[i]}" == component || "${PERF_T_KIND[i]}" == workflow ]] || perf_run_test "${i}"
  done
  ((!workflows)) || perf_run_workflows
}

# perf_run_workflows: the plan's workflow tests, on every side one multi-user run of them all
# (utils/workflows.sh run: PERF_WF_USERS users made, driven, removed): after PERF_WF_WARMUP
# seconds, PERF_ITERATIONS windows of PERF_WF_ROUND_SECONDS, cut into every test's rounds
# (perfkit workflows-rounds). Its tables, log and samples in raw/workflows/. A run that failed
# before any load (exit 2, 3: users could not be made, the token is not an admin's) fails
# every test with its reason; failed requests are the tests' errors; an SLO of config.yaml
# broken is said (the run's verdict is the baseline's, as for every scenario).
perf_run_workflows() {
  local ids=() i s dir rc seconds why name counts
  for i in "${!PERF_T_ID[@]}"; do
    [[ "${PERF_T_KIND[i]}" != workflow ]] || ids+=("${PERF_T_ID[i]}")
  done
  seconds="$(awk -v k="${PERF_ITERATIONS}" -v w="${PERF_WF_ROUND_SECONDS}" 'BEGIN { print k * w }')"
  PERF_CURRENT_TEST="workflows"
  for s in "${!PERF_SIDE_URLS[@]}"; do
    perf_use_side "${s}"
    dir="${PERF_RUN_DIR}/raw/workflows"
    mkdir -p "${dir}"
    perf_progress "workflows: ${PERF_WF_USERS} users, ${PERF_WF_WORKLOAD}, ${PERF_ITERATIONS} rounds of ${PERF_WF_ROUND_SECONDS} s after ${PERF_WF_WARMUP} s$(perf_side_label)"
    rc=0
    perf_spawn env GATEWAY_URL= "${PERF_KIT_ROOT}/utils/workflows.sh" run --url "${PERF_TARGET_URL}" \
      --users "${PERF_WF_USERS}" --duration "${seconds}" --warmup "${PERF_WF_WARMUP}" \
      --spawn-rate "${PERF_WF_SPAWN_RATE}" --workload "${PERF_WF_WORKLOAD}" --prefix perfkit-run \
      --profile "${PERF_PROFILE:-light}" --output "${dir}/workflows.json" --keep-samples "${dir}/samples.json" \
      >"${dir}/run.log" 2>&1
    wait "${PERF_LAST_PID}" || rc=$?
    perf_forget_pid "${PERF_LAST_PID}"
    if [[ ! -f "${dir}/samples.json" ]]; then
      why="$(grep -E 'error|refused|cannot|could not' "${dir}/run.log" | tail -n 1)"
      why="the multi-user run ended (exit ${rc}) before any load: ${why:-see ${dir}/run.log}"
      perf_warn "workflows: ${why}"
      for i in "${ids[@]}"; do
        mkdir -p "${PERF_RUN_DIR}/raw/${i}"
        perf_record "${i}" failed "${why}" "${PERF_RUN_DIR}/raw/${i}"
      done
      continue
    fi
    ((rc != 1)) || perf_warn "workflows: an SLO of config.yaml was broken (${dir}/run.log says which)"
    ((rc != PERF_EXIT_INTERRUPTED)) || perf_warn "workflows: the multi-user run was interrupted; its rounds are partial"
    if ! perf_py workflows-rounds write --samples "${dir}/samples.json" --raw "${PERF_RUN_DIR}/raw/workflows" \
      --workload "${PERF_WF_WORKLOAD}" --rounds "${PERF_ITERATIONS}" --round-seconds "${PERF_WF_ROUND_SECONDS}" \
      --warmup "${PERF_WF_WARMUP}" >"${dir}/rounds.txt"; then
      for i in "${ids[@]}"; do
        perf_record "${i}" failed "the multi-user run's samples could not be cut into rounds (${dir})" "${dir}"
      done
      continue
    fi
    while read -r name counts; do
      # the run measures the whole workload; --tests keeps only some of its tests
      [[ " ${ids[*]} " == *" workflows/${name} "* ]] || continue
      if [[ " ${counts} " =~ [1-9] ]]; then
        perf_record "workflows/${name}" ok "" "${PERF_RUN_DIR}/raw/workflows/${name}"
      else
        # a rare workflow (mixed runs token and agent once in 20) may not come round in short
        # windows: nothing measured is no failure
        perf_record "workflows/${name}" skipped \
          "not run in the measured windows (${PERF_WF_WORKLOAD}: a rare workflow; longer rounds - PERF_WF_ROUND_SECONDS - or more users run it)" \
          "${PERF_RUN_DIR}/raw/workflows/${name}"
      fi
    done <"${dir}/rounds.txt"
  done
  PERF_ROUNDS_DONE=$((PERF_ROUNDS_DONE + PERF_ITERATIONS))
  # shellcheck disable=SC2034 # read by run_on_signal in run-configurable.sh
  PERF_CURRENT_TEST=""
}

# --- resource monitor: one `perfkit monitor` per run folder, for the whole run ----------------

readonly PERF_MONITOR_INTERVAL=0.5 # seconds between samples (docs/internals.md, resources.jsonl)
PERF_MONITOR_PIDS=()
PERF_MONITOR_DIRS=()

# perf_monitor_start URL DIR: sample resource use into DIR/resources.jsonl until
# perf_monitor_stop (or the interrupt path's perf_kill_children; it also stops by itself once
# this shell is gone). The gateway: the local stack's processes when the stack serves URL, else
# whatever listens on URL's loopback port. A monitor that fails costs a warning, never the run.
perf_monitor_start() {
  local url="$1" dir="$2" role pid port args=(--interval "${PERF_MONITOR_INTERVAL}" --watch-pid "$$")
  # PERF_MONITOR_BY_PORT=0: what listens on the target's port is not the gateway (a container's
  # port proxy in run-advanced.sh's Docker mode)
  if [[ "${PERF_MONITOR_BY_PORT:-1}" != 0 && "${url}" =~ ^(https?)://(127\.[0-9.]+|localhost|\[::1\])(:([0-9]+))?(/|$) ]]; then
    port="${BASH_REMATCH[4]:-$([[ "${BASH_REMATCH[1]}" == https ]] && echo 443 || echo 80)}"
    args+=(--gateway-port "${port}")
  fi
  # lines `ROLE VALUE`: gateway PID, server PID, postgres URL
  while read -r role pid; do
    case "${role}" in
      gateway) args+=(--gateway-pid "${pid}") ;;
      server) args+=(--server-pid "${pid}") ;;
      postgres) args+=(--pg-dsn "${pid}") ;; # the stack's own database: count its connections
    esac
  done < <("${PERF_KIT_ROOT}/utils/local-stack.sh" pids --url "${url}" 2>/dev/null || true)
  perf_spawn env PYTHONPATH="${PERF_KIT_ROOT}/utils" "${PERF_VENV}/bin/python" -m perfkit \
    monitor "${dir}" "${args[@]}" >/dev/null
  PERF_MONITOR_PIDS+=("${PERF_LAST_PID}")
  PERF_MONITOR_DIRS+=("${dir}")
}

# perf_monitor_stop: stop every monitor (each flushes and exits within a second of TERM).
perf_monitor_stop() {
  local i
  for i in "${!PERF_MONITOR_PIDS[@]}"; do
    perf_stop_group "${PERF_MONITOR_PIDS[i]}" 2
    perf_forget_pid "${PERF_MONITOR_PIDS[i]}"
    [[ -s "${PERF_MONITOR_DIRS[i]}/resources.jsonl" ]] ||
      perf_warn "the resource monitor recorded nothing in ${PERF_MONITOR_DIRS[i]}: summary.json has no resource figures"
  done
  PERF_MONITOR_PIDS=()
  PERF_MONITOR_DIRS=()
}

# --- the benchmark MCP servers' own call counts ------------------------------------------------

# perf_stats_servers: `NAME URL` lines, the benchmark MCP servers behind the target whose
# GET /stats the kit can ask: PERF_STATS_SERVERS=NAME=URL,... (run-advanced.sh's Docker mode) or
# the servers the local stack runs behind it; nothing for another gateway.
perf_stats_servers() {
  local entries=() server
  if [[ -n "${PERF_STATS_SERVERS:-}" ]]; then
    IFS=, read -ra entries <<<"${PERF_STATS_SERVERS}"
    for server in "${entries[@]}"; do
      printf '%s %s\n' "${server%%=*}" "${server#*=}"
    done
  else
    "${PERF_KIT_ROOT}/utils/local-stack.sh" servers --url "${PERF_TARGET_URL}" 2>/dev/null || true
  fi
}

# perf_servers_snapshot PHASE: servers-PHASE.json (before|after) in the run folder: the call
# counts of every benchmark MCP server behind the target (perf_stats_servers). summarize turns
# the pair into `servers`. Before the run, the servers are kept in upstreams.txt for the tests'
# own snapshots (perf_upstream_snapshot).
perf_servers_snapshot() {
  local phase="$1" name url args=()
  [[ "${phase}" != before ]] || perf_stats_servers >"${PERF_RUN_DIR}/upstreams.txt"
  [[ -f "${PERF_RUN_DIR}/upstreams.txt" ]] || return 0
  while read -r name url; do
    [[ -z "${name}" ]] || args+=(--server "${name}=${url}")
  done <"${PERF_RUN_DIR}/upstreams.txt"
  ((${#args[@]})) || return 0
  perf_py servers-stats "${PERF_RUN_DIR}" --phase "${phase}" "${args[@]}" ||
    perf_warn "could not read the MCP servers' call counts (${phase} the run): summary.json has no per-server counts"
}

# perf_upstream_snapshot I PHASE: raw/<test>/upstream-PHASE.txt, before|after test I's measured
# rounds: `NAME JSON` a line, each server of upstreams.txt and what its GET /stats answered
# (nothing when it did not). summarize turns the pair into the test's `upstream`: where its
# time went (perfkit.results.upstream). Not for a group, whose components share the servers,
# nor for a run without upstreams.txt (A/B sides share their servers; another gateway's).
perf_upstream_snapshot() {
  local i="$1" phase="$2" file name url
  # a db test's calls never leave the gateway's venv: no MCP server is asked for them
  [[ "${PERF_T_KIND[i]}" != group && "${PERF_T_KIND[i]}" != db && -s "${PERF_RUN_DIR}/upstreams.txt" ]] || return 0
  file="${PERF_RUN_DIR}/raw/${PERF_T_ID[i]}/upstream-${phase}.txt"
  : >"${file}"
  while read -r name url; do
    [[ -n "${name}" ]] || continue
    printf '%s %s\n' "${name}" "$(curl -sS --max-time 5 "${url%/}/stats" 2>/dev/null | tr -d '\n' || true)" >>"${file}"
  done <"${PERF_RUN_DIR}/upstreams.txt"
}

# perf_database_snapshot PHASE: database-PHASE.json (before|after) in the run folder: the state
# the gateway's database started from and the rows of its tables (perfkit database-rows), so a
# run says whether the gateway's own history grew while it was measured. Only the kit's local
# stack can be asked (utils/local-stack.sh database); another gateway is recorded as `unknown`.
# The state is the stack's own (fresh or kept) when this run brought it up, else `as-found`.
perf_database_snapshot() {
  local phase="$1" line state="unknown" url="" args=()
  line="$("${PERF_KIT_ROOT}/utils/local-stack.sh" database --url "${PERF_TARGET_URL}" 2>/dev/null || true)"
  if [[ -n "${line}" ]]; then
    read -r state url <<<"${line}"
    [[ "${PERF_STARTED_STACK:-0}" == 1 ]] || state=as-found
    args=(--database-url "${url}")
  fi
  perf_py database-rows "${PERF_RUN_DIR}" --phase "${phase}" --state "${state}" "${args[@]}" ||
    perf_warn "could not record the gateway's database rows (${phase} the run)"
}

# perf_database_plans: the database scenario's slow queries - each db test that ran has its
# operation called alone, the statements at or over PERF_DB_SLOW_MS explained and the index a
# scan suggests measured (perfkit.dbbench.plans, in the local stack's gateway venv) into
# database-plans.json of the run folder (the current side's, in an A/B). A failure costs a
# warning, never the run.
perf_database_plans() {
  local spec args=() rc=0 log="${PERF_RUN_DIR}/database-plans.log"
  ((${#PERF_DB_PLAN_TESTS[@]})) || return 0
  for spec in "${PERF_DB_PLAN_TESTS[@]}"; do
    args+=(--test "${spec}")
  done
  perf_log "database: the statements of ${#PERF_DB_PLAN_TESTS[@]} operation(s), each called alone; explaining those at or over ${PERF_DB_SLOW_MS} ms"
  perf_local_stack python --url "${PERF_TARGET_URL}" -- -m perfkit.dbbench.plans \
    "${args[@]}" --slow-ms "${PERF_DB_SLOW_MS}" --out "${PERF_RUN_DIR}/database-plans.json" >"${log}" 2>&1 || rc=$?
  ((rc == 0)) || perf_warn "database: the slow-query analysis failed (exit ${rc}): $(tail -n 2 "${log}" | tr '\n' ' ')(${log})"
}

# perf_database_pool: the database scenario's connection pool analysis - one of the db tests'
# operations (list_tools_admin when it ran) called by more and more threads at once, each level
# PERF_DB_POOL_SECONDS, with the gateway's own pool (perfkit.dbbench.pool, in the local stack's
# gateway venv) into database-pool.json of the run folder (the current side's). Off with
# PERF_DB_POOL_LEVELS=off; a failure costs a warning, never the run.
perf_database_pool() {
  local spec candidate rc=0 log="${PERF_RUN_DIR}/database-pool.log"
  ((${#PERF_DB_PLAN_TESTS[@]})) && [[ "${PERF_DB_POOL_LEVELS}" != off ]] || return 0
  spec="${PERF_DB_PLAN_TESTS[0]#*=}"
  for candidate in "${PERF_DB_PLAN_TESTS[@]}"; do
    [[ "${candidate#*=}" != list_tools_admin:* ]] || { spec="${candidate#*=}"; break; }
  done
  perf_log "database: the connection pool under ${spec%%:*} calls at concurrency ${PERF_DB_POOL_LEVELS} (${PERF_DB_POOL_SECONDS} s each)"
  perf_local_stack python --url "${PERF_TARGET_URL}" -- -m perfkit.dbbench.pool \
    --op "${spec%%:*}" --limit "${spec##*:}" --levels "${PERF_DB_POOL_LEVELS}" \
    --seconds "${PERF_DB_POOL_SECONDS}" --out "${PERF_RUN_DIR}/database-pool.json" >"${log}" 2>&1 || rc=$?
  ((rc == 0)) || perf_warn "database: the connection pool analysis failed (exit ${rc}): $(tail -n 2 "${log}" | tr '\n' ' ')(${log})"
}

# --- run-advanced.sh's workloads: tool calls spread over the stack's MCP servers ---------------

# perf_server_call_payload I: a tools/call payload for server bench-time-I's get_system_time,
# generated once into PERF_SCALE_PAYLOAD_DIR (run-advanced.sh: its results folder; else
# .state/payloads/); prints its path.
perf_server_call_payload() {
  local file="${PERF_SCALE_PAYLOAD_DIR:-${PERF_STATE_DIR}/payloads}/call_bench-time-$1.json"
  if [[ ! -f "${file}" ]]; then
    mkdir -p "${file%/*}"
    printf '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "bench-time-%s-get-system-time", "arguments": {"timezone_name": "UTC"}}}\n' \
      "$1" >"${file}.tmp.$$"
    mv "${file}.tmp.$$" "${file}"
  fi
  printf '%s\n' "${file}"
}

# perf_server_calls FIRST LAST: one component per server FIRST..LAST of the current group, each
# calling its own server's tool - through the virtual server bench-virtual's MCP endpoint, as
# an MCP client would (advanced.protocol mcp, the default; its request built from what the
# gateway lists), or over /rpc with a fixed payload (rpc).
perf_server_calls() {
  local i expect='result.content.0.text~^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
  for ((i = $1; i <= $2; i++)); do
    if [[ "${PERF_SCALE_PROTOCOL:-mcp}" == mcp ]]; then
      perf_component "call_bench-time-${i}" POST '/servers/{server:bench-virtual}/mcp' \
        --mcp "tools/call:bench-time-${i}-get-system-time" --expect "${expect}"
    else
      perf_component "call_bench-time-${i}" POST /rpc --payload "$(perf_server_call_payload "${i}")" \
        --expect "${expect}"
    fi
  done
}
