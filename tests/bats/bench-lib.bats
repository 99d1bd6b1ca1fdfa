#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/lib/bench-lib.sh: test declaration, group splitting, plan.tsv, hey flags. No gateway, no hey run.

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  # shellcheck source=utils/lib/bench-lib.sh
  source "${KIT}/utils/lib/bench-lib.sh"
  PERF_CONCURRENCY=10
  PERF_REQUESTS=200
  PERF_DURATION=""
  PERF_TIMEOUT=20
  PERF_TOKEN="tok.en.value"
  PERF_TARGET_URL="http://127.0.0.1:4444"
}

# declare_mixed: one single test and a mixed workload of three components.
declare_mixed() {
  PERF_CURRENT_SCENARIO=mixed
  perf_test health GET /health --no-auth --expect status~healthy
  perf_group load "three endpoints at once"
  perf_component health GET /health --no-auth
  perf_component tools GET /tools
  perf_component call POST /rpc --payload payloads/tools/call_get_system_time.json
}

# index_of ID: the plan index of test ID.
index_of() {
  local i
  for i in "${!PERF_T_ID[@]}"; do
    [[ "${PERF_T_ID[i]}" != "$1" ]] || { printf '%s\n' "${i}"; return; }
  done
  return 1
}

@test "perf_split_groups shares concurrency and requests; the group is the sum" {
  declare_mixed
  perf_split_groups
  local g c
  g="$(index_of mixed/load)"
  # 10 workers / 3 = 3 each; 200 requests / 3 = 66 (a multiple of 3)
  for c in health tools call; do
    [ "${PERF_T_CONC[$(index_of "mixed/load/${c}")]}" -eq 3 ]
    [ "${PERF_T_REQ[$(index_of "mixed/load/${c}")]}" -eq 66 ]
  done
  [ "${PERF_T_CONC[g]}" -eq 9 ]
  [ "${PERF_T_REQ[g]}" -eq 198 ]
  # the single test keeps the settings
  [ "${PERF_T_CONC[$(index_of mixed/health)]}" -eq 10 ]
  [ "${PERF_T_REQ[$(index_of mixed/health)]}" -eq 200 ]
}

@test "perf_split_groups gives each component at least one worker and one request each" {
  PERF_CONCURRENCY=2
  PERF_REQUESTS=2
  declare_mixed
  perf_split_groups
  local c
  for c in health tools call; do
    [ "${PERF_T_CONC[$(index_of "mixed/load/${c}")]}" -eq 1 ]
    [ "${PERF_T_REQ[$(index_of "mixed/load/${c}")]}" -eq 1 ]
  done
  [ "${PERF_T_CONC[$(index_of mixed/load)]}" -eq 3 ]
  [ "${PERF_T_REQ[$(index_of mixed/load)]}" -eq 3 ]
}

@test "perf_split_groups in duration mode keeps requests at 0" {
  PERF_REQUESTS=0
  declare_mixed
  perf_split_groups
  [ "${PERF_T_REQ[$(index_of mixed/load/tools)]}" -eq 0 ]
  [ "${PERF_T_REQ[$(index_of mixed/load)]}" -eq 0 ]
  [ "${PERF_T_CONC[$(index_of mixed/load)]}" -eq 9 ]
}

@test "perf_split_groups refuses a group without components (exit 2)" {
  PERF_CURRENT_SCENARIO=mixed
  perf_group empty "nothing in it"
  run --separate-stderr perf_split_groups
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"mixed workload mixed/empty declares no components"* ]]
}

@test "--tests: only the tests a glob names, by id or name; a mixed workload whole" {
  PERF_TESTS='health,mixed/lo*'
  declare_mixed
  PERF_CURRENT_SCENARIO=tools
  perf_test rpc_tools_list POST /rpc --payload payloads/tools/tools_list.json
  [ "${PERF_T_ID[*]}" = "mixed/health mixed/load mixed/load/health mixed/load/tools mixed/load/call" ]
  [ "${PERF_T_UNSELECTED[*]}" = "tools/rpc_tools_list" ]
  perf_check_selection
  PERF_T_ID=() PERF_T_KIND=() PERF_T_GROUP=() PERF_T_UNSELECTED=()
  PERF_TESTS='tools/rpc_*'
  declare_mixed
  PERF_CURRENT_SCENARIO=tools
  perf_test rpc_tools_list POST /rpc --payload payloads/tools/tools_list.json
  [ "${PERF_T_ID[*]}" = "tools/rpc_tools_list" ]  # the group left out takes its components along
  [ "${PERF_T_UNSELECTED[*]}" = "mixed/health mixed/load" ]
}

