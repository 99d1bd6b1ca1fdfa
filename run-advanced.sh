#!/usr/bin/env bash
# Scale tests: the gateway with N benchmark MCP servers behind it, on SQLite and/or PostgreSQL,
# tool calls spread over every server; a list of server counts gives a scalability report, a
# concurrency sweep finds the knee and the DB pool's saturation point. Everything it starts
# (gateways, MCP servers, PostgreSQL databases, temporary files) is removed at the end, on
# success, failure and Ctrl+C alike. Exit codes as run-configurable.sh, the points' codes
# combined (README.md, "Exit codes").
set -euo pipefail

PERF_PROG="run-advanced.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/utils/lib/lib.sh"

readonly ADV_SERVER_BASE_PORT=9700 # server i of a local stack listens on 9700 + i
readonly ADV_MAX_SERVERS=100

adv_usage() {
  cat <<'EOF'
usage: ./run-advanced.sh --servers N|LIST [--profile NAME] [--database sqlite|postgresql|both]
                         [--mode local|docker] [--concurrency-sweep LIST] [--p95-slo MS]
                         [--protocol mcp|rpc] [--iterations N] [--quiet]

  --servers N|LIST         benchmark MCP servers behind the gateway (1-100); a comma list
                           (1,2,5,10) measures each count in turn and reports the scaling
  --profile NAME           profiles/NAME.env (requests, concurrency, rounds); default light
  --database D             sqlite (default), postgresql (a database of the kit's own on
                           service.postgres_url, created and dropped by the kit) or both
  --mode M                 local (default: N server processes on this machine) or docker
                           (docker compose; needs a running Docker engine)
  --concurrency-sweep LIST client counts (e.g. 5,10,20,40) run at the largest server count:
                           throughput and latency per count, the knee, the DB pool saturation
  --p95-slo MS             the sweep's knee: highest client count with p95 <= MS and no errors
                           (advanced.sweep_p95_slo_ms, default 1000)
  --protocol P             how the tool calls reach the gateway: mcp (default: MCP streamable
                           HTTP to the virtual server bench-virtual's /servers/<id>/mcp, as MCP
                           clients do) or rpc (the plain JSON-RPC endpoint /rpc)
  --iterations N           measured rounds per test (PERF_ITERATIONS)
  --quiet                  no progress on stderr

Results: results/advanced_<profile>_<stamp>/: report.html (scalability report), scalability.json,
advanced.json, and one ordinary run folder per database and server count.
EOF
}

# adv_parse_args ARGS...: fill ADV_* and ADV_SETS (--set NAME=VALUE for perfkit config).
adv_parse_args() {
  ADV_PROFILE="${PERF_PROFILE:-light}"
  ADV_SERVERS=""
  ADV_DATABASE=sqlite
  ADV_MODE=local
  ADV_SETS=()
  while (($#)); do
    case "$1" in
      --servers) ADV_SERVERS="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) ADV_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --database) ADV_DATABASE="$(perf_flag_value "$@")"; shift 2 ;;
      --mode) ADV_MODE="$(perf_flag_value "$@")"; shift 2 ;;
      --concurrency-sweep) ADV_SETS+=(--set "PERF_SWEEP_LEVELS=$(perf_flag_value "$@")"); shift 2 ;;
      --p95-slo) ADV_SETS+=(--set "PERF_SWEEP_P95_MS=$(perf_flag_value "$@")"); shift 2 ;;
      --iterations) ADV_SETS+=(--set "PERF_ITERATIONS=$(perf_flag_value "$@")"); shift 2 ;;
      --protocol) ADV_SETS+=(--set "PERF_SCALE_PROTOCOL=$(perf_flag_value "$@")"); shift 2 ;;
      --quiet) PERF_QUIET=1; export PERF_QUIET; shift ;;
      -h | --help) adv_usage; exit 0 ;;
      *) adv_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  adv_check_args
}

