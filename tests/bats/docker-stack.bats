#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/docker-stack.sh: without Docker it says what is missing and exits 3; with a recording
# docker stub, the commands it runs for up and down. Nothing here needs a Docker engine.

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  STUBS="${BATS_TEST_TMPDIR}/bin"
  CALLS="${BATS_TEST_TMPDIR}/docker-calls.log"
  FILE="${BATS_TEST_TMPDIR}/stack/docker-compose.yaml"
  mkdir -p "${STUBS}"
}

# stack ARGS...: run utils/docker-stack.sh with only the stubs, /usr/bin and /bin on PATH.
stack() {
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" \
    CALLS="${CALLS}" WAIT_CODE="${WAIT_CODE:-0}" STUB_FAIL="${STUB_FAIL:-}" \
    "${KIT}/utils/docker-stack.sh" "$@"
}

# docker_stub: a docker that records its arguments; STUB_FAIL names the call that fails
# ("compose version" or "info"); `docker wait` prints WAIT_CODE.
docker_stub() {
  cat >"${STUBS}/docker" <<'EOF'
#!/bin/sh
echo "docker $*" >>"${CALLS}"
case "$*" in
  "${STUB_FAIL}") exit 1 ;;
  *"ps -a -q register") echo abc123 ;;
  "wait abc123") echo "${WAIT_CODE}" ;;
  *" logs "*) echo "register_servers.py: error: login refused" ;;
esac
exit 0
EOF
  chmod +x "${STUBS}/docker"
}

@test "check and up exit 3 when docker is not on PATH, naming the local alternative" {
  [ ! -e /usr/bin/docker ] && [ ! -e /bin/docker ]  # the premise: no docker on that PATH
  for action in check up; do
    stack "${action}" --file "${FILE}"
    [ "${status}" -eq 3 ]
    [[ "${stderr}" == *"docker-stack.sh: error: 'docker' not found on PATH; install Docker Engine"* ]]
    [[ "${stderr}" == *"./run-advanced.sh --mode local"* ]]
  done
  [ ! -e "${FILE}" ]  # up stopped before generating anything
}

@test "check names a missing compose plugin and an engine that does not answer" {
  docker_stub
  STUB_FAIL="compose version" stack check
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"the docker compose plugin is missing"* ]]
  STUB_FAIL="info" stack check
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"no Docker engine answers ('docker info' failed"* ]]
  STUB_FAIL="none" stack check
  [ "${status}" -eq 0 ]
}

@test "up generates the file, starts it and waits for the registration" {
  docker_stub
  STUB_FAIL="none" stack up --servers 3 --database both --file "${FILE}"
  [ "${status}" -eq 0 ]
  grep -q '^  bench-server-3:$' "${FILE}"
  grep -q '^  gateway-postgresql:$' "${FILE}"
  [ -f "${FILE%.yaml}.env" ]
  grep -qx "docker compose -f ${FILE} up -d --build" "${CALLS}"
  grep -qx "docker compose -f ${FILE} ps -a -q register" "${CALLS}"
  grep -qx "docker wait abc123" "${CALLS}"
  [[ "${stderr}" == *"Docker stack up: 3 MCP server(s) registered"* ]]
}

@test "up exits 3 with the register log when the registration fails" {
  docker_stub
  WAIT_CODE=3 STUB_FAIL="none" stack up --servers 1 --file "${FILE}"
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"registering the MCP servers failed (exit 3); the last log lines:"* ]]
  [[ "${stderr}" == *"register_servers.py: error: login refused"* ]]
  grep -qx "docker compose -f ${FILE} logs --no-color --tail 40 register" "${CALLS}"
}

@test "up refuses bad options with exit 2 before starting anything" {
  docker_stub
  STUB_FAIL="none" stack up --servers 101 --file "${FILE}"
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--servers 101 is out of range: use 1-100"* ]]
  run ! grep -q "compose -f" "${CALLS}"
}

@test "down is a no-op without a file or an engine, else removes containers and volumes" {
  stack down --file "${FILE}"
  [ "${status}" -eq 0 ]
  [[ "${stderr}" == *"no Compose file at ${FILE}: nothing to take down"* ]]
  mkdir -p "${FILE%/*}"
  : >"${FILE}"
  stack down --file "${FILE}"
  [ "${status}" -eq 0 ]
  [[ "${stderr}" == *"nothing to take down: 'docker' not found on PATH"* ]]
  docker_stub
  STUB_FAIL="none" stack down --file "${FILE}"
  [ "${status}" -eq 0 ]
  grep -qx "docker compose -f ${FILE} down -v --remove-orphans" "${CALLS}"
}

@test "unknown action, missing action and unknown option exit 2" {
  stack restart
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown action 'restart' (have: check, up, down)"* ]]
  stack
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"missing action"* ]]
  stack up --sevrers 3
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--sevrers'"* ]]
}
