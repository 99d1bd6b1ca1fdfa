#!/usr/bin/env bash
# Several users at once: users in teams made on demand through the gateway's admin API
# (perfkit workflows-people), driven by Locust (perfkit.workflows.drive, its own process),
# removed again afterwards.
#
#   utils/workflows.sh run [--users N] [--duration S] [--warmup S] [--workload NAME]
#                          [--teams T] [--prefix P] [--output FILE] [--no-cleanup] [--url URL]
#                          [--profile NAME] [--workers N] [--spawn-rate R]
#                          [--keep-samples FILE] [--abort-on-slo] [--verbose]
#                          [--remote-workers M --master-port P [--master-bind ADDR]]
#   utils/workflows.sh worker --master-host HOST:PORT
#   utils/workflows.sh people --users N [--teams T] [--prefix P] [--url URL]
#   utils/workflows.sh clean [--prefix P] [--dry-run] [--url URL]
#
#   run          N users (default 3) made, then N Locust users, each one of them with its own
#                token, back to back for S seconds (default 30) after the warm-up (5 s, sent
#                and left out); per step and per user: requests, failures, req/s, p50/p95/p99
#                from every request's exact time; the JSON in results/workflows_<stamp>/
#                (--output FILE elsewhere); the users, and the servers, prompts and tokens
#                the workflows made, removed at the end, also after Ctrl+C (--no-cleanup keeps
#                them: clean removes them later). Workloads (perfkit/workflows/locustfile.py):
#                baseline (each user's own lists, a tool, a tool call), share (a team server
#                found and called by a teammate, unseen by another team), collaborate (a team
#                prompt read and edited by all its members at once: kept, lost and conflicting
#                edits counted, a plain member's edit refused), token (made, used, revoked,
#                refused), agent (an MCP session: initialize, tools/list, 3 tool calls,
#                close), mixed (the default: 50:25:15:5:5 of those), rest (the REST API
#                operation by operation: tools, resources, prompts, servers, gateways, A2A
#                agents, teams, tokens, RBAC, users, export/import, roots, what an operator
#                reads, compliance, protocol - perfkit/workflows/rest.py; the admin's steps
#                with the admin's token, passed in the driver's environment); sharing and
#                collaboration are other names of share and collaborate
#   people       T teams (default 2) and N users <P>_user_<n>@perfkit.example.com, each in a
#                team (every third in two), each logged in once: their tokens in
#                .state/workflows/<P>.tokens.json (mode 0600, never printed); what was made in
#                .state/workflows/<P>.ledger.jsonl, written as it is made
#   clean        removes what the ledger of prefix P records (tokens, servers, prompts,
#                memberships, teams, users) and what sits in its teams, or - with no
#                ledger - the users <P>_user_*,
#                teams <P>_team_*, servers <P>-share-* and prompts <P>-collab-* earlier runs
#                left;
#                a user who was in a team is deactivated (the gateway cannot delete it)
#   --prefix P   default loadtest; --dry-run lists what clean would remove
#   --workers N  Locust's master and N worker processes on this machine (default 0: the users
#                in one process; one process is one core at most)
#   --users, --duration, --warmup, --spawn-rate (users started a second; 0: all at once),
#   --workload   default: the profile's (config.yaml workflows:, profiles/*.env PERF_WF_*)
#   --verbose    each failed request or check said as it happens
#   --abort-on-slo  stop the run at the first breach of the profile's SLOs (judged each
#                second once 5 s - or a third of the run - are measured; exit 1)
#   --keep-samples FILE  every request's sample as JSON too (the scenario workflows cuts it
#                into rounds); --user-prefix is --prefix
#   --remote-workers M  M more workers, started on other machines by `worker
#                --master-host <this machine>:P`: the run listens on --master-port P
#                (--master-bind, default 0.0.0.0) and waits up to 300 s for them
#   worker       a worker for a run on another machine: the users, their tokens and the
#                target come from that run's master, what it measured goes back to it
#   --profile    the settings' profile (default light): its SLOs - config.yaml `slos:` entries
#                named workflows/<workflow>, workflows/<workflow>.<step> or workflows/all
#                (p95_ms, p99_ms, min_rps, max_error_rate) - are checked on the run; a
#                breach is exit 1
#   --url URL    the gateway; without it, the one answering at service.base_url, or - as make
#                test - the local stack brought up (run takes it down again at its end);
#                logs in as the configured admin
#
# Exit: 0 done, 1 an SLO breached, 2 usage, 3 the gateway does not answer, the token is not
# an admin's, or the gateway refused (its message and the fix are printed), 4 something in
# the run failed (a request, or a check such as share's visibility), 130 interrupted (what
# was made is removed again).
set -euo pipefail

