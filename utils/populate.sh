#!/usr/bin/env bash
# A populated gateway: writes a dataset (datasets/<NAME>.yaml - users in teams, gateways, tools,
# servers, prompts, resources, metric history) into the local stack's database with the
# gateway's own models, then checks it: counts, keys and NOT NULLs in the database, the
# totals of the REST lists through the gateway's API, and one login of a generated user.
#
#   utils/populate.sh [--dataset NAME] [--seed N] [--batch-size N] [--append] [--reset]
#                     [--skip-validation] [--force] [--dry-run] [--profile NAME] [--quiet]
#   utils/populate.sh --clean [--dry-run]
#
#   --dataset NAME     datasets/NAME.yaml (default: PERF_DATASET, else small); `make datasets` lists them
#   --seed N           the same seed makes the same data (default 1)
#   --batch-size N     rows a transaction (default 1000)
#   --append           add another batch to a database that holds the kit's data already
#   --reset            remove the kit's data first, then populate
#   --clean            only remove the kit's data (what it made, and only that)
#   --dry-run          say what would be written (rows per table, size and time) or removed
#   --skip-validation  no checks afterwards
#   --force            write a dataset made for PostgreSQL into SQLite all the same
#   --profile NAME     the profile the local stack is brought up with when it is not running
#   --quiet            no progress on stderr
#
# The local stack is brought up when it does not run (service.database picks SQLite or
# PostgreSQL) and left running with the data: the next runs measure the populated gateway
# (`make test` then says it found the gateway running: as-found). `make down` and a new `make up`
# start empty again (service.db_state fresh). Writes results/populate_<stamp>/report.json, and
# prints what was made. Exit: 0 done, 2 usage (unknown dataset, already populated, too large
# for SQLite), 3 no database (the stack does not run and cannot start), 4 the checks failed,
# 130 interrupted (the batches written so far stay marked; --clean removes them).
set -euo pipefail

PERF_PROG="populate.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

pop_usage() {
  sed -n '7,/^# The local stack/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

pop_parse_args() {
  POP_DATASET="${PERF_DATASET:-small}" POP_SEED=1 POP_BATCH=1000 POP_PROFILE=light
  POP_APPEND=0 POP_RESET=0 POP_CLEAN=0 POP_DRY=0 POP_SKIP=0 POP_FORCE=0
  while (($#)); do
    case "$1" in
      --dataset) POP_DATASET="$(perf_flag_value "$@")"; shift 2 ;;
      --seed) POP_SEED="$(perf_flag_value "$@")"; shift 2 ;;
      --batch-size) POP_BATCH="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) POP_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      --append) POP_APPEND=1; shift ;;
      --reset) POP_RESET=1; shift ;;
      --clean) POP_CLEAN=1; shift ;;
      --dry-run) POP_DRY=1; shift ;;
      --skip-validation) POP_SKIP=1; shift ;;
      --force) POP_FORCE=1; shift ;;
      --quiet) PERF_QUIET=1; shift ;;
      -h | --help) pop_usage; exit 0 ;;
      *) pop_usage >&2; perf_die "${PERF_EXIT_USAGE}" "unknown option '$1'" ;;
    esac
  done
  [[ "${POP_SEED}" =~ ^[0-9]+$ ]] || perf_die "${PERF_EXIT_USAGE}" "--seed must be a whole number >= 0, got '${POP_SEED}'"
  [[ "${POP_BATCH}" =~ ^[1-9][0-9]*$ ]] || perf_die "${PERF_EXIT_USAGE}" "--batch-size must be a whole number >= 1, got '${POP_BATCH}'"
  ((POP_APPEND + POP_RESET + POP_CLEAN <= 1)) || perf_die "${PERF_EXIT_USAGE}" "--append, --reset and --clean exclude each other"
  perf_check_profile "${POP_PROFILE}"
}

# pop_backend: the running stack's database (sqlite or postgresql), else the one `up` will use.
pop_backend() {
  local state_url
  state_url="$("${PERF_KIT_ROOT}/utils/local-stack.sh" database --url "${PERF_BASE_URL}")"
  case "${state_url#* }" in
    postgresql*) echo postgresql ;;
    sqlite*) echo sqlite ;;
    *) echo "${PERF_DB_BACKEND}" ;;
  esac
}

