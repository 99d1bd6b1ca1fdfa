#!/usr/bin/env bash
# The kit's built-in local stack: ContextForge MCP Gateway from PyPI (own venv, SQLite) on
# loopback, plus N benchmark MCP servers (utils/servers/bench_server.py) registered with it.
#
#   utils/local-stack.sh up [--servers N] [--profile NAME]   start what is not running (idempotent)
#   utils/local-stack.sh install [--profile NAME]            install the gateway build, start nothing
#   utils/local-stack.sh venv                                 the installed build's venv (exit 3 if not)
#   utils/local-stack.sh down                                 stop exactly what `up` started (by PID)
#   utils/local-stack.sh status                               show what runs; exit 3 if the gateway is down
#   utils/local-stack.sh running                              exit 0 when the kit's gateway runs
#   utils/local-stack.sh pids [--url URL]                     `gateway PID` / `server PID` lines of
#                                                             what runs (none if URL is not the stack's)
#
#   utils/local-stack.sh servers [--url URL]                  `NAME URL` of every MCP server that runs
#   utils/local-stack.sh database [--url URL]                 `STATE DATABASE_URL` of the gateway's
#                                                             database (fresh or kept at start)
#   utils/local-stack.sh build [--url URL]                    the path of the running gateway's
#                                                             gateway.json (its build and settings)
#   utils/local-stack.sh dataset [--url URL]                  the dataset its database holds (make populate)
#   utils/local-stack.sh python [--url URL] -- ARGS...        the running gateway's Python (its venv,
#                                                             its settings, the kit's utils/ importable)
#
# Settings: service.gateway_version (GATEWAY_VERSION), service.base_url, service.servers_count,
# service.cache, service.database (PERF_DB_BACKEND: sqlite, or postgresql in a database of the
# kit's own on service.postgres_url's server, created by `up` and dropped by `down`),
# service.db_state (PERF_DB_STATE: fresh - `up` starts the gateway on an empty database - or keep),
# service.dataset (PERF_DATASET: a dataset `up` writes into that database, utils/populate.sh);
# everything else lives in .state/ (git-ignored): gateway venvs in .state/gateways/, the stack's
# pids, logs, SQLite data and secrets in .state/stack/.
# PERF_GATEWAY_SOURCE runs a build instead of that release: a wheel or sdist file, or a source
# checkout of the gateway (its venv: .state/gateways/build-<content hash>/). PERF_GATEWAY_ENV_FILE
# gives the gateway more settings (NAME=VALUE lines) on top of the stack's own; every name is
# checked against the installed release first.
# mcp.peer (PERF_MCP_PEER=NAME) federates: `up` also starts a peer gateway of the same build on
# the stack's port + 1 (a stack of its own, <stack>-peer, serving the same MCP servers) and
# registers it with the stack's gateway under NAME; `down` stops it too.
set -euo pipefail

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

# PERF_STACK_NAME keeps a second, independent stack apart (its own pids, logs, data, secrets);
# its servers need their own ports (PERF_SERVER_BASE_PORT: server i listens on base + i), or
# PERF_STACK_SHARED_SERVERS=1 registers servers another stack already runs on those ports.
# PERF_SERVER_DELAY_MS makes the benchmark MCP servers slower on purpose (regression drills).
# PERF_STACK_TOKEN_EXPIRY (minutes, at most 1440) and PERF_STACK_VIRTUAL_KINDS (what bench-virtual
# bundles: tools resources prompts) are how `up` makes a federated peer.
readonly STACK_NAME="${PERF_STACK_NAME:-stack}"
[[ "${STACK_NAME}" =~ ^[A-Za-z0-9_-]+$ ]] || perf_die "${PERF_EXIT_USAGE}" "PERF_STACK_NAME '${STACK_NAME}' may hold only letters, digits, '_' and '-'"
readonly STACK_DIR="${PERF_STATE_DIR}/${STACK_NAME}"
readonly STACK_LOGS="${STACK_DIR}/logs"
readonly STACK_SERVER_BASE_PORT="${PERF_SERVER_BASE_PORT:-9100}"
readonly STACK_LOG_LINES=20

# stack_pid_alive PIDFILE PATTERN: true when the PID in PIDFILE runs a command matching PATTERN
# (guards against a recycled PID belonging to something else).
stack_pid_alive() {
  local pidfile="$1" pattern="$2" pid
  [[ -f "${pidfile}" ]] || return 1
  pid="$(<"${pidfile}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q -- "${pattern}"
}