@test "--tests: a glob that names no test is exit 2, listing the tests there are" {
  PERF_TESTS='health,nope_*'
  PERF_SCENARIOS=mixed
  declare_mixed
  run -2 perf_check_selection
  [[ "${output}" == *"--tests 'nope_*' matches none of the tests of scenarios mixed: mixed/health mixed/load"* ]]
}

@test "perf_declare refuses an unknown option (exit 2)" {
  PERF_CURRENT_SCENARIO=tools
  run --separate-stderr perf_test list GET /tools --exepct x
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"test tools/list: unknown option '--exepct'"* ]]
}

@test "perf_write_plan writes the TSV header and one row per test" {
  PERF_DURATION=30s
  declare_mixed
  perf_split_groups
  perf_write_plan "${BATS_TEST_TMPDIR}/plan.tsv"
  local tab=$'\t'
  mapfile -t lines <"${BATS_TEST_TMPDIR}/plan.tsv"
  [ "${#lines[@]}" -eq 6 ]
  [ "${lines[0]}" = "id${tab}scenario${tab}kind${tab}group${tab}method${tab}path${tab}payload${tab}expect${tab}auth${tab}concurrency${tab}requests${tab}duration" ]
  [ "${lines[1]}" = "mixed/health${tab}mixed${tab}single${tab}-${tab}GET${tab}/health${tab}-${tab}status~healthy${tab}no${tab}10${tab}200${tab}30s" ]
  [ "${lines[2]}" = "mixed/load${tab}mixed${tab}group${tab}-${tab}MIXED${tab}three endpoints at once${tab}-${tab}-${tab}yes${tab}9${tab}198${tab}30s" ]
  [ "${lines[5]}" = "mixed/load/call${tab}mixed${tab}component${tab}mixed/load${tab}POST${tab}/rpc${tab}payloads/tools/call_get_system_time.json${tab}-${tab}yes${tab}3${tab}66${tab}30s" ]
  # every row has the header's 12 columns
  local line
  for line in "${lines[@]}"; do
    [ "$(awk -F'\t' '{print NF}' <<<"${line}")" -eq 12 ]
  done
}

@test "perf_write_plan without duration writes '-'" {
  declare_mixed
  perf_write_plan "${BATS_TEST_TMPDIR}/plan.tsv"
  [ "$(sed -n 2p "${BATS_TEST_TMPDIR}/plan.tsv" | cut -f12)" = "-" ]
}

@test "perf_hey_args in count mode: -n, no -z, no auth header for --no-auth, GET without body" {
  declare_mixed
  perf_hey_args "$(index_of mixed/health)" 200 10
  [ "${PERF_HEY_ARGS[*]}" = "-c 10 -t 20 -m GET -o csv -n 200 http://127.0.0.1:4444/health" ]
}

@test "perf_hey_args in duration mode: -z instead of -n" {
  PERF_DURATION=30s
  declare_mixed
  perf_hey_args "$(index_of mixed/health)" 0 4
  [ "${PERF_HEY_ARGS[*]}" = "-c 4 -t 20 -m GET -o csv -z 30s http://127.0.0.1:4444/health" ]
}

@test "perf_hey_args sends the token only for tests with auth" {
  declare_mixed
  perf_hey_args "$(index_of mixed/load/tools)" 63 3
  [ "${#PERF_HEY_ARGS[@]}" -eq 13 ]
  [ "${PERF_HEY_ARGS[10]}" = "-H" ]
  [ "${PERF_HEY_ARGS[11]}" = "Authorization: Bearer tok.en.value" ]  # one argument
  [ "${PERF_HEY_ARGS[12]}" = "http://127.0.0.1:4444/tools" ]
}

@test "perf_hey_args POST: JSON content type and -D with the payload's absolute path" {
  declare_mixed
  perf_hey_args "$(index_of mixed/load/call)" 63 3
  [ "${PERF_HEY_ARGS[*]}" = "-c 3 -t 20 -m POST -o csv -n 63 -H Authorization: Bearer tok.en.value -T application/json -D ${KIT}/payloads/tools/call_get_system_time.json http://127.0.0.1:4444/rpc" ]
}

