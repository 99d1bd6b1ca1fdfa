#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/local-stack.sh's start that fails leaves nothing running (stack_abandon).

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  PERF_STACK_NAME="bats-$$"
  export PERF_STACK_NAME
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