# adv_check_args: everything the flags alone decide, checked before any setup (no Python needed).
adv_check_args() {
  local count
  perf_check_profile "${ADV_PROFILE}"
  [[ -n "${ADV_SERVERS}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "say how many MCP servers: --servers 10, or a list to compare: --servers 1,2,5,10"
  [[ "${ADV_SERVERS}" =~ ^[0-9]+(,[0-9]+)*$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--servers '${ADV_SERVERS}' is not a count or a comma list of counts (e.g. 1,2,5,10)"
  mapfile -t ADV_COUNTS < <(tr , '\n' <<<"${ADV_SERVERS}" | sed 's/^0*//' | sort -n -u)
  for count in "${ADV_COUNTS[@]}"; do
    [[ -n "${count}" && "${count}" -ge 1 && "${count}" -le "${ADV_MAX_SERVERS}" ]] ||
      perf_die "${PERF_EXIT_USAGE}" "--servers: each count must be 1-${ADV_MAX_SERVERS}, got '${count:-0}' in '${ADV_SERVERS}'"
  done
  case "${ADV_DATABASE}" in
    sqlite | postgresql) ADV_DATABASES=("${ADV_DATABASE}") ;;
    both) ADV_DATABASES=(sqlite postgresql) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--database '${ADV_DATABASE}' is not one of: sqlite, postgresql, both" ;;
  esac
  case "${ADV_MODE}" in
    local | docker) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--mode '${ADV_MODE}' is not one of: local, docker" ;;
  esac
}

# --- running one point: a database and a server count ------------------------------------


# adv_stack DATABASE up COUNT | down: the stack of one database. Local mode: its own local
# stack (name, ports, state folder, PostgreSQL database); docker mode: its own Compose project
# (utils/docker-stack.sh) on the same host ports.
adv_stack() {
  local database="$1" action="$2" count="${3:-}" args=()
  if [[ "${ADV_MODE}" == docker ]]; then
    args=(--file "${ADV_DIR}/docker/${database}/docker-compose.yaml")
    [[ "${action}" != up ]] || args+=(--servers "${count}" --database "${database}" \
      --gateway-port "$(adv_port "${database}")" --server-base-port "${ADV_SERVER_BASE_PORT}")
    "${PERF_KIT_ROOT}/utils/docker-stack.sh" "${action}" "${args[@]}"
    return
  fi
  [[ "${action}" != up ]] || args=(--servers "${count}" --profile "${ADV_PROFILE}")
  PERF_STACK_NAME="advanced-${database}" PERF_DB_BACKEND="${database}" \
    PERF_BASE_URL="$(adv_url "${database}")" PERF_SERVER_BASE_PORT="${ADV_SERVER_BASE_PORT}" \
    "${PERF_KIT_ROOT}/utils/local-stack.sh" "${action}" "${args[@]}"
}

# adv_run_env DATABASE COUNT: the environment a point's run-configurable.sh needs to find its
# stack's MCP servers (their call counts) and processes (the resource monitor).
adv_run_env() {
  local database="$1" count="$2" i servers=()
  if [[ "${ADV_MODE}" == docker ]]; then
    for ((i = 1; i <= count; i++)); do
      servers+=("bench-time-${i}=http://127.0.0.1:$((ADV_SERVER_BASE_PORT + i))")
    done
    # the gateway runs in a container: what listens on its host port is docker's proxy, not
    # the gateway, so the monitor does not take it for the gateway
    printf '%s\n' "PERF_STATS_SERVERS=$(
      IFS=,
      printf '%s' "${servers[*]}"
    )" PERF_MONITOR_BY_PORT=0
  else
    printf '%s\n' "PERF_STACK_NAME=advanced-${database}" "PERF_SERVER_BASE_PORT=${ADV_SERVER_BASE_PORT}"
  fi
}

# adv_url DATABASE: where that database's gateway listens (each its own port: a token cached
# for one is never offered to the other).
adv_url() {
  printf 'http://127.0.0.1:%s\n' "$(adv_port "$1")"
}

adv_port() {
  case "$1" in
    sqlite) printf '4490\n' ;;
    postgresql) printf '4491\n' ;;
  esac
}