stack_port() {
  [[ "${PERF_BASE_URL}" =~ ^http://(127\.0\.0\.1|localhost):([0-9]+)/?$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "the local stack runs on loopback only; service.base_url is ${PERF_BASE_URL} (want http://127.0.0.1:PORT)"
  printf '%s\n' "${BASH_REMATCH[2]}"
}

# stack_die_with_log CODE LOG MESSAGE...: the last lines of LOG on stderr, then exit CODE with
# MESSAGE (a failed install or start says why without opening the log).
stack_die_with_log() {
  local code="$1" log="$2"
  shift 2
  if [[ -s "${log}" ]]; then
    printf '%s: the last %s lines of %s:\n' "${PERF_PROG}" "${STACK_LOG_LINES}" "${log}" >&2
    tail -n "${STACK_LOG_LINES}" "${log}" | sed 's/^/  | /' >&2
  fi
  perf_die "${code}" "$@"
}

# stack_describe: the gateway build to run - PERF_GATEWAY_SOURCE, else the release
# service.gateway_version - as perfkit gateway describe names it: GW_KIND, GW_KEY, GW_LABEL,
# GW_VENV, GW_REQUIREMENT, GW_REQUIREMENT_POSTGRES; STACK_SPEC as it was given.
stack_describe() {
  local described
  STACK_SPEC="${PERF_GATEWAY_SOURCE:-${PERF_GATEWAY_VERSION}}"
  described="$(perf_py gateway describe "${STACK_SPEC}" --state-dir "${PERF_STATE_DIR}")" || exit "$?"
  eval "${described}"
}

stack_venv() {
  printf '%s\n' "${GW_VENV}"
}

# stack_install_gateway: the build in its own venv (several builds can coexist), installed
# with the gateway's constraints; a failed install is exit 3 with the end of its log.
stack_install_gateway() {
  local venv log constraints="${PERF_KIT_ROOT}/utils/pins/gateway-constraints.txt" fix
  venv="$(stack_venv)"
  log="${PERF_STATE_DIR}/install-gateway-${GW_KEY}.log"
  if [[ ! -x "${venv}/bin/mcpgateway" ]]; then
    mkdir -p "${STACK_LOGS}"
    perf_log "installing ${GW_LABEL} (${GW_REQUIREMENT}) into ${venv} (log: ${log})"
    rm -rf "${venv}"
    if ! { python3 -m venv "${venv}" && "${venv}/bin/pip" install --disable-pip-version-check \
      -c "${constraints}" "${GW_REQUIREMENT}"; } >"${log}" 2>&1; then
      rm -rf "${venv}"
      rmdir "$(dirname "${venv}")" 2>/dev/null || true
      fix="set GATEWAY_VERSION to a release that installs"
      [[ "${GW_KIND}" == release ]] || fix="check that the ${GW_KIND} builds and installs: pip install ${GW_PATH}"
      stack_die_with_log "${PERF_EXIT_ENV_NOT_READY}" "${log}" "could not install ${GW_LABEL}; see ${log} (${fix})"
    fi
  fi
  [[ "${PERF_DB_BACKEND}" == postgresql ]] || return 0
  "${venv}/bin/python" -c 'import psycopg' 2>/dev/null && return 0
  # the gateway's [postgres] extra (psycopg 3), added to the same venv when first needed
  perf_log "installing ${GW_REQUIREMENT_POSTGRES} into ${venv} (log: ${log})"
  "${venv}/bin/pip" install --disable-pip-version-check -c "${constraints}" \
    "${GW_REQUIREMENT_POSTGRES}" >>"${log}" 2>&1 ||
    stack_die_with_log "${PERF_EXIT_ENV_NOT_READY}" "${log}" "could not install the gateway's PostgreSQL driver (extra [postgres]); see ${log}"
}

# stack_check_settings: PERF_GATEWAY_ENV_FILE's settings, every name checked against the
# installed release (exit 2 naming an unknown one or a malformed line), written quoted for
# gateway.env into gateway-settings.env (0600); none when it is not set.
stack_check_settings() {
  local checked="${STACK_DIR}/gateway-settings.env" shown
  rm -f "${checked}"
  [[ -n "${PERF_GATEWAY_ENV_FILE:-}" ]] || return 0
  shown="$(perf_py gateway settings --file "${PERF_GATEWAY_ENV_FILE}" --venv "$(stack_venv)" \
    --release "${GW_LABEL}" --shell-output "${checked}")" || exit "$?"
  perf_log "gateway settings on top of the stack's own (${PERF_GATEWAY_ENV_FILE}): ${shown//$'\n'/ }"
}

# --- PostgreSQL: a database of the kit's own per stack, created by `up`, dropped by `down` ---

# stack_pg_name: the stack's database (perfkit_<stack name>).
stack_pg_name() {
  local name="perfkit_${STACK_NAME//-/_}"
  printf '%s\n' "${name,,}"
}

# stack_pg_url DATABASE: service.postgres_url with its database replaced.
stack_pg_url() {
  printf '%s/%s\n' "${PERF_POSTGRES_URL%/*}" "$1"
}

stack_psql() {
  psql -X -q -v ON_ERROR_STOP=1 -d "${PERF_POSTGRES_URL}" "$@"
}

# stack_pg_create: a fresh database for the gateway; refuses one the kit did not create.
stack_pg_create() {
  local db marker="${STACK_DIR}/postgres.db" exists
  db="$(stack_pg_name)"
  perf_require_cmd psql "install it: apt-get install -y postgresql-client"
  stack_psql -tAc 'SELECT 1' >/dev/null 2>&1 ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "PostgreSQL does not answer at ${PERF_POSTGRES_URL}; start it, or point service.postgres_url (PERF_POSTGRES_URL) at a server the kit may create databases on"
  exists="$(stack_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'")"
  if [[ "${exists}" == 1 ]]; then
    [[ -f "${marker}" ]] ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "PostgreSQL database ${db} exists but this kit did not create it; drop it (DROP DATABASE ${db}) or use another PERF_STACK_NAME"
    if [[ "${PERF_DB_STATE}" == keep ]]; then
      perf_log "using PostgreSQL database ${db} as earlier runs left it (service.db_state keep)"
      return 0
    fi
    stack_pg_drop
  fi
  stack_psql -c "CREATE DATABASE ${db}" >/dev/null
  printf '%s\n' "${db}" >"${marker}"
  perf_log "created PostgreSQL database ${db} at ${PERF_POSTGRES_URL%/*}"
}

# stack_pg_drop: drop the database `up` created (its name is in .state/<stack>/postgres.db).
stack_pg_drop() {
  local marker="${STACK_DIR}/postgres.db" db
  [[ -f "${marker}" ]] || return 0
  db="$(<"${marker}")"
  if stack_psql -c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)" >/dev/null; then
    rm -f "${marker}"
    perf_log "dropped PostgreSQL database ${db}"
  else
    perf_warn "could not drop PostgreSQL database ${db} at ${PERF_POSTGRES_URL%/*}; drop it by hand (DROP DATABASE ${db})"
  fi
}