@test "perf_hey_args keeps a full URL (ad-hoc endpoint) and an absolute payload path" {
  PERF_CURRENT_SCENARIO=adhoc
  perf_test x POST http://localhost:9000/echo --payload /tmp/body.json --no-auth
  perf_hey_args 0 20 2
  [ "${PERF_HEY_ARGS[*]}" = "-c 2 -t 20 -m POST -o csv -n 20 -T application/json -D /tmp/body.json http://localhost:9000/echo" ]
}

# declare_mcp: the mcp scenario's shape - an --mcp test on a virtual server's endpoint and one on /rpc.
declare_mcp() {
  PERF_CURRENT_SCENARIO=mcp
  PERF_PAYLOAD_DIR_MCP=payloads/mcp
  PERF_MCP_PROTOCOL_VERSION=2025-06-18
  perf_test server_call POST '/servers/{server:bench-virtual}/mcp' --mcp tools/call:get-system-time
  perf_test rpc_call POST /rpc --mcp tools/call:get-system-time
}

@test "an --mcp test: payload mcp:OPERATION in the plan, MCP client headers only on an /mcp path" {
  declare_mcp
  [ "${PERF_T_PAYLOAD[0]}" = "mcp:tools/call:get-system-time" ]
  PERF_T_RESOLVED_PATH["0:0"]=/servers/abc123/mcp
  PERF_T_RESOLVED_PAYLOAD["0:0"]=/tmp/run/raw/mcp/server_call/request.json
  perf_hey_args 0 20 2
  [ "${PERF_HEY_ARGS[*]}" = "-c 2 -t 20 -m POST -o csv -n 20 -H Authorization: Bearer tok.en.value -T application/json -D /tmp/run/raw/mcp/server_call/request.json -H Accept: application/json, text/event-stream -H MCP-Protocol-Version: 2025-06-18 http://127.0.0.1:4444/servers/abc123/mcp" ]
  PERF_T_RESOLVED_PAYLOAD["0:1"]=/tmp/run/raw/mcp/rpc_call/request.json
  perf_hey_args 1 20 2
  [ "${PERF_HEY_ARGS[*]}" = "-c 2 -t 20 -m POST -o csv -n 20 -H Authorization: Bearer tok.en.value -T application/json -D /tmp/run/raw/mcp/rpc_call/request.json http://127.0.0.1:4444/rpc" ]
  # no protocol version set: none sent
  PERF_MCP_PROTOCOL_VERSION=""
  perf_mcp_headers 0
  [ "${PERF_MCP_HEADERS[*]}" = "-H Accept: application/json, text/event-stream" ]
}

@test "perf_prepare: resolved once per side; the other side resolves its own; a test that cannot be built fails with the reason" {
  declare_mcp
  local dir="${BATS_TEST_TMPDIR}"
  calls() { wc -l <"${dir}/calls"; }
  : >"${dir}/calls"
  perf_py() {
    echo "$*" >>"${dir}/calls"  # run in a command substitution: counted in a file
    [[ "${PERFKIT_TOKEN}" == tok.en.value ]] || return 9  # the token travels in the environment
    [[ " $* " == *" --url http://127.0.0.1:4444 "* ]] && { echo "/servers/side-a/mcp"; return 0; }
    echo "no tool named 'get-system-time' listed at http://127.0.0.1:4455/servers/side-b/mcp"
    return 4
  }
  perf_prepare 0 "${dir}"
  perf_prepare 0 "${dir}"
  [ "$(calls)" -eq 1 ]
  [ "$(perf_url 0)" = "http://127.0.0.1:4444/servers/side-a/mcp" ]
  [ "$(perf_payload_file 0)" = "${dir}/request.json" ]
  PERF_SIDE=1 PERF_TARGET_URL=http://127.0.0.1:4455
  run -1 perf_prepare 0 "${dir}"
  PERF_PROBE_REASON=""
  perf_prepare 0 "${dir}" || true
  [[ "${PERF_PROBE_REASON}" == "no tool named 'get-system-time' listed at "* ]]
  [ "$(perf_url 0)" = "http://127.0.0.1:4455/servers/{server:bench-virtual}/mcp" ]
  # a test without --mcp needs nothing
  PERF_CURRENT_SCENARIO=core
  perf_test ping POST /rpc --payload payloads/core/ping.json
  perf_prepare 2 "${dir}"
  [ "$(calls)" -eq 3 ]
}