# adv_point DATABASE COUNT LAST: bring the stack to COUNT servers, run the scale workload (and
# the sweep at the largest count), move the run folder into place and record the point.
adv_point() {
  local database="$1" count="$2" last="$3" scenarios=scale rc=0 stack_env=()
  [[ "${last}" != 1 || -z "${PERF_SWEEP_LEVELS}" ]] || scenarios=scale,sweep
  ADV_POINT="${database} ${count}" # recorded by the interrupt path if it stops this point
  perf_log "== ${database}, ${count} MCP server(s): ${scenarios} =="
  perf_waited adv_stack "${database}" up "${count}" || rc=$?
  if ((rc == 0)); then
    rm -f "${ADV_RUNS}/latest"
    mapfile -t stack_env < <(adv_run_env "${database}" "${count}")
    perf_waited env "${stack_env[@]}" PERF_DB_BACKEND="${database}" PERF_SERVERS_COUNT="${count}" \
      PERF_RESULTS_DIR="${ADV_RUNS}" PERF_SCALE_PAYLOAD_DIR="${ADV_DIR}/payloads" \
      "${PERF_KIT_ROOT}/run-configurable.sh" --url "$(adv_url "${database}")" \
      --profile "${ADV_PROFILE}" --scenarios "${scenarios}" --baseline skip --skip-checks \
      "${ADV_RUN_ARGS[@]}" || rc=$?
  fi
  adv_record_point "${database}" "${count}" "${rc}"
  return "${rc}"
}

# adv_record_point DATABASE COUNT RC: move the point's run folder (if the run made one) to
# DATABASE/servers-COUNT and add the point to advanced.json.
adv_record_point() {
  local database="$1" count="$2" rc="$3" run=""
  ADV_POINT=""
  if [[ -L "${ADV_RUNS}/latest" ]]; then
    run="${database}/servers-${count}"
    mkdir -p "${ADV_DIR}/${database}"
    mv "${ADV_RUNS}/$(readlink "${ADV_RUNS}/latest")" "${ADV_DIR}/${run}"
    rm -f "${ADV_RUNS}/latest"
  fi
  perf_py advanced add-point "${ADV_DIR}" --database "${database}" --servers "${count}" \
    --run "${run}" --exit-code "${rc}"
}