# stack_write_env: the gateway's environment, made once (secrets random, file mode 0600).
# stack_data_dir: the stack's own SQLite folder for the gateway release it runs.
stack_data_dir() {
  printf '%s\n' "${STACK_DIR}/data/${PERF_GATEWAY_VERSION}"
}

# stack_reset_data: the database the gateway starts on (service.db_state, PERF_DB_STATE): fresh
# (the default) starts it empty - the stack's own SQLite folder is removed, PostgreSQL gets the
# kit's database made anew by stack_pg_create - so every run that brings the stack up starts
# from the same state; keep starts it on what earlier runs left (to measure the gateway as its
# history grows). gateway.db_state says which it was: fresh or kept.
stack_reset_data() {
  local data_dir state=fresh
  data_dir="$(stack_data_dir)"
  if [[ "${PERF_DB_STATE}" == keep ]]; then
    if [[ -f "${data_dir}/mcp.db" || (-f "${STACK_DIR}/postgres.db" && "${PERF_DB_BACKEND}" == postgresql) ]]; then
      state=kept
    fi
  else
    rm -rf "${data_dir}"
    rm -f "${STACK_DIR}/gateway.dataset"
  fi
  printf '%s\n' "${state}" >"${STACK_DIR}/gateway.db_state"
  [[ "${state}" == fresh ]] || perf_log "keeping the gateway's database from earlier runs (service.db_state keep)"
}

stack_write_env() {
  local env_file="${STACK_DIR}/gateway.env" data_dir
  data_dir="$(stack_data_dir)"
  mkdir -p "${STACK_DIR}" "${data_dir}"
  if [[ ! -f "${STACK_DIR}/secrets.env" ]]; then
    (
      umask 077
      printf 'JWT_SECRET_KEY=%s\nAUTH_ENCRYPTION_SECRET=%s\nBASIC_AUTH_PASSWORD=%s\n' \
        "$(stack_random)" "$(stack_random)" "$(stack_random)" >"${STACK_DIR}/secrets.env"
    )
  fi
  # benchmarks measure the gateway, not its rate limiter; PERF_STACK_RATE_LIMITING=true keeps the
  # gateway's default limits on (to reproduce the 429 trap)
  local limits=("RATE_LIMITING_ENABLED=false" "TOOL_RATE_LIMIT=1000000")
  [[ "${PERF_STACK_RATE_LIMITING:-false}" != true ]] || limits=("RATE_LIMITING_ENABLED=true")
  # the file holds the secrets: made anew, readable by its owner only
  (
    umask 077
    rm -f "${env_file}"
    {
      cat "${STACK_DIR}/secrets.env"
      printf '%s\n' \
        "DATABASE_URL=$(stack_database_url "${data_dir}")" \
        "PLATFORM_ADMIN_EMAIL=${PERF_AUTH_EMAIL}" \
        "PLATFORM_ADMIN_PASSWORD=${PERF_AUTH_PASSWORD}" \
        "AUTH_REQUIRED=true" "MCPGATEWAY_UI_ENABLED=false" "MCPGATEWAY_ADMIN_API_ENABLED=true" \
        "LOG_LEVEL=ERROR" "DISABLE_ACCESS_LOG=true" "CACHE_TYPE=${PERF_CACHE}" "REDIS_URL=${PERF_REDIS_URL}" \
        "RATE_LIMITING_REDIS_ENABLED=false" "${limits[@]}" \
        "SSRF_ALLOW_LOCALHOST=true" "SSRF_ALLOW_PRIVATE_NETWORKS=true" "OBSERVABILITY_ENABLED=false" \
        "DB_POOL_SIZE=${PERF_DB_POOL_SIZE}" "DB_MAX_OVERFLOW=${PERF_DB_MAX_OVERFLOW}" "HTTPX_MAX_CONNECTIONS=200" \
        "TOKEN_EXPIRY=${PERF_STACK_TOKEN_EXPIRY:-120}" "USE_STATEFUL_SESSIONS=$([[ "${PERF_MCP_SESSIONS:-stateless}" == stateful ]] && echo true || echo false)" \
        "ROOT_ALLOWED_SCHEMES='[\"https\"]'"
      # (https roots: the workload rest adds and removes some; the default allows none)
      # PERF_GATEWAY_ENV_FILE's settings, checked: the last word on any name
      [[ ! -f "${STACK_DIR}/gateway-settings.env" ]] || cat "${STACK_DIR}/gateway-settings.env"
    } >"${env_file}"
  )
}

# stack_database_url DATA_DIR: the gateway's DATABASE_URL for service.database.
stack_database_url() {
  if [[ "${PERF_DB_BACKEND}" == postgresql ]]; then
    local url
    url="$(stack_pg_url "$(stack_pg_name)")"
    printf 'postgresql+psycopg://%s\n' "${url#*://}"
  else
    printf 'sqlite:///%s/mcp.db\n' "$1"
  fi
}