# pop_ensure_stack: the local stack serving service.base_url, brought up if it does not run.
pop_ensure_stack() {
  if "${PERF_KIT_ROOT}/utils/local-stack.sh" running; then
    [[ -n "$("${PERF_KIT_ROOT}/utils/local-stack.sh" database --url "${PERF_BASE_URL}")" ]] ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "the kit's local stack runs, but not at ${PERF_BASE_URL}; populate writes the stack's own database (make down, then try again)"
    return 0
  fi
  perf_gateway_answers "${PERF_BASE_URL}" &&
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "a gateway the kit did not start answers at ${PERF_BASE_URL}: populate writes the kit's local stack's database, not one it cannot reach; stop that gateway or use the local stack (make up)"
  perf_log "bringing the local stack up (${PERF_DB_BACKEND}); it stays up with the data"
  "${PERF_KIT_ROOT}/utils/local-stack.sh" up --profile "${POP_PROFILE}"
}

pop_writer() {
  "${PERF_KIT_ROOT}/utils/local-stack.sh" python --url "${PERF_BASE_URL}" -- -m perfkit.dataset.writer "$@"
}

pop_clean() {
  local report="$1"
  local args=(reset --report "${report}")
  ((POP_DRY == 0)) || args+=(--dry-run)
  [[ "${PERF_QUIET}" != 1 ]] || args+=(--quiet)
  pop_writer "${args[@]}"
  ((POP_DRY == 1)) || rm -f "${POP_STACK_DIR}/gateway.dataset"
  perf_py dataset show "${report}"
}

# pop_record: what the stack's database holds now, for the runs (utils/local-stack.sh dataset):
# the dataset's name, or NAME+NAME2 after --append.
pop_record() {
  local file="${POP_STACK_DIR}/gateway.dataset" held=""
  ((POP_APPEND == 0)) || held="$(cat "${file}" 2>/dev/null || true)"
  printf '%s\n' "${held:+${held}+}${POP_DATASET}" >"${file}"
}

pop_main() {
  local backend out dataset_json report rc token plan_args=()
  pop_parse_args "$@"
  POP_STACK_DIR="${PERF_STATE_DIR}/${PERF_STACK_NAME:-stack}"
  perf_ensure_setup
  perf_load_settings "${POP_PROFILE}"
  backend="$(pop_backend)"
  ((POP_FORCE == 0)) || plan_args+=(--force)
  if ((POP_CLEAN == 0)); then
    if ((POP_DRY == 1)); then
      perf_py dataset plan "${POP_DATASET}" --backend "${backend}" --dry-run "${plan_args[@]}"
      ((POP_RESET == 0)) || perf_log "--reset would first remove the kit's data (utils/populate.sh --clean --dry-run shows it)"
      return 0
    fi
    # checked before the stack is brought up
    perf_py dataset plan "${POP_DATASET}" --backend "${backend}" "${plan_args[@]}"
  fi
  ((POP_CLEAN == 1)) || pop_ensure_stack
  out="${PERF_RESULTS_DIR:-${PERF_KIT_ROOT}/results}/populate_$(date -u +%Y%m%dT%H%M%SZ)_$$"
  mkdir -p "${out}"
  if ((POP_CLEAN == 1 || POP_RESET == 1)); then
    pop_clean "${out}/reset.json"
    ((POP_CLEAN == 0)) || { perf_log "report: ${out}/reset.json"; return 0; }
  fi
  dataset_json="${out}/dataset.json"
  report="${out}/report.json"
  perf_py dataset plan "${POP_DATASET}" --backend "${backend}" --output "${dataset_json}" "${plan_args[@]}"
  local args=(populate --dataset-json "${dataset_json}" --seed "${POP_SEED}" --batch-size "${POP_BATCH}"
    --report "${report}" --credentials "${POP_STACK_DIR}/dataset-credentials.json")
  ((POP_APPEND == 0)) || args+=(--append)
  ((POP_SKIP == 0)) || args+=(--skip-validation)
  [[ "${PERF_QUIET}" != 1 ]] || args+=(--quiet)
  rc=0
  pop_writer "${args[@]}" || rc=$?
  ((rc == 0)) || exit "${rc}"
  pop_record
  if ((POP_SKIP == 0)); then
    token="$("${PERF_KIT_ROOT}/utils/setup-auth.sh" --url "${PERF_BASE_URL}" --print --no-verify 2>/dev/null)" ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "could not log in to ${PERF_BASE_URL} to check the data through the API; run utils/setup-auth.sh to see why"
    PERFKIT_TOKEN="${token}" perf_py dataset check-api "${report}" --url "${PERF_BASE_URL}" || rc=$?
  fi
  perf_py dataset show "${report}"
  perf_log "report: ${report}"
  return "${rc}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  pop_main "$@"
fi