# adv_database DATABASE: every server count in turn on one gateway (servers are added as the
# count grows), then the stack down (its database dropped). A point ending with a stopping code
# ends the database; returns the points' codes combined (README.md, "Exit codes").
adv_database() {
  local database="$1" i last point_rc codes=()
  ADV_LIVE_STACK="${database}"
  # leftovers of an earlier run that was killed hard: stop them, drop their database
  adv_stack "${database}" down >/dev/null 2>&1 || true
  rm -rf "${PERF_STATE_DIR}/advanced-${database}"
  for i in "${!ADV_COUNTS[@]}"; do
    last=$((i == ${#ADV_COUNTS[@]} - 1 ? 1 : 0))
    point_rc=0
    adv_point "${database}" "${ADV_COUNTS[i]}" "${last}" || point_rc=$?
    codes+=("${point_rc}")
    perf_code_stops "${point_rc}" && break
  done
  adv_stop_stack "${database}"
  ADV_LIVE_STACK=""
  return "$(perf_worst_code "${codes[@]}")"
}

# adv_databases: each database in turn until one ends with a code that stops the run; returns
# their codes combined (README.md, "Exit codes").
adv_databases() {
  local database db_rc codes=()
  for database in "${ADV_DATABASES[@]}"; do
    db_rc=0
    adv_database "${database}" || db_rc=$?
    codes+=("${db_rc}")
    perf_code_stops "${db_rc}" && break
  done
  return "$(perf_worst_code "${codes[@]}")"
}

# adv_stop_stack DATABASE: stop the stack (its PostgreSQL database dropped), keep its logs in
# the results, delete its state (secrets, SQLite database).
adv_stop_stack() {
  local database="$1" state="${PERF_STATE_DIR}/advanced-$1"
  adv_stack "${database}" down || perf_warn "could not stop the ${database} stack cleanly; see ${state}/logs"
  if [[ -d "${state}/logs" && -n "${ADV_DIR:-}" && -d "${ADV_DIR}" ]]; then
    mkdir -p "${ADV_DIR}/logs"
    rm -rf "${ADV_DIR}/logs/${database}"
    cp -r "${state}/logs" "${ADV_DIR}/logs/${database}"
  fi
  [[ -f "${state}/postgres.db" ]] || rm -rf "${state}"
  # docker mode: the Compose project's secrets do not stay in the results
  [[ -z "${ADV_DIR:-}" ]] || rm -f "${ADV_DIR}/docker/${database}/docker-compose.env"
}

# --- whole run ------------------------------------------------------------------------------

adv_make_dir() {
  ADV_DIR="$(perf_make_fresh_dir "${PERF_RESULTS_DIR}/advanced_${ADV_PROFILE}_$(date +%Y%m%d-%H%M%S)")"
  ADV_RUNS="${ADV_DIR}/.runs"
  local args=(--profile "${ADV_PROFILE}" --servers "$(
    IFS=,
    printf '%s' "${ADV_COUNTS[*]}"
  )" --databases "$(
    IFS=,
    printf '%s' "${ADV_DATABASES[*]}"
  )" --mode "${ADV_MODE}" --p95-slo-ms "${PERF_SWEEP_P95_MS}" --pool-size "${PERF_DB_POOL_SIZE}" --max-overflow "${PERF_DB_MAX_OVERFLOW}")
  [[ -z "${PERF_SWEEP_LEVELS}" ]] || args+=(--sweep "${PERF_SWEEP_LEVELS}")
  perf_py advanced init "${ADV_DIR}" "${args[@]}"
}

# adv_cleanup: stop every stack this run started, drop its databases, delete temporary files.
adv_cleanup() {
  trap - EXIT
  perf_stop_waited
  if [[ -n "${ADV_POINT:-}" ]]; then
    # keep what the interrupted point measured (its run marked itself partial)
    # shellcheck disable=SC2086 # "DATABASE COUNT"
    adv_record_point ${ADV_POINT} "${PERF_EXIT_INTERRUPTED}" || true
  fi
  if [[ -n "${ADV_LIVE_STACK:-}" ]]; then
    adv_stop_stack "${ADV_LIVE_STACK}" || true
    ADV_LIVE_STACK=""
  fi
  [[ -z "${ADV_RUNS:-}" ]] || rm -rf "${ADV_RUNS}"
}

adv_on_signal() {
  trap - INT TERM
  perf_warn "interrupted: stopping the run, the gateways and MCP servers, dropping the kit's databases"
  adv_cleanup
  [[ -z "${ADV_DIR:-}" ]] || adv_report || true
  exit "${PERF_EXIT_INTERRUPTED}"
}

adv_report() {
  perf_py advanced report "${ADV_DIR}" || {
    perf_warn "no scalability report for ${ADV_DIR} (see above); the run folders stand"
    return 0
  }
}

# adv_check_ports: the ports local mode needs must be free (or the kit's own leftovers).
adv_check_ports() {
  local database port
  for database in "${ADV_DATABASES[@]}"; do
    port="$(adv_url "${database}")"
    perf_gateway_answers "${port}" &&
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "something already answers at ${port} (run-advanced.sh's ${database} gateway port); stop it first"
  done
  return 0
}

adv_main() {
  local rc=0
  adv_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${ADV_PROFILE}" "${ADV_SETS[@]}"
  perf_require_tools
  [[ "${ADV_MODE}" != docker ]] || "${PERF_KIT_ROOT}/utils/docker-stack.sh" check
  [[ " ${ADV_DATABASES[*]} " != *" postgresql "* || "${ADV_MODE}" == docker ]] || perf_require_cmd psql "install it: apt-get install -y postgresql-client"
  adv_check_ports
  ADV_RUN_ARGS=()
  [[ "${PERF_QUIET}" != 1 ]] || ADV_RUN_ARGS+=(--quiet)
  # the child runs get the resolved settings through the environment (perf_load_settings
  # exported them); flags given here win there too
  ADV_LIVE_STACK=""
  ADV_POINT=""
  trap adv_on_signal INT TERM
  trap adv_cleanup EXIT
  adv_make_dir
  perf_log "results: ${ADV_DIR}"
  adv_databases || rc=$?
  adv_cleanup
  adv_report
  perf_log "results: ${ADV_DIR}"
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  adv_main "$@"
fi
