#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2030,SC2031,SC2143,SC2317  # bats sets $stderr/$output; stubs are called indirectly
# README.md, "Secrets": curl gets its token from a pipe, never its command line; the MCP drivers
# get theirs in their environment; the load's benchmark token, its fallback and --strict-secrets.
# No gateway: curl is a recording stub, perfkit calls are played by functions.

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  # shellcheck source=utils/lib/bench-lib.sh
  source "${KIT}/utils/lib/bench-lib.sh"
  CALLS="${BATS_TEST_TMPDIR}/curl.log"
  mkdir -p "${BATS_TEST_TMPDIR}/bin"
  # a curl that records its arguments, and what each -H @FILE held, and answers 200
  cat >"${BATS_TEST_TMPDIR}/bin/curl" <<'EOF'
#!/bin/bash
printf 'argv %s\n' "$*" >>"${CALLS}"
while (($#)); do
  if [[ "$1" == -H && "$2" == @* ]]; then printf 'file %s\n' "$(cat "${2#@}")" >>"${CALLS}"; fi
  shift
done
printf '%s' "${FAKE_STATUS:-200}"
EOF
  chmod +x "${BATS_TEST_TMPDIR}/bin/curl"
  export CALLS PATH="${BATS_TEST_TMPDIR}/bin:${PATH}"
  TOKEN="eyJhbGciOi.secret-payload.signature"
}

@test "perf_http_get: the token reaches curl through a pipe, never its arguments" {
  run perf_http_get http://127.0.0.1:4487/version "${BATS_TEST_TMPDIR}/body" "${TOKEN}"
  [ "${output}" = 200 ]
  grep -qx "file Authorization: Bearer ${TOKEN}" "${CALLS}"
  [ -z "$(grep '^argv' "${CALLS}" | grep -F "${TOKEN}")" ]
  grep -q '^argv -H @/dev/fd/[0-9]* -sS ' "${CALLS}"
}

@test "perf_curl without a token adds no header" {
  perf_curl "" -s http://127.0.0.1:4487/health
  [ "$(cat "${CALLS}")" = "argv -s http://127.0.0.1:4487/health" ]
}

@test "perf_probe: the test's token from a pipe; a --no-auth test sends none" {
  PERF_TIMEOUT=5 PERF_TARGET_URL=http://127.0.0.1:4487 PERF_TOKEN="${TOKEN}" PERF_CONCURRENCY=2 PERF_REQUESTS=10
  PERF_CURRENT_SCENARIO=tools
  perf_test rest_list GET /tools --expect 0.name
  perf_test health GET /health --no-auth
  perf_py() { return 0; } # validate: the answer is good
  mkdir -p "${BATS_TEST_TMPDIR}/a" "${BATS_TEST_TMPDIR}/b"
  perf_probe 0 "${BATS_TEST_TMPDIR}/a"
  grep -qx "file Authorization: Bearer ${TOKEN}" "${CALLS}"
  [ -z "$(grep '^argv' "${CALLS}" | grep -F "${TOKEN}")" ]
  : >"${CALLS}"
  perf_probe 1 "${BATS_TEST_TMPDIR}/b"
  [ -z "$(grep '^file' "${CALLS}")" ]
}

@test "perf_probe: a 403 to the benchmark token says whose token it was" {
  PERF_TIMEOUT=5 PERF_CONCURRENCY=2 PERF_REQUESTS=10 PERF_CURRENT_SCENARIO=adhoc
  perf_test get_version GET /version
  perf_add_side http://127.0.0.1:4487 bench.token.secret "${BATS_TEST_TMPDIR}" "" tok-1
  perf_add_side http://127.0.0.1:4488 users.own.token "${BATS_TEST_TMPDIR}" ""
  perf_py() { echo "HTTP 403 is not 2xx"; return 4; }
  mkdir -p "${BATS_TEST_TMPDIR}/a"
  export FAKE_STATUS=403
  perf_use_side 0
  perf_probe 0 "${BATS_TEST_TMPDIR}/a"
  [ "${PERF_PROBE_REASON}" = 'HTTP 403 is not 2xx (the load runs as the benchmark user, whose token may list, read and call tools only: README.md, "Secrets")' ]
  perf_use_side 1 # the user's own token: no such hint
  perf_probe 0 "${BATS_TEST_TMPDIR}/a"
  [ "${PERF_PROBE_REASON}" = "HTTP 403 is not 2xx" ]
}

@test "an MCP driver's token is in its environment, not on its command line" {
  PERF_TIMEOUT=5 PERF_TARGET_URL=http://127.0.0.1:4487 PERF_TOKEN="${TOKEN}" PERF_CONCURRENCY=2 PERF_REQUESTS=10
  PERF_CURRENT_SCENARIO=mcp PERF_HEY_BIN=hey
  perf_session_setup server_session_setup /mcp --mcp tools/list
  perf_spawn() { SPAWNED="$*" SPAWN_TOKEN="${PERFKIT_TOKEN:-}"; }
  perf_hey 0 "${BATS_TEST_TMPDIR}/round-1" 10 2
  [[ "${SPAWNED}" == *"-m perfkit mcp-setup-cost"* ]]
  [[ "${SPAWNED}" != *"${TOKEN}"* ]]
  [ "${SPAWN_TOKEN}" = "${TOKEN}" ]
}

# fake_perf_py ISSUE_RC: perfkit bench-token played: issue prints a token, its id and an
# identity (or fails with ISSUE_RC and the gateway's reason), as-user prints the fallback's.
fake_perf_py() {
  ISSUE_RC="$1"
  perf_py() {
    printf '%s\n' "$*" >>"${BATS_TEST_TMPDIR}/perf_py.log"
    case "$1 $2" in
      "bench-token leftovers") return 0 ;;
      "bench-token issue")
        if ((ISSUE_RC == 0)); then
          printf 'bench.token.secret\ntok-1\n{"kind": "benchmark-token"}\n'
        else
          echo "perfkit bench-token: error: issuing a benchmark token (POST /tokens): HTTP 404 - the gateway has no such API" >&2
          return "${ISSUE_RC}"
        fi
        ;;
      "bench-token as-user") printf '{"kind": "user-token"}\n' ;;
      *) return 0 ;;
    esac
  }
}

