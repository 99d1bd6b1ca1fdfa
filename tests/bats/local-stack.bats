#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/local-stack.sh's start that fails leaves nothing running (stack_abandon, and the MCP
# servers an `up` started beside a gateway that did not come up).

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  PERF_STACK_NAME="bats-$$"
  PERF_SERVER_BASE_PORT=9930
  export PERF_STACK_NAME PERF_SERVER_BASE_PORT
  # shellcheck source=utils/local-stack.sh
  source "${KIT}/utils/local-stack.sh"
}

teardown() {
  rm -rf "${KIT}/.state/bats-$$"
}

@test "a start that failed stops the whole process group it began, and forgets it" {
  local pidfile="${BATS_TEST_TMPDIR}/server.pid" leader child
  # a leader with a child of its own, in a session (group) of their own, as a start makes it
  setsid bash -c 'sleep 300 & sleep 300' &
  leader=$!
  printf '%s\n' "${leader}" >"${pidfile}"
  sleep 0.3
  child="$(pgrep -g "${leader}" -x sleep | head -n 1)"
  [ -n "${child}" ]
  stack_abandon "${pidfile}"
  ! kill -0 "${leader}" 2>/dev/null
  ! kill -0 "${child}" 2>/dev/null
  [ ! -e "${pidfile}" ]
}

@test "abandoning a start that left no pid is a no-op" {
  stack_abandon "${BATS_TEST_TMPDIR}/none.pid"
  printf 'garbage\n' >"${BATS_TEST_TMPDIR}/bad.pid"
  stack_abandon "${BATS_TEST_TMPDIR}/bad.pid"
  [ ! -e "${BATS_TEST_TMPDIR}/bad.pid" ]
}

@test "an up whose gateway does not come up stops the MCP servers it started, and only those" {
  perf_ensure_setup
  mkdir -p "${STACK_DIR}" "${STACK_LOGS}"
  # a server of an earlier up, still running: not this call's to stop
  setsid bash -c 'exec -a bench_server.py sleep 300' &
  printf '%s\n' "$!" >"${STACK_DIR}/server-1.pid"
  local earlier=$!
  # the gateway fails once the servers are on their way (a bad setting, a port taken, ...)
  stack_start_gateway() { perf_die "${PERF_EXIT_ENV_NOT_READY}" "no gateway today"; }
  run -3 --separate-stderr stack_up 3 smoke
  [[ "${stderr}" == *"no gateway today"* ]]
  [[ "${stderr}" == *"stopping MCP server server-2"* && "${stderr}" == *"stopping MCP server server-3"* ]]
  [ ! -e "${STACK_DIR}/server-2.pid" ] && [ ! -e "${STACK_DIR}/server-3.pid" ]
  ! pgrep -f "bench_server.py --port 993[23]"
  kill -0 "${earlier}"
  perf_stop_group "${earlier}" 1
}
