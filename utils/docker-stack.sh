#!/usr/bin/env bash
# The kit's Docker Compose stack: the gateway (built from PyPI into an image), N benchmark MCP
# servers, PostgreSQL and Redis, from `perfkit compose generate` (README "Docker Compose").
#
#   utils/docker-stack.sh check                       exit 3 unless docker, its compose plugin
#                                                     and a Docker engine answer
#   utils/docker-stack.sh up [--servers N] [--database sqlite|postgresql|both] [--file F]
#                            [--gateway-port P] [--server-base-port B]
#                                                     generate F, build, start, and wait for
#                                                     the one-shot registration to succeed
#   utils/docker-stack.sh down [--file F]             remove the stack's containers and volumes
#
# F defaults to .state/docker/docker-compose.yaml (its secrets beside it, docker-compose.env),
# N to 10, the database to sqlite. Without Docker, `./run-advanced.sh --mode local` (or `make up`)
# runs the benchmark on the local stack.
set -euo pipefail

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly DOCKER_DEFAULT_FILE="${PERF_STATE_DIR}/docker/docker-compose.yaml"
readonly DOCKER_REGISTER_TIMEOUT=600
readonly DOCKER_WITHOUT="without Docker, ./run-advanced.sh --mode local (or make up) runs the benchmark on the local stack"

# docker_missing: print what Docker mode lacks here (nothing when docker can run the stack).
docker_missing() {
  if ! command -v docker >/dev/null 2>&1; then
    printf "'docker' not found on PATH; install Docker Engine and its compose plugin (https://docs.docker.com/engine/install/)\n"
  elif ! docker compose version >/dev/null 2>&1; then
    printf "the docker compose plugin is missing ('docker compose version' failed); install docker-compose-plugin\n"
  elif ! timeout 10 docker info >/dev/null 2>&1; then
    printf "no Docker engine answers ('docker info' failed or took over 10 s); start it (systemctl start docker) or point DOCKER_HOST at one\n"
  fi
}

docker_check() {
  local missing
  missing="$(docker_missing)"
  [[ -z "${missing}" ]] || perf_die "${PERF_EXIT_ENV_NOT_READY}" "${missing}; ${DOCKER_WITHOUT}"
}

# docker_fail FILE MESSAGE [SERVICE]: the error, the last log lines (of SERVICE or all), exit 3.
docker_fail() {
  local file="$1" message="$2" service=("${@:3}")
  perf_error "${message}; the last log lines:"
  docker compose -f "${file}" logs --no-color --tail 40 "${service[@]}" >&2 || true
  exit "${PERF_EXIT_ENV_NOT_READY}"
}

# docker_up FILE SERVERS DATABASE. `up` without --wait: compose starts `register` only once every
# gateway and server is healthy (and fails if one never is); --wait would count register's own
# exit as a failure (docker/compose#10596), so its exit code is read with `docker wait`.
docker_up() {
  local file="$1" servers="$2" database="$3" id code
  shift 3
  docker_check
  perf_ensure_setup
  perf_py compose generate --servers "${servers}" --database "${database}" --output "${file}" "$@" >/dev/null
  perf_log "building and starting ${file} (the first build installs the gateway from PyPI)"
  docker compose -f "${file}" up -d --build || docker_fail "${file}" "docker compose up failed"
  id="$(docker compose -f "${file}" ps -a -q register)" || true
  [[ -n "${id}" ]] || docker_fail "${file}" "the register service did not start"
  code="$(timeout "${DOCKER_REGISTER_TIMEOUT}" docker wait "${id}")" ||
    docker_fail "${file}" "registration did not finish within ${DOCKER_REGISTER_TIMEOUT}s" register
  [[ "${code}" == 0 ]] || docker_fail "${file}" "registering the MCP servers failed (exit ${code})" register
  perf_log "Docker stack up: ${servers} MCP server(s) registered; ports: docker compose -f ${file} ps"
}

docker_down() {
  local file="$1" missing
  if [[ ! -f "${file}" ]]; then
    perf_log "no Compose file at ${file}: nothing to take down"
    return 0
  fi
  missing="$(docker_missing)"
  if [[ -n "${missing}" ]]; then
    perf_log "nothing to take down: ${missing}"
    return 0
  fi
  docker compose -f "${file}" down -v --remove-orphans
}

docker_main() {
  local action="${1:-}" servers=10 database=sqlite file="${DOCKER_DEFAULT_FILE}" ports=()
  [[ -n "${action}" ]] || perf_die "${PERF_EXIT_USAGE}" "missing action: check, up or down (see --help)"
  shift
  while (($#)); do
    case "$1" in
      --servers) servers="$(perf_flag_value "$@")"; shift 2 ;;
      --database) database="$(perf_flag_value "$@")"; shift 2 ;;
      --file) file="$(perf_flag_value "$@")"; shift 2 ;;
      --gateway-port | --server-base-port) ports+=("$1" "$(perf_flag_value "$@")"); shift 2 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  case "${action}" in
    check) docker_check ;;
    up) docker_up "${file}" "${servers}" "${database}" "${ports[@]}" ;;
    down) docker_down "${file}" ;;
    -h | --help) sed -n '2,15p' "$0" ;;
    *) perf_die "${PERF_EXIT_USAGE}" "unknown action '${action}' (have: check, up, down)" ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  docker_main "$@"
fi
