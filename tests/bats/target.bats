#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# perf_resolve_target and perf_stop_started_stack (utils/lib/lib.sh), the one place that decides
# where the load goes: in a copy of lib.sh beside a recording local-stack.sh, with a curl stub
# whose answer each test sets (FAKE_HTTP: the status code it prints).

bats_require_minimum_version 1.5.0

setup() {
  FAKE_KIT="${BATS_TEST_TMPDIR}/kit"
  CALLS="${BATS_TEST_TMPDIR}/calls.log"
  mkdir -p "${FAKE_KIT}/utils/lib" "${BATS_TEST_TMPDIR}/bin"
  cp "${BATS_TEST_DIRNAME}/../../utils/lib/lib.sh" "${FAKE_KIT}/utils/lib/"
  # the stack "runs" when STACK_RUNS=1
  cat >"${FAKE_KIT}/utils/local-stack.sh" <<'STUB'
#!/bin/sh
echo "local-stack.sh $*" >>"${CALLS}"
[ "$1" != running ] || [ "${STACK_RUNS:-0}" = 1 ]
STUB
  # shellcheck disable=SC2016  # $FAKE_HTTP is expanded by the stub
  printf '#!/bin/sh\necho "curl $*" >>"%s"\nprintf %%s "${FAKE_HTTP:-000}"\n' "${CALLS}" >"${BATS_TEST_TMPDIR}/bin/curl"
  chmod +x "${FAKE_KIT}/utils/local-stack.sh" "${BATS_TEST_TMPDIR}/bin/curl"
  export CALLS
}

# resolve ARGS...: perf_resolve_target ARGS in a fresh bash (PERF_PROG=demo), then
# perf_stop_started_stack; prints PERF_TARGET_URL and PERF_STARTED_STACK in between.
resolve() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr env PATH="${BATS_TEST_TMPDIR}/bin:/usr/bin:/bin" PERF_PROG=demo \
    bash -c 'source "$1"; shift; perf_resolve_target "$@"
      printf "%s %s\n" "${PERF_TARGET_URL}" "${PERF_STARTED_STACK}"; perf_stop_started_stack' \
    _ "${FAKE_KIT}/utils/lib/lib.sh" "$@"
}

stack_calls() {
  grep '^local-stack.sh' "${CALLS}" 2>/dev/null || true
}

@test "a named gateway that answers /health is the target; no stack is touched" {
  FAKE_HTTP=200 resolve http://127.0.0.1:5555/ smoke 1
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:5555 0" ]
  grep -q 'curl .*http://127.0.0.1:5555/health' "${CALLS}"
  [ -z "$(stack_calls)" ]
}

@test "a named gateway that does not answer is exit 3 naming it and the fix" {
  FAKE_HTTP=000 resolve http://127.0.0.1:5555 smoke 1
  [ "${status}" -eq 3 ]
  [ "${stderr}" = "demo: error: the gateway named as target (http://127.0.0.1:5555) does not answer http://127.0.0.1:5555/health; start it or fix --url / GATEWAY_URL" ]
  [ -z "$(stack_calls)" ]
}

@test "with --endpoint, the endpoint must answer at all (any status), /health is not asked" {
  FAKE_HTTP=404 resolve http://127.0.0.1:5555 smoke 1 --endpoint http://127.0.0.1:5555/x
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:5555 0" ]
  run ! grep -q '/health' "${CALLS}"
  FAKE_HTTP=000 resolve http://127.0.0.1:5555 smoke 1 --endpoint http://127.0.0.1:5555/x
  [ "${status}" -eq 3 ]
  [ "${stderr}" = "demo: error: http://127.0.0.1:5555/x does not answer; is the service running?" ]
}

@test "a target off loopback is exit 2 before any request, unless PERF_ALLOW_REMOTE=1" {
  FAKE_HTTP=200 resolve http://10.1.2.3:4444 smoke 1
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://10.1.2.3:4444 is not on loopback"*"PERF_ALLOW_REMOTE=1"* ]]
  [ ! -e "${CALLS}" ]
  PERF_BASE_URL=http://example.com:4444 PERF_MANAGE=auto resolve "" smoke 1
  [ "${status}" -eq 2 ]
  [ ! -e "${CALLS}" ]
  PERF_ALLOW_REMOTE=1 FAKE_HTTP=200 resolve http://10.1.2.3:4444 smoke 1
  [ "${status}" -eq 0 ]
}

@test "auto: the gateway answering at the base URL is used, nothing started" {
  PERF_BASE_URL=http://127.0.0.1:4444/ PERF_MANAGE=auto FAKE_HTTP=200 resolve "" smoke 1
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:4444 0" ]
  [ "${stderr}" = "demo: using the gateway answering at http://127.0.0.1:4444" ]
  [ -z "$(stack_calls)" ]
}

@test "auto: nothing answers, so the local stack comes up, and goes down at the end" {
  PERF_BASE_URL=http://127.0.0.1:4444 PERF_MANAGE=auto FAKE_HTTP=000 resolve "" medium 3
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:4444 1" ]
  [ "$(stack_calls)" = "local-stack.sh running
local-stack.sh up --profile medium --servers 3
local-stack.sh down" ]
  [[ "${stderr}" == *"demo: taking down the local stack this run started"* ]]
}

@test "auto: a local stack that was running already is used and left running" {
  STACK_RUNS=1 PERF_BASE_URL=http://127.0.0.1:4444 PERF_MANAGE=auto FAKE_HTTP=000 resolve "" smoke 1
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:4444 0" ]
  [ "$(stack_calls)" = "local-stack.sh running
local-stack.sh up --profile smoke --servers 1" ]
}

@test "never: nothing answering is exit 3; always: the local stack even when a gateway answers" {
  PERF_BASE_URL=http://127.0.0.1:4444 PERF_MANAGE=never FAKE_HTTP=000 resolve "" smoke 1
  [ "${status}" -eq 3 ]
  [ "${stderr}" = "demo: error: no gateway answers at http://127.0.0.1:4444 and service.manage is 'never'; start one (make up) or set PERF_MANAGE=auto" ]
  [ -z "$(stack_calls)" ]
  PERF_BASE_URL=http://127.0.0.1:4444 PERF_MANAGE=always FAKE_HTTP=200 resolve "" smoke 2
  [ "${status}" -eq 0 ]
  [ "${output}" = "http://127.0.0.1:4444 1" ]
  [[ "$(stack_calls)" == *"local-stack.sh up --profile smoke --servers 2"*"local-stack.sh down" ]]
}

@test "perf_stop_started_stack does nothing when nothing was started" {
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'source "$1"; perf_stop_started_stack; PERF_STARTED_STACK=0; perf_stop_started_stack' \
    _ "${FAKE_KIT}/utils/lib/lib.sh"
  [ "${status}" -eq 0 ]
  [ -z "$(stack_calls)" ]
}