stack_random() {
  tr -dc 'A-Za-z0-9' </dev/urandom | head -c 48
}

# stack_wait_http URL SECONDS WHAT LOG PIDFILE PATTERN: wait until URL answers; exit 3 with the
# end of LOG when the process exits first or URL does not answer in time. For its first two
# seconds the process counts as alive by its PID alone: until the background shell has exec'd
# the command, its command line is still this script's, not PATTERN.
stack_wait_http() {
  local url="$1" seconds="$2" what="$3" log="$4" pidfile="$5" pattern="$6" i
  for ((i = 0; i < seconds * 2; i++)); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${url}" 2>/dev/null)" != "000" ]] && return 0
    if ! stack_pid_alive "${pidfile}" "${pattern}" && { ((i >= 4)) || ! kill -0 "$(<"${pidfile}")" 2>/dev/null; }; then
      stack_abandon "${pidfile}"
      stack_die_with_log "${PERF_EXIT_ENV_NOT_READY}" "${log}" "${what} exited while starting; see ${log}"
    fi
    sleep 0.5
  done
  stack_abandon "${pidfile}"
  stack_die_with_log "${PERF_EXIT_ENV_NOT_READY}" "${log}" "${what} did not answer at ${url} within ${seconds}s; see ${log}"
}

# stack_abandon PIDFILE: a start that failed leaves nothing running: whatever is left of the
# process group started for PIDFILE (it was started with setsid: the group is its own) is
# stopped, and the pidfile removed.
stack_abandon() {
  local pid
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "${pid}" =~ ^[0-9]+$ ]] && perf_stop_group "${pid}" 5
  rm -f "$1"
}