@test "perf_split_groups rounds a component's requests down to a multiple of its workers" {
  PERF_CONCURRENCY=8
  PERF_REQUESTS=100
  declare_mixed
  perf_split_groups
  # 8 / 3 = 2 workers each; 100 / 3 = 33 -> 32 requests (hey drops the remainder)
  [ "${PERF_T_CONC[$(index_of mixed/load/tools)]}" -eq 2 ]
  [ "${PERF_T_REQ[$(index_of mixed/load/tools)]}" -eq 32 ]
  [ "${PERF_T_CONC[$(index_of mixed/load)]}" -eq 6 ]
  [ "${PERF_T_REQ[$(index_of mixed/load)]}" -eq 96 ]
}

@test "scale workload, --protocol mcp (the default): each server's tool called through bench-virtual's endpoint" {
  PERF_SERVERS_COUNT=3
  PERF_PAYLOAD_DIR_RESOURCES=payloads/resources
  PERF_PAYLOAD_DIR_PROMPTS=payloads/prompts
  PERF_CURRENT_SCENARIO=scale
  # shellcheck source=scenarios/scale-workload.sh
  source "${KIT}/scenarios/scale-workload.sh"
  scenario_scale
  local i i_call
  for i in 1 2 3; do
    i_call="$(index_of "scale/spread/call_bench-time-${i}")"
    [ "${PERF_T_PATH[i_call]}" = '/servers/{server:bench-virtual}/mcp' ]
    [ "${PERF_T_PAYLOAD[i_call]}" = "mcp:tools/call:bench-time-${i}-get-system-time" ]
  done
}

@test "scale workload, --protocol rpc: one tool-call component per server, each with its own server's payload" {
  PERF_SCALE_PROTOCOL=rpc
  PERF_SERVERS_COUNT=3
  PERF_SCALE_PAYLOAD_DIR="${BATS_TEST_TMPDIR}/payloads"
  PERF_PAYLOAD_DIR_RESOURCES=payloads/resources
  PERF_PAYLOAD_DIR_PROMPTS=payloads/prompts
  PERF_CURRENT_SCENARIO=scale
  # shellcheck source=scenarios/scale-workload.sh
  source "${KIT}/scenarios/scale-workload.sh"
  scenario_scale
  perf_split_groups
  [ "${PERF_T_ID[0]}" = scale/spread ]
  local i
  for i in 1 2 3; do
    i_call="$(index_of "scale/spread/call_bench-time-${i}")"
    grep -q "\"bench-time-${i}-get-system-time\"" "${PERF_T_PAYLOAD[i_call]}"
  done
  # 7 components share 10 clients: one each, and the group says what really runs
  [ "${PERF_T_CONC[0]}" -eq 7 ]
}

@test "sweep: a group per client count over min(clients, servers) servers" {
  PERF_SERVERS_COUNT=4
  PERF_SWEEP_LEVELS=2,8
  PERF_SCALE_PAYLOAD_DIR="${BATS_TEST_TMPDIR}/payloads"
  PERF_CURRENT_SCENARIO=sweep
  # shellcheck source=scenarios/concurrency-sweep.sh
  source "${KIT}/scenarios/concurrency-sweep.sh"
  scenario_sweep
  perf_split_groups
  [ "${PERF_T_CONC[$(index_of sweep/c2)]}" -eq 2 ]
  [ "${PERF_T_CONC[$(index_of sweep/c8)]}" -eq 8 ]
  ! index_of sweep/c2/call_bench-time-3
  index_of sweep/c8/call_bench-time-4
  # max(profile requests, 4 x clients): 200 both times, the profile's values restored after
  [ "${PERF_T_REQ[$(index_of sweep/c8)]}" -eq 200 ]
  [ "${PERF_CONCURRENCY}" -eq 10 ]
}

@test "sweep without client counts is a usage error" {
  PERF_SWEEP_LEVELS=""
  PERF_CURRENT_SCENARIO=sweep
  # shellcheck source=scenarios/concurrency-sweep.sh
  source "${KIT}/scenarios/concurrency-sweep.sh"
  run --separate-stderr scenario_sweep
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_SWEEP_LEVELS=5,10,20"* ]]
}