@test "perf_bench_token: the load gets the benchmark token, remembered for revocation" {
  fake_perf_py 0
  perf_bench_token http://127.0.0.1:4487 "${TOKEN}" /runs/r 0
  [ "${PERF_LOAD_TOKEN}" = bench.token.secret ]
  [ "${PERF_LOAD_ID}" = tok-1 ]
  [ "${PERF_LOAD_AS}" = '{"kind": "benchmark-token"}' ]
  [ "${PERF_BENCH_ISSUED[*]}" = "http://127.0.0.1:4487 tok-1" ]
  grep -q '^bench-token leftovers --url http://127.0.0.1:4487 ' "${BATS_TEST_TMPDIR}/perf_py.log"
  [ -z "$(grep -F "${TOKEN}" "${BATS_TEST_TMPDIR}/perf_py.log")" ]
}

@test "perf_bench_token: a gateway that issues none - the user's token, said once" {
  fake_perf_py 3
  PERF_AUTH_EMAIL=admin@example.com
  run --separate-stderr perf_bench_token http://127.0.0.1:4487 "${TOKEN}" /runs/r 0
  [ "${status}" -eq 0 ]
  [ "$(grep -c 'issued no benchmark token' <<<"${stderr}")" -eq 1 ]
  [[ "${stderr}" == *"HTTP 404 - the gateway has no such API"*"--strict-secrets refuses instead"* ]]
  perf_bench_token http://127.0.0.1:4487 "${TOKEN}" /runs/r 0 2>/dev/null
  [ "${PERF_LOAD_TOKEN}" = "${TOKEN}" ]
  [ -z "${PERF_LOAD_ID}" ]
  [ "${PERF_LOAD_AS}" = '{"kind": "user-token"}' ]
  [ "${#PERF_BENCH_ISSUED[@]}" -eq 0 ]
}

@test "perf_bench_token --strict-secrets: a gateway that issues none is exit 3" {
  fake_perf_py 3
  run --separate-stderr perf_bench_token http://127.0.0.1:4487 "${TOKEN}" /runs/r 1
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"error: --strict-secrets: http://127.0.0.1:4487 issued no benchmark token (issuing a benchmark token (POST /tokens): HTTP 404"* ]]
}

@test "perf_refresh_token leaves a benchmark token alone (no login renews it into the user's)" {
  perf_add_side http://127.0.0.1:4487 bench.token.secret /runs/r "" tok-1
  perf_use_side 0
  perf_py() { echo "perf_py $*" >>"${BATS_TEST_TMPDIR}/perf_py.log"; return 1; }
  perf_refresh_token
  [ "${PERF_TOKEN}" = bench.token.secret ]
  [ ! -e "${BATS_TEST_TMPDIR}/perf_py.log" ]
}

@test "run-configurable.sh --help names --strict-secrets" {
  run "${KIT}/run-configurable.sh" --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"--strict-secrets    refuse to run (exit 3)"* ]]
}