PERF_PROG="workflows.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

wf_usage() {
  sed -n '6,/^# Exit:/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

wf_parse_args() {
  WF_ACTION="${1:-}"
  [[ -n "${WF_ACTION}" ]] || { wf_usage >&2; exit "${PERF_EXIT_USAGE}"; }
  shift
  WF_USERS="" WF_TEAMS=2 WF_PREFIX=loadtest WF_DRY_RUN=0 WF_URL="" WF_DURATION="" WF_WARMUP=""
  WF_WORKLOAD="" WF_OUTPUT="" WF_CLEANUP=1 WF_PROFILE=light WF_WORKERS=0 WF_SPAWN_RATE=""
  WF_SAMPLES="" WF_ABORT=0 WF_VERBOSE=0 WF_REMOTE=0 WF_MASTER_PORT="" WF_MASTER_BIND="" WF_MASTER_HOST=""
  while (($#)); do
    case "$1" in
      --users | --teams | --prefix | --user-prefix | --url | --duration | --warmup | --workload | --output | \
        --profile | --workers | --spawn-rate | --keep-samples | --remote-workers | --master-port | \
        --master-bind | --master-host)
        (($# > 1)) || perf_die "${PERF_EXIT_USAGE}" "option $1 needs a value"
        case "$1" in
          --users) WF_USERS="$2" ;;
          --teams) WF_TEAMS="$2" ;;
          --prefix | --user-prefix) WF_PREFIX="$2" ;;
          --spawn-rate) WF_SPAWN_RATE="$2" ;;
          --keep-samples) WF_SAMPLES="$2" ;;
          --url) WF_URL="$2" ;;
          --duration) WF_DURATION="$2" ;;
          --warmup) WF_WARMUP="$2" ;;
          --workload) WF_WORKLOAD="$2" ;;
          --output) WF_OUTPUT="$2" ;;
          --profile) WF_PROFILE="$2" ;;
          --workers) WF_WORKERS="$2" ;;
          --remote-workers) WF_REMOTE="$2" ;;
          --master-port) WF_MASTER_PORT="$2" ;;
          --master-bind) WF_MASTER_BIND="$2" ;;
          --master-host) WF_MASTER_HOST="$2" ;;
        esac
        shift 2 ;;
      --dry-run) WF_DRY_RUN=1; shift ;;
      --no-cleanup) WF_CLEANUP=0; shift ;;
      --abort-on-slo) WF_ABORT=1; shift ;;
      --verbose) WF_VERBOSE=1; shift ;;
      --cleanup) WF_CLEANUP=1; shift ;;
      -h | --help) wf_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  case "${WF_ACTION}" in
    run | worker) ;;
    people) [[ -n "${WF_USERS}" ]] || perf_die "${PERF_EXIT_USAGE}" "people needs --users N" ;;
    clean) ;;
    -h | --help) wf_usage; exit 0 ;;
    *) perf_die "${PERF_EXIT_USAGE}" "unknown action '${WF_ACTION}': run, worker, people or clean (see --help)" ;;
  esac
  [[ "${WF_PREFIX}" =~ ^[A-Za-z0-9-]{1,32}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--prefix '${WF_PREFIX}': letters, digits and '-' only, at most 32 characters"
  [[ -z "${WF_USERS}" || "${WF_USERS}" =~ ^[1-9][0-9]{0,2}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--users '${WF_USERS}': a whole number from 1 to 999"
  [[ "${WF_WORKERS}" =~ ^([0-9]|1[0-6])$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--workers '${WF_WORKERS}': 0 (the users in one process) to 16 worker processes"
  [[ "${WF_REMOTE}" =~ ^([0-9]|1[0-6])$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--remote-workers '${WF_REMOTE}': 0 to 16 workers started on other machines"
  [[ -z "${WF_MASTER_PORT}" || "${WF_MASTER_PORT}" =~ ^[1-9][0-9]{0,4}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--master-port '${WF_MASTER_PORT}': a port number"
  ((WF_REMOTE == 0)) || [[ -n "${WF_MASTER_PORT}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--remote-workers needs --master-port P: the port their machines connect to (open it between them)"
  [[ "${WF_ACTION}" != worker || "${WF_MASTER_HOST}" =~ ^[^:[:space:]]+:[1-9][0-9]{0,4}$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "worker needs --master-host HOST:PORT: the machine running utils/workflows.sh run --remote-workers N --master-port PORT"
  [[ "${WF_DURATION}" =~ ^([0-9]+([.][0-9]+)?)?$ && "${WF_WARMUP}" =~ ^([0-9]+([.][0-9]+)?)?$ &&
    "${WF_SPAWN_RATE}" =~ ^([0-9]+([.][0-9]+)?)?$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--duration '${WF_DURATION}', --warmup '${WF_WARMUP}', --spawn-rate '${WF_SPAWN_RATE}': seconds (users a second), e.g. 30 or 2.5"
  case "${WF_WORKLOAD}" in
    sharing) WF_WORKLOAD=share ;;
    collaboration) WF_WORKLOAD=collaborate ;;
  esac
  case "${WF_WORKLOAD}" in
    "" | baseline | share | collaborate | token | agent | mixed | rest) ;;
    *) perf_die "${PERF_EXIT_USAGE}" "--workload '${WF_WORKLOAD}': baseline, share, collaborate, token, agent, mixed or rest" ;;
  esac
}

# wf_clean TOKEN: remove what this prefix's ledger records (or its leftovers); the ledger and
# tokens go with a clean that removed everything.
wf_clean() {
  local rc=0 which=(--prefix "${WF_PREFIX}")
  [[ ! -s "${WF_LEDGER}" ]] || which=(--ledger "${WF_LEDGER}")
  ((!WF_DRY_RUN)) || which+=(--dry-run)
  PERFKIT_TOKEN="$1" perf_py workflows-people clean --url "${WF_URL}" "${which[@]}" || rc=$?
  if ((rc == 0 && !WF_DRY_RUN)); then
    rm -f "${WF_LEDGER}" "${WF_TOKENS}"
  fi
  return "${rc}"
}

wf_make() {
  PERFKIT_TOKEN="$1" perf_py workflows-people make --url "${WF_URL}" --users "${WF_USERS}" \
    --teams "${WF_TEAMS}" --prefix "${WF_PREFIX}" --ledger "${WF_LEDGER}" --tokens "${WF_TOKENS}"
}

# wf_end: what ends a run, however it ends: its users removed (unless --no-cleanup), the local
# stack it brought up taken down.
wf_end() {
  ((!WF_CLEANUP)) || wf_clean "${WF_CLEAN_TOKEN}" >&2 || true
  perf_stop_started_stack
}

# wf_run TOKEN: make the users, drive them, remove them (an EXIT trap removes them whatever
# ends the run).
wf_run() {
  local token="$1" out rc=0
  if [[ -n "${WF_OUTPUT}" ]]; then
    out="${WF_OUTPUT}"
    mkdir -p "$(dirname "${out}")"
  else
    out="$(perf_make_fresh_dir "${PERF_RESULTS_DIR}/workflows_$(date -u +%Y%m%d-%H%M%S)")/workflows.json"
  fi
  [[ ! -s "${WF_LEDGER}" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "${WF_LEDGER} records users of an earlier run still there: utils/workflows.sh clean --prefix ${WF_PREFIX} first"
  WF_CLEAN_TOKEN="${token}"
  trap 'wf_end' EXIT
  wf_make "${token}" >&2
  perf_log "${WF_WORKLOAD}: ${WF_USERS} users for ${WF_DURATION} s after ${WF_WARMUP} s of warm-up"
  local name url servers=() extra=() remote=()
  ((!WF_ABORT)) || extra=(--abort-on-slo)
  ((!WF_VERBOSE)) || extra+=(--verbose)
  ((WF_REMOTE == 0)) || remote=(--remote-workers "${WF_REMOTE}" --master-port "${WF_MASTER_PORT}"
    --master-bind "${WF_MASTER_BIND:-0.0.0.0}" --workers-wait 300)
  while read -r name url; do
    [[ -z "${name}" ]] || servers+=(--server "${url}")
  done < <("${PERF_KIT_ROOT}/utils/local-stack.sh" servers --url "${WF_URL}" 2>/dev/null || true)
  # only the workload rest works admin operations: only it gets the admin's token (in its
  # environment, never on a command line)
  local admin=""
  [[ "${WF_WORKLOAD}" != rest ]] || admin="${token}"
  PERFKIT_TOKEN="${admin}" perf_waited env "PYTHONPATH=${PERF_KIT_ROOT}/utils" "${PERF_VENV}/bin/python" -m perfkit.workflows.drive \
    --url "${WF_URL}" --people "${WF_TOKENS}" --users "${WF_USERS}" --duration "${WF_DURATION}" \
    --warmup "${WF_WARMUP}" --workload "${WF_WORKLOAD}" --out "${out}" \
    --ledger "${WF_LEDGER}" --prefix "${WF_PREFIX}" --protocol-version "${PERF_MCP_PROTOCOL_VERSION}" \
    --workers "${WF_WORKERS}" --spawn-rate "${WF_SPAWN_RATE}" "${servers[@]}" "${remote[@]}" \
    ${WF_SAMPLES:+--keep-samples "${WF_SAMPLES}"} --profile "${WF_PROFILE}" \
    "${extra[@]}" || rc=$?
  if [[ -f "${out}" ]] && ((rc == 0 || rc == 1 || rc == PERF_EXIT_BENCHMARK_FAILED)); then
    local slo_rc=0
    perf_py workflows-slo "${out}" --profile "${WF_PROFILE}" || slo_rc=$?
    ((slo_rc != 1 || rc != 0)) || rc=1
    ((slo_rc <= 1)) || rc="${slo_rc}"
  fi
  [[ ! -f "${out}" ]] || perf_log "results: ${out}"
  ((WF_CLEANUP)) || perf_log "users kept (--no-cleanup): utils/workflows.sh clean --prefix ${WF_PREFIX} removes them"
  return "${rc}"
}

wf_main() {
  local token
  wf_parse_args "$@"
  perf_ensure_setup
  perf_load_settings "${WF_PROFILE}"
  # what no flag gave, the profile's settings give (config.yaml workflows:, profiles/*.env)
  WF_USERS="${WF_USERS:-${PERF_WF_USERS}}" WF_DURATION="${WF_DURATION:-${PERF_WF_DURATION}}"
  WF_WARMUP="${WF_WARMUP:-${PERF_WF_WARMUP}}" WF_SPAWN_RATE="${WF_SPAWN_RATE:-${PERF_WF_SPAWN_RATE}}"
  WF_WORKLOAD="${WF_WORKLOAD:-${PERF_WF_WORKLOAD}}"
  if [[ "${WF_ACTION}" == worker ]]; then
    # users, tokens and the target all come from the master; what this process measured goes
    # back to it
    perf_log "a worker of ${WF_MASTER_HOST} (waiting up to 300 s for it); Ctrl+C leaves its run"
    exec env "PYTHONPATH=${PERF_KIT_ROOT}/utils" "${PERF_VENV}/bin/python" -m perfkit.workflows.drive \
      --worker-of "${WF_MASTER_HOST}" --workers-wait 300
  fi
  if [[ "${WF_ACTION}" == clean ]]; then
    if [[ -n "${WF_URL}" ]]; then
      perf_gateway_answers "${WF_URL}" ||
        perf_die "${PERF_EXIT_ENV_NOT_READY}" "no gateway answers at ${WF_URL}; start it or fix --url"
    else
      WF_URL="${PERF_BASE_URL%/}"
      if ! perf_gateway_answers "${WF_URL}"; then
        perf_log "no gateway answers at ${WF_URL}: nothing to remove there (--url names another)"
        return 0
      fi
    fi
  else
    # as make test: the gateway named by --url, else the one answering at the base URL, else
    # the local stack brought up (a run takes it down again at its end)
    perf_resolve_target "${WF_URL}" "${WF_PROFILE}" "${PERF_SERVERS_COUNT:-1}"
    WF_URL="${PERF_TARGET_URL}"
  fi
  token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${WF_URL}" --print --no-verify)" ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "could not log in at ${WF_URL} as the admin (above)"
  mkdir -p "${PERF_STATE_DIR}/workflows"
  WF_LEDGER="${PERF_STATE_DIR}/workflows/${WF_PREFIX}.ledger.jsonl"
  WF_TOKENS="${PERF_STATE_DIR}/workflows/${WF_PREFIX}.tokens.json"
  trap 'perf_stop_waited; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  case "${WF_ACTION}" in
    run) wf_run "${token}" ;;
    people)
      wf_make "${token}"
      perf_log "tokens: ${WF_TOKENS} (readable by you only); remove them all: utils/workflows.sh clean --prefix ${WF_PREFIX}"
      ((!PERF_STARTED_STACK)) || perf_log "the local stack it brought up stays up with the users (make down takes it down, and them)" ;;
    clean) wf_clean "${token}" ;;
  esac
}

wf_main "$@"