@test "perf_servers_snapshot asks the servers PERF_STATS_SERVERS names" {
  perf_py() { printf '%s\n' "$@" >"${BATS_TEST_TMPDIR}/args"; }
  PERF_RUN_DIR="${BATS_TEST_TMPDIR}"
  PERF_STATS_SERVERS="bench-time-1=http://127.0.0.1:9701,bench-time-2=http://127.0.0.1:9702"
  perf_servers_snapshot before
  run cat "${BATS_TEST_TMPDIR}/args"
  [ "${lines[0]}" = servers-stats ]
  [ "${lines[2]}" = --phase ]
  [ "${lines[4]}" = --server ]
  [ "${lines[5]}" = bench-time-1=http://127.0.0.1:9701 ]
  [ "${lines[7]}" = bench-time-2=http://127.0.0.1:9702 ]
  run cat "${BATS_TEST_TMPDIR}/upstreams.txt"  # kept for the tests' own snapshots
  [ "${output}" = $'bench-time-1 http://127.0.0.1:9701\nbench-time-2 http://127.0.0.1:9702' ]
}

@test "perf_servers_snapshot without servers asks nothing, and after without before is a no-op" {
  perf_py() { touch "${BATS_TEST_TMPDIR}/asked"; }
  PERF_RUN_DIR="${BATS_TEST_TMPDIR}" PERF_STATS_SERVERS="" PERF_TARGET_URL=http://127.0.0.1:1
  perf_servers_snapshot after
  perf_servers_snapshot before
  [ ! -s "${BATS_TEST_TMPDIR}/upstreams.txt" ]
  [ ! -e "${BATS_TEST_TMPDIR}/asked" ]
}

@test "perf_upstream_snapshot keeps each server's /stats answer on a line; not for a group" {
  PERF_RUN_DIR="${BATS_TEST_TMPDIR}"
  printf 'bench-time-1 http://127.0.0.1:9701\nbench-time-2 http://127.0.0.1:1\n' >"${PERF_RUN_DIR}/upstreams.txt"
  curl() { [[ "$*" == *9701/stats* ]] && printf '{"requests":\n{}}\n' || return 7; }
  PERF_T_ID=(t/a t/g) PERF_T_KIND=(test group)
  mkdir -p "${PERF_RUN_DIR}/raw/t/a" "${PERF_RUN_DIR}/raw/t/g"
  perf_upstream_snapshot 0 before
  run cat "${PERF_RUN_DIR}/raw/t/a/upstream-before.txt"
  [ "${output}" = $'bench-time-1 {"requests":{}}\nbench-time-2 ' ]
  perf_upstream_snapshot 1 before
  [ ! -e "${PERF_RUN_DIR}/raw/t/g/upstream-before.txt" ]
  rm "${PERF_RUN_DIR}/upstreams.txt"  # A/B sides, another gateway: no snapshots
  perf_upstream_snapshot 0 after
  [ ! -e "${PERF_RUN_DIR}/raw/t/a/upstream-after.txt" ]
}

# --- perf_settled: whether a test's rounds may stop (--sequential) ---

settled_setup() {
  PERF_SEQUENTIAL=true PERF_MIN_ROUNDS=3 PERF_ITERATIONS=5
  PERF_SEQUENTIAL_BASELINE=""
  perf_py() { printf '%s\n' "$@" >"${BATS_TEST_TMPDIR}/args"; printf 'settled after %s of 5 rounds\n' "$6"; }
}

@test "perf_settled: an A/B holds the candidate side against the base, from min_rounds on" {
  settled_setup
  PERF_SIDE_DIRS=("${BATS_TEST_TMPDIR}/base" "${BATS_TEST_TMPDIR}/candidate")
  ! perf_settled t/a 2 2
  [ ! -e "${BATS_TEST_TMPDIR}/args" ]  # before min_rounds: perfkit is not asked
  perf_settled t/a 3 2
  [ "${PERF_SETTLED_TEXT}" = "settled after 3 of 5 rounds" ]
  run cat "${BATS_TEST_TMPDIR}/args"
  [ "${lines[0]}" = settled ]
  [ "${lines[1]}" = "${BATS_TEST_TMPDIR}/candidate" ]
  [ "${lines[8]}" = --against ]
  [ "${lines[9]}" = "${BATS_TEST_TMPDIR}/base" ]
  ! perf_settled t/a 5 2  # the last round: nothing left to save
  [ -z "${PERF_SETTLED_TEXT}" ]
  ! perf_settled t/a 3 1  # one side's probe failed: never stopped
}

@test "perf_settled: one target needs the stored baseline; off means never" {
  settled_setup
  PERF_SIDE_DIRS=("${BATS_TEST_TMPDIR}/run")
  ! perf_settled t/a 3 1  # no baseline to hold the rounds against
  [ ! -e "${BATS_TEST_TMPDIR}/args" ]
  PERF_SEQUENTIAL_BASELINE="${BATS_TEST_TMPDIR}/baseline_x.json"
  perf_settled t/a 4 1
  run cat "${BATS_TEST_TMPDIR}/args"
  [ "${lines[8]}" = --baseline ]
  [ "${lines[9]}" = "${BATS_TEST_TMPDIR}/baseline_x.json" ]
  PERF_SEQUENTIAL=false
  ! perf_settled t/a 4 1
}

@test "perf_settled: a look that fails warns and the test runs on" {
  settled_setup
  PERF_SIDE_DIRS=("${BATS_TEST_TMPDIR}/base" "${BATS_TEST_TMPDIR}/candidate")
  perf_py() { return 2; }
  run --separate-stderr perf_settled t/a 3 2
  [ "${status}" -eq 1 ]
  [[ "${stderr}" == *"t/a: could not look at its rounds so far (perfkit settled exited 2); it runs every round"* ]]
}

@test "stateful sessions: one hey -c 1 per session through mcp-clients.sh, each its share of the requests" {
  declare_mcp
  PERF_T_RESOLVED_PATH["0:0"]=/servers/abc123/mcp
  PERF_T_RESOLVED_PAYLOAD["0:0"]=/tmp/request.json
  PERF_T_SESSION["0:0"]="s1 s2 s3"
  # the probe speaks in the first session
  perf_mcp_headers 0
  [ "${PERF_MCP_HEADERS[*]}" = "-H Accept: application/json, text/event-stream -H MCP-Protocol-Version: 2025-06-18 -H Mcp-Session-Id: s1" ]
  perf_spawn() { printf '%s\n' "$@" >"${BATS_TEST_TMPDIR}/spawned"; }
  perf_hey 0 "${BATS_TEST_TMPDIR}/round-1" 30 3
  mapfile -t spawned <"${BATS_TEST_TMPDIR}/spawned"
  [ "${spawned[9]}" = "${KIT}/utils/lib/mcp-clients.sh" ]  # after /usr/bin/time and its 4-line format
  [ "${spawned[11]}" = "s1 s2 s3" ]
  [[ " ${spawned[*]} " == *" -c 1 "* && " ${spawned[*]} " == *" -n 10 "* ]]
  [[ " ${spawned[*]} " != *"Mcp-Session-Id"* ]]  # each client's own header is mcp-clients.sh's
  # a warm-up at lower concurrency uses fewer of the sessions
  perf_hey 0 "${BATS_TEST_TMPDIR}/warmup" 4 2
  mapfile -t spawned <"${BATS_TEST_TMPDIR}/spawned"
  [ "${spawned[11]}" = "s1 s2" ]
}

@test "legacy SSE tests: rounds by perfkit mcp-setup-cost over SSE, timing the connection or the call" {
  PERF_CURRENT_SCENARIO=mcp PERF_TIMEOUT=20 PERF_TARGET_URL=http://127.0.0.1:4444
  perf_sse_test sse_connect connect '/servers/{server:bench-virtual}/mcp' --mcp tools/call:get-system-time
  perf_sse_test sse_call call '/servers/{server:bench-virtual}/mcp' --mcp tools/call:get-system-time
  [ "${PERF_T_KIND[*]}" = "sse-connect sse-call" ]
  perf_spawn() { printf '%s\n' "$@" >"${BATS_TEST_TMPDIR}/spawned"; }
  for i in 0 1; do
    PERF_T_RESOLVED_PATH["0:${i}"]=/servers/abc123/mcp
    perf_hey "${i}" "${BATS_TEST_TMPDIR}/round-1" 20 2
    run cat "${BATS_TEST_TMPDIR}/spawned"
    [[ "${output}" == *$'\nmcp-setup-cost\n--url\nhttp://127.0.0.1:4444/servers/abc123/mcp\n'* ]]
    [[ "${output}" == *$'\n-n\n20\n-c\n2\n'* ]]
  done
  [[ "${output}" == *$'--transport\nsse\n--time\ncall' ]]
  perf_hey 0 "${BATS_TEST_TMPDIR}/round-1" 20 2
  [[ "$(cat "${BATS_TEST_TMPDIR}/spawned")" == *$'--transport\nsse\n--time\nconnect' ]]
}

@test "perf_sse_check: on a memory-cache gateway an unanswered call is skipped with the reason, else it fails" {
  PERF_CURRENT_SCENARIO=mcp PERF_TIMEOUT=20
  perf_sse_test sse_call call '/servers/{server:bench-virtual}/mcp' --mcp tools/call:get-system-time
  perf_sse_test sse_connect connect '/servers/{server:bench-virtual}/mcp' --mcp tools/call:get-system-time
  local dir="${BATS_TEST_TMPDIR}"
  PERF_RUN_DIR="${dir}"
  perf_wait() { :; }
  perf_hey() { printf '%s\n' "${PERF_TIMEOUT}" >"${dir}/timeout"; printf '%s' "${FAKE_CSV}" >"$2.csv"; printf '%s' "${FAKE_ERR}" >"$2.err"; }
  printf '{"settings":{"cache_type":"memory"}}\n' >"${dir}/gateway-version.json"
  FAKE_CSV=$'response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n0.4,0,0,0,0.4,0,200,0\n'
  FAKE_ERR=""
  perf_sse_check 0 "${dir}"
  [ "$(cat "${dir}/timeout")" = 2 ]  # a call, expected lost: at most PERF_SSE_CHECK_TIMEOUT_MEMORY
  perf_sse_check 1 "${dir}"
  [ "$(cat "${dir}/timeout")" = 5 ]  # a connection: at most PERF_SSE_CHECK_TIMEOUT
  FAKE_CSV=$'response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n'
  for FAKE_ERR in $'Unknown SSE event: keepalive\n1 x McpError: Timed out while waiting for response\n' $'1 x McpError: Connection closed\n'; do
    ! perf_sse_check 0 "${dir}"
    [ "${PERF_SSE_STATUS}" = skipped ]
    [[ "${PERF_SSE_REASON}" == "no answer over the SSE stream (McpError: "*"this gateway runs CACHE_TYPE=memory"*"PERF_CACHE=redis)" ]]
  done
  ! perf_sse_check 1 "${dir}"  # a connection that cannot be set up is a failure
  [ "${PERF_SSE_STATUS}" = failed ]
  printf '{"settings":{"cache_type":"redis"}}\n' >"${dir}/gateway-version.json"
  FAKE_ERR=$'1 x HTTPStatusError: 404 Not Found\n'
  ! perf_sse_check 0 "${dir}"
  [ "$(cat "${dir}/timeout")" = 5 ]  # a call expected to work: PERF_SSE_CHECK_TIMEOUT
  [ "${PERF_SSE_STATUS}" = failed ]
  [ "${PERF_SSE_REASON}" = "the legacy SSE transport did not work: HTTPStatusError: 404 Not Found" ]
}

@test "mcp-clients.sh: every session's hey at once, their CSV rows merged under one header" {
  local fake="${BATS_TEST_TMPDIR}/hey"
  cat >"${fake}" <<'SH'
#!/usr/bin/env bash
echo "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"
echo "0.1,0,0,0,0.1,0,200,0.0 ${2#Mcp-Session-Id: }"
SH
  chmod +x "${fake}"
  run --separate-stderr "${KIT}/utils/lib/mcp-clients.sh" "${fake}" "a b" -c 1 -n 1 http://127.0.0.1:1/mcp
  [ "${status}" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [ "${lines[0]}" = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset" ]
  [ "${lines[1]}" = "0.1,0,0,0,0.1,0,200,0.0 a" ]
  [ "${lines[2]}" = "0.1,0,0,0,0.1,0,200,0.0 b" ]
  run --separate-stderr "${KIT}/utils/lib/mcp-clients.sh" "${fake}" "" -c 1
  [ "${status}" -eq 2 ]
}