stack_start_gateway() {
  local port="$1" pidfile="${STACK_DIR}/gateway.pid" log="${STACK_LOGS}/gateway.log" venv
  if stack_pid_alive "${pidfile}" mcpgateway; then
    [[ "$(cat "${STACK_DIR}/gateway.database" 2>/dev/null || echo sqlite)" == "${PERF_DB_BACKEND}" ]] ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the running gateway uses $(cat "${STACK_DIR}/gateway.database" 2>/dev/null || echo sqlite), not ${PERF_DB_BACKEND}; take the stack down first (utils/local-stack.sh down)"
    [[ "$(cat "${STACK_DIR}/gateway.key" 2>/dev/null || echo "${GW_KEY}")" == "${GW_KEY}" ]] ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the running gateway is $(cat "${STACK_DIR}/gateway.version" 2>/dev/null), not ${GW_LABEL}; take the stack down first (utils/local-stack.sh down)"
    local running_mode=stateless
    ! grep -qx 'USE_STATEFUL_SESSIONS=true' "${STACK_DIR}/gateway.env" 2>/dev/null || running_mode=stateful
    [[ "${running_mode}" == "${PERF_MCP_SESSIONS:-stateless}" ]] ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the running gateway serves MCP ${running_mode}, not ${PERF_MCP_SESSIONS:-stateless}; take the stack down first (utils/local-stack.sh down)"
    perf_log "gateway already running (pid $(<"${pidfile}")) at ${PERF_BASE_URL}"
    return 0
  fi
  perf_gateway_answers "${PERF_BASE_URL}" &&
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "a gateway the kit did not start already answers at ${PERF_BASE_URL}; benchmark it with GATEWAY_URL=${PERF_BASE_URL}, or stop it first"
  stack_install_gateway
  stack_check_settings
  stack_reset_data
  [[ "${PERF_DB_BACKEND}" != postgresql ]] || stack_pg_create
  stack_write_env
  venv="$(stack_venv)"
  mkdir -p "${STACK_LOGS}"
  perf_log "starting gateway ${GW_LABEL} on 127.0.0.1:${port} (log: ${log})"
  (
    cd "${STACK_DIR}"
    set -a
    # shellcheck disable=SC1091
    source "${STACK_DIR}/gateway.env"
    set +a
    # the gateway calls itself at 127.0.0.1:PORT (its SSE transport's requests go to its own
    # /rpc): without PORT a stack on another port than 4444 would call whatever answers there
    export HOST=127.0.0.1 PORT="${port}"
    exec setsid "${venv}/bin/mcpgateway" --host 127.0.0.1 --port "${port}" >"${log}" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!" >"${pidfile}"
  printf '%s\n' "${GW_LABEL}" >"${STACK_DIR}/gateway.version"
  printf '%s\n' "${GW_KEY}" >"${STACK_DIR}/gateway.key"
  stack_record
  printf '%s\n' "${PERF_DB_BACKEND}" >"${STACK_DIR}/gateway.database"
  printf '%s\n' "${PERF_BASE_URL}" >"${STACK_DIR}/gateway.url"
  stack_wait_http "${PERF_BASE_URL}/health" "${PERF_HEALTH_TIMEOUT}" gateway "${log}" "${pidfile}" mcpgateway
}

# stack_record: gateway.json, what the gateway is - its build and the settings given on top of
# the stack's own (secrets masked) - for run.json (utils/local-stack.sh build).
stack_record() {
  local args=()
  [[ -z "${PERF_GATEWAY_ENV_FILE:-}" ]] || args+=(--settings "${PERF_GATEWAY_ENV_FILE}")
  perf_py gateway record "${STACK_DIR}/gateway.json" "${STACK_SPEC}" "${args[@]}"
}

# stack_launch_server INDEX: start MCP server INDEX (bench-time-INDEX) without waiting for it
# (stack_wait_server does), so that several servers and the gateway start at the same time.
stack_launch_server() {
  local index="$1" port name pidfile log
  port=$((STACK_SERVER_BASE_PORT + index))
  name="bench-time-${index}"
  pidfile="${STACK_DIR}/server-${index}.pid"
  log="${STACK_LOGS}/server-${index}.log"
  stack_pid_alive "${pidfile}" bench_server.py && return 0
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${port}/mcp" 2>/dev/null)" == "000" ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "port ${port} (MCP server ${name}) is taken by a process the kit did not start; free it"
  STACK_LAUNCHED+=("${pidfile}")
  (exec setsid "${PERF_VENV}/bin/python" "${PERF_KIT_ROOT}/utils/servers/bench_server.py" \
    --port "${port}" --name "${name}" --delay-ms "${PERF_SERVER_DELAY_MS:-0}" >"${log}" 2>&1 </dev/null) &
  printf '%s\n' "$!" >"${pidfile}"
}

# stack_wait_server INDEX: until MCP server INDEX answers (exit 3 with its log if it does not).
stack_wait_server() {
  local index="$1"
  stack_wait_http "http://127.0.0.1:$((STACK_SERVER_BASE_PORT + index))/mcp" 30 "MCP server bench-time-${index}" \
    "${STACK_LOGS}/server-${index}.log" "${STACK_DIR}/server-${index}.pid" bench_server.py
}

# stack_register COUNT: register bench-time-1..COUNT with the gateway, skipping known names.
stack_register() {
  local count="$1" token known index name body status
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${PERF_BASE_URL}" --print)"
  body="$(mktemp)"
  perf_http_get "${PERF_BASE_URL}/gateways" "${body}" "${token}" >/dev/null
  known="$(perf_py services names "${body}")"
  for ((index = 1; index <= count; index++)); do
    name="bench-time-${index}"
    grep -qx -- "${name}" <<<"${known}" && continue
    status="$(perf_curl "${token}" -sS -o "${body}" -w '%{http_code}' --max-time 60 \
      -H 'Content-Type: application/json' -X POST "${PERF_BASE_URL}/gateways" \
      -d "{\"name\":\"${name}\",\"url\":\"http://127.0.0.1:$((STACK_SERVER_BASE_PORT + index))/mcp\",\"transport\":\"STREAMABLEHTTP\"}")" || true
    if [[ "${status}" != 200 && "${status}" != 201 ]]; then
      perf_error "registering ${name} failed with HTTP ${status}: $(head -c 300 "${body}")"
      rm -f "${body}"
      exit "${PERF_EXIT_ENV_NOT_READY}"
    fi
    perf_log "registered MCP server ${name}"
  done
  stack_virtual_server "${token}" "${body}"
  rm -f "${body}"
}

# stack_virtual_server TOKEN SCRATCH: one virtual server (bench-virtual) bundling every tool,
# resource and prompt, so that /servers has content and /servers/{id}/mcp serves all three;
# when it is there already (a stack given more servers), it is made to bundle them all again.
stack_virtual_server() {
  local token="$1" body="$2" kind status existing method=POST url="${PERF_BASE_URL}/servers" what=created
  local -A ids=()
  local except=()
  perf_http_get "${PERF_BASE_URL}/servers" "${body}" "${token}" >/dev/null
  existing="$(perf_py services ids "${body}" --name bench-virtual)"
  # a federated peer's tools are not the virtual server's: its workload stays the same
  if [[ -n "${PERF_MCP_PEER:-}" ]]; then
    perf_http_get "${PERF_BASE_URL}/gateways" "${body}" "${token}" >/dev/null
    except=(--except-gateways "$(perf_py services ids "${body}" --name "${PERF_MCP_PEER}")")
  fi
  for kind in tools resources prompts; do
    ids[${kind}]="[]"
    [[ " ${PERF_STACK_VIRTUAL_KINDS:-tools resources prompts} " == *" ${kind} "* ]] || continue
    perf_http_get "${PERF_BASE_URL}/${kind}?limit=0" "${body}" "${token}" >/dev/null
    ids[${kind}]="$(perf_py services ids "${body}" "${except[@]}")"
  done
  local fields="\"associated_tools\":${ids[tools]},\"associated_resources\":${ids[resources]},\"associated_prompts\":${ids[prompts]}"
  local data="{\"server\":{\"name\":\"bench-virtual\",\"description\":\"MCP Gateway Performance Kit\",${fields}}}"
  if [[ "${existing}" =~ ^\[\"([^\"]+)\" ]]; then
    method=PUT url="${PERF_BASE_URL}/servers/${BASH_REMATCH[1]}" data="{${fields}}" what=updated
  fi
  status="$(perf_curl "${token}" -sS -o "${body}" -w '%{http_code}' --max-time 60 \
    -H 'Content-Type: application/json' -X "${method}" "${url}" -d "${data}")" || true
  [[ "${status}" == 200 || "${status}" == 201 ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the virtual server bench-virtual could not be ${what}: HTTP ${status}: $(head -c 300 "${body}")"
  perf_log "${what} virtual server bench-virtual"
}

# stack_peer_up SERVERS PROFILE: the federated peer PERF_MCP_PEER names, started as a stack of
# its own on this stack's port + 1 (registering the same MCP servers; its tokens last a day, the
# gateway's longest), and its virtual server - the MCP servers' tools only: resources of the
# same URI from two gateways are ambiguous to /rpc - registered with this gateway under that
# name, with a bearer token of the peer's; a registration there already gets a new token (`up`
# again renews the link).
stack_peer_up() {
  local servers="$1" profile="$2" port peer_url token peer_token body data status existing peer_id
  local method=POST url="${PERF_BASE_URL}/gateways" what=registered
  [[ -n "${PERF_MCP_PEER:-}" ]] || return 0
  port="$(stack_port)"
  peer_url="http://127.0.0.1:$((port + 1))"
  PERF_STACK_NAME="${STACK_NAME}-peer" PERF_BASE_URL="${peer_url}" PERF_STACK_SHARED_SERVERS=1 \
    PERF_MCP_PEER="" PERF_STACK_TOKEN_EXPIRY=1440 PERF_STACK_VIRTUAL_KINDS=tools \
    "${PERF_KIT_ROOT}/utils/local-stack.sh" up --servers "${servers}" --profile "${profile}"
  printf '%s %s\n' "${PERF_MCP_PEER}" "${peer_url}" >"${STACK_DIR}/peer"
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${PERF_BASE_URL}" --print)"
  peer_token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${peer_url}" --print)"
  body="$(mktemp)"
  perf_http_get "${peer_url}/servers" "${body}" "${peer_token}" >/dev/null
  [[ "$(perf_py services ids "${body}" --name bench-virtual)" =~ ^\[\"([^\"]+)\" ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the peer gateway ${peer_url} has no virtual server bench-virtual"
  peer_id="${BASH_REMATCH[1]}"
  perf_http_get "${PERF_BASE_URL}/gateways" "${body}" "${token}" >/dev/null
  existing="$(perf_py services ids "${body}" --name "${PERF_MCP_PEER}")"
  if [[ "${existing}" =~ ^\[\"([^\"]+)\" ]]; then
    method=PUT url="${PERF_BASE_URL}/gateways/${BASH_REMATCH[1]}" what="given a new token for"
  fi
  # the request holds the peer's token: a file of its owner's, not a command line
  data="$(umask 077 && mktemp)"
  PERF_PEER_TOKEN="${peer_token}" jq -n --arg name "${PERF_MCP_PEER}" --arg url "${peer_url}/servers/${peer_id}/mcp" \
    '{name: $name, url: $url, transport: "STREAMABLEHTTP", auth_type: "bearer", auth_token: $ENV.PERF_PEER_TOKEN}' >"${data}"
  status="$(perf_curl "${token}" -sS -o "${body}" -w '%{http_code}' --max-time 60 \
    -H 'Content-Type: application/json' -X "${method}" "${url}" --data-binary "@${data}")" || true
  rm -f "${data}"
  if [[ "${status}" != 200 && "${status}" != 201 ]]; then
    perf_error "the peer gateway ${PERF_MCP_PEER} (${peer_url}) could not be ${what}: HTTP ${status}: $(head -c 300 "${body}")"
    rm -f "${body}"
    exit "${PERF_EXIT_ENV_NOT_READY}"
  fi
  rm -f "${body}"
  perf_log "${what} peer gateway ${PERF_MCP_PEER} (${peer_url}/servers/${peer_id}/mcp): its tools are offered here as ${PERF_MCP_PEER}-..."
}

# stack_peer_down: the peer `up` started for this stack, stopped.
stack_peer_down() {
  [[ -f "${STACK_DIR}/peer" || -f "${STACK_DIR}-peer/gateway.pid" ]] || return 0
  PERF_STACK_NAME="${STACK_NAME}-peer" PERF_MCP_PEER="" "${PERF_KIT_ROOT}/utils/local-stack.sh" down
  rm -f "${STACK_DIR}/peer"
}

# stack_up_failed: on a failed `up` (EXIT trap until every process answers), stop the MCP
# servers this call started - never ones that were running before it.
stack_up_failed() {
  local rc=$? pidfile stops=()
  ((rc != 0)) || return 0
  for pidfile in "${STACK_LAUNCHED[@]}"; do
    stops+=("${pidfile}" bench_server.py "MCP server $(basename "${pidfile}" .pid)")
  done
  ((${#stops[@]} == 0)) || stack_stop_pidfiles "${stops[@]}"
  return "${rc}"
}

stack_up() {
  local servers="$1" port index
  perf_require_cmd curl "install it: apt-get install -y curl"
  port="$(stack_port)"
  mkdir -p "${STACK_DIR}" "${STACK_LOGS}"
  # the MCP servers start while the gateway boots (each takes 1-2 s; one after the other that
  # added up), and are waited for once it answers; if the gateway does not come up, the servers
  # this call started are stopped again
  STACK_LAUNCHED=()
  trap stack_up_failed EXIT
  if [[ "${PERF_STACK_SHARED_SERVERS:-0}" != 1 ]]; then
    for ((index = 1; index <= servers; index++)); do
      stack_launch_server "${index}"
    done
  fi
  stack_start_gateway "${port}"
  for ((index = 1; index <= servers; index++)); do
    if [[ "${PERF_STACK_SHARED_SERVERS:-0}" == 1 ]]; then
      # another stack started them (version A/B: both gateways call the same MCP servers)
      [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$((STACK_SERVER_BASE_PORT + index))/mcp" 2>/dev/null)" != 000 ]] ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "PERF_STACK_SHARED_SERVERS=1 but no MCP server answers on port $((STACK_SERVER_BASE_PORT + index))"
    else
      stack_wait_server "${index}"
    fi
  done
  trap - EXIT
  stack_register "${servers}"
  stack_populate "${2:-light}"
  stack_peer_up "${servers}" "${2:-light}"
  perf_log "local stack up: gateway ${PERF_BASE_URL} ($(cat "${STACK_DIR}/gateway.version")), ${servers} MCP server(s)$([[ -z "${PERF_MCP_PEER:-}" ]] || echo ", peer gateway ${PERF_MCP_PEER}"); logs in ${STACK_LOGS}"
}

# stack_populate PROFILE: service.dataset (PERF_DATASET) written into the gateway's database by
# utils/populate.sh, unless the database holds it already (a running or kept stack);
# gateway.dataset records what it holds. A database that holds another dataset is exit 3.
stack_populate() {
  local held
  [[ -n "${PERF_DATASET:-}" ]] || return 0
  held="$(cat "${STACK_DIR}/gateway.dataset" 2>/dev/null || true)"
  [[ "${held}" != "${PERF_DATASET}" ]] || return 0
  [[ -z "${held}" ]] ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the local stack's database holds dataset '${held}', not '${PERF_DATASET}'; take the stack down first (utils/local-stack.sh down)"
  perf_log "writing dataset ${PERF_DATASET} into the gateway's database (utils/populate.sh)"
  PERF_STACK_NAME="${STACK_NAME}" "${PERF_KIT_ROOT}/utils/populate.sh" --dataset "${PERF_DATASET}" \
    --profile "$1" --quiet >"${STACK_LOGS}/populate.log" ||
    perf_die "$?" "dataset ${PERF_DATASET} could not be written (log: ${STACK_LOGS}/populate.log)"
}

# stack_dataset URL: the dataset the running stack's database holds (nothing: none, or the stack
# does not serve URL).
stack_dataset() {
  local url="${1%/}" served
  stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || return 0
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  [[ -z "${url}" || "${served%/}" == "${url}" ]] || return 0
  cat "${STACK_DIR}/gateway.dataset" 2>/dev/null || true
}

# stack_stop_pidfiles PIDFILE PATTERN WHAT [PIDFILE PATTERN WHAT]...: stop the processes the
# pid files name (each checked to still be what PATTERN says), all at once, and remove the files.
stack_stop_pidfiles() {
  local pids=() files=()
  while (($# >= 3)); do
    if [[ -f "$1" ]]; then
      files+=("$1")
      if stack_pid_alive "$1" "$2"; then
        perf_log "stopping $3 (pid $(<"$1"))"
        pids+=("$(<"$1")")
      fi
    fi
    shift 3
  done
  ((${#pids[@]} == 0)) || perf_stop_groups 10 "${pids[@]}"
  ((${#files[@]} == 0)) || rm -f "${files[@]}"
}

stack_down() {
  local pidfile stops=()
  stack_peer_down
  for pidfile in "${STACK_DIR}"/server-*.pid; do
    [[ -e "${pidfile}" ]] || continue
    stops+=("${pidfile}" bench_server.py "MCP server $(basename "${pidfile}" .pid)")
  done
  stack_stop_pidfiles "${STACK_DIR}/gateway.pid" mcpgateway gateway "${stops[@]}"
  if [[ -f "${STACK_DIR}/postgres.db" ]]; then
    perf_load_settings "${PERF_PROFILE:-light}"
    if [[ "${PERF_DB_STATE}" == keep ]]; then
      perf_log "keeping PostgreSQL database $(<"${STACK_DIR}/postgres.db") for the next run (service.db_state keep; PERF_DB_STATE=fresh $0 down drops it)"
    else
      stack_pg_drop
    fi
  fi
}

# stack_database URL: `STATE DATABASE_URL` of the running stack when it serves URL (nothing
# otherwise): the state its database started from (fresh or kept) and the gateway's
# DATABASE_URL, so a run can count the rows of the gateway's tables.
stack_database() {
  local url="${1%/}" served
  stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || return 0
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  [[ -z "${url}" || "${served%/}" == "${url}" ]] || return 0
  printf '%s %s\n' "$(cat "${STACK_DIR}/gateway.db_state" 2>/dev/null || echo unknown)" \
    "$(sed -n 's/^DATABASE_URL=//p' "${STACK_DIR}/gateway.env")"
}

stack_status() {
  local pidfile rc=0 name
  if stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway; then
    printf 'gateway     running  pid %s  %s  version %s\n' "$(<"${STACK_DIR}/gateway.pid")" \
      "$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || echo "${PERF_BASE_URL}")" "$(cat "${STACK_DIR}/gateway.version" 2>/dev/null || echo "?")"
  else
    printf 'gateway     stopped\n'
    rc="${PERF_EXIT_ENV_NOT_READY}"
  fi
  for pidfile in "${STACK_DIR}"/server-*.pid; do
    [[ -e "${pidfile}" ]] || continue
    name="$(basename "${pidfile}" .pid)"
    if stack_pid_alive "${pidfile}" bench_server.py; then
      printf '%-11s running  pid %s\n' "${name}" "$(<"${pidfile}")"
    else
      printf '%-11s stopped\n' "${name}"
    fi
  done
  printf 'logs        %s\n' "${STACK_LOGS}"
  return "${rc}"
}

# stack_pids [URL]: a `gateway PID` line and a `server PID` line per MCP server that runs, for
# perfkit monitor; nothing when the gateway is down or does not serve URL.
stack_pids() {
  local url="${1%/}" pidfile served
  stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || return 0
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  [[ -z "${url}" || "${served%/}" == "${url}" ]] || return 0
  printf 'gateway %s\n' "$(<"${STACK_DIR}/gateway.pid")"
  for pidfile in "${STACK_DIR}"/server-*.pid; do
    if stack_pid_alive "${pidfile}" bench_server.py; then
      printf 'server %s\n' "$(<"${pidfile}")"
    fi
  done
  if [[ -f "${STACK_DIR}/postgres.db" ]]; then
    perf_load_settings "${PERF_PROFILE:-light}"
    printf 'postgres %s\n' "$(stack_pg_url "$(<"${STACK_DIR}/postgres.db")")"
  fi
}

# stack_servers [URL]: `NAME URL` of every benchmark MCP server the stack runs (none when the
# gateway is down or does not serve URL).
stack_servers() {
  local url="${1%/}" pidfile served index
  stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || return 0
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  [[ -z "${url}" || "${served%/}" == "${url}" ]] || return 0
  for pidfile in "${STACK_DIR}"/server-*.pid; do
    stack_pid_alive "${pidfile}" bench_server.py || continue
    index="${pidfile##*/server-}"
    index="${index%.pid}"
    printf 'bench-time-%s http://127.0.0.1:%s\n' "${index}" "$((STACK_SERVER_BASE_PORT + index))"
  done
}

# stack_build [URL]: the path of the running gateway's gateway.json (its build and settings),
# when the gateway runs and serves URL; nothing otherwise.
stack_build() {
  local url="${1%/}" served
  stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || return 0
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  [[ -z "${url}" || "${served%/}" == "${url}" ]] || return 0
  [[ ! -f "${STACK_DIR}/gateway.json" ]] || printf '%s\n' "${STACK_DIR}/gateway.json"
}

# stack_python URL ARGS...: ARGS run by the Python of the running gateway's venv, with the
# gateway's own settings (its database, its secrets: read from the stack's 0600 env file, never
# a command line) and the kit's utils/ on the path - what works on the gateway's database with
# the gateway's own models (perfkit.dataset.writer). Exit 3 when the stack does not serve URL.
stack_python() {
  local url="${1%/}" served key venv
  shift
  served="$(cat "${STACK_DIR}/gateway.url" 2>/dev/null || true)"
  if ! stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway || [[ -n "${url}" && "${served%/}" != "${url}" ]]; then
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "the kit's local stack does not run${url:+ at ${url}}: its database is reached through it; start it with 'make up'"
  fi
  key="$(<"${STACK_DIR}/gateway.key")"
  venv="${PERF_STATE_DIR}/gateways/${key}/venv"
  [[ -x "${venv}/bin/python" ]] || perf_die "${PERF_EXIT_ENV_NOT_READY}" "the running gateway's venv ${venv} is gone; restart the stack (make down up)"
  (
    cd "${STACK_DIR}"
    set -a
    # shellcheck disable=SC1091
    source "${STACK_DIR}/gateway.env"
    set +a
    export PYTHONPATH="${PERF_KIT_ROOT}/utils${PYTHONPATH:+:${PYTHONPATH}}"
    exec "${venv}/bin/python" "$@"
  )
}

# stack_prepare PROFILE: the profile checked, the kit set up (as `make setup` would), the
# settings loaded.
stack_prepare() {
  perf_check_profile "$1"
  perf_ensure_setup
  perf_load_settings "$1"
}

stack_main() {
  local action="${1:-}" servers="" profile="${PERF_PROFILE:-light}" url=""
  [[ -n "${action}" ]] || perf_die "${PERF_EXIT_USAGE}" "missing action: up, install, venv, down, status, running, pids, servers, database, dataset, build or python (see --help)"
  shift
  while (($#)); do
    case "$1" in
      --servers) servers="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) profile="$(perf_flag_value "$@")"; shift 2 ;;
      --url) url="$(perf_flag_value "$@")"; shift 2 ;;
      --)
        shift
        break
        ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  case "${action}" in
    up)
      stack_prepare "${profile}"
      stack_describe
      stack_up "${servers:-${PERF_SERVERS_COUNT}}" "${profile}"
      ;;
    install)
      stack_prepare "${profile}"
      stack_describe
      stack_install_gateway
      ;;
    venv)
      stack_prepare "${profile}"
      stack_describe
      [[ -x "${GW_VENV}/bin/python" ]] ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "${GW_LABEL} is not installed yet: utils/local-stack.sh install"
      printf '%s\n' "${GW_VENV}"
      ;;
    down) stack_down ;;
    status)
      stack_prepare "${profile}"
      stack_status
      ;;
    running) stack_pid_alive "${STACK_DIR}/gateway.pid" mcpgateway ;;
    pids) stack_pids "${url}" ;;
    servers) stack_servers "${url}" ;;
    database) stack_database "${url}" ;;
    build) stack_build "${url}" ;;
    python) stack_python "${url}" "$@" ;;
    dataset) stack_dataset "${url}" ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
    *) perf_die "${PERF_EXIT_USAGE}" "unknown action '${action}' (have: up, install, venv, down, status, running, pids, servers, database, dataset, build, python)" ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  stack_main "$@"
fi
