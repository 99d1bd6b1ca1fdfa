#!/usr/bin/env bash
# What upgrading the gateway costs with data in it: an older release's database, empty and
# written a dataset, migrated to the configured release's schema by that release's own
# bootstrap_db (what the gateway runs when it starts), timed (perfkit.dbbench.migrate), then
# side by side (perfkit migration: migration.json and the table on stdout).
#
#   utils/migration-cost.sh [--from RELEASE] [--dataset NAME] [--profile NAME]
#   make migration-cost FROM=1.0.6 DATASET=small
#
# --from: the older release (default 1.0.6); the newer one is service.gateway_version
#   (GATEWAY_VERSION). --dataset: datasets/NAME.yaml (default small), measured after an empty
#   database of the same release. SQLite only for now: PostgreSQL's database of the local stack
#   is dropped when its stack stops (not built yet).
# Each database is made by a local stack of its own (named migration: gateway :4478, MCP server
# :9660) of the older release, fresh, taken down before the migration runs on its file.
# Results: results/migration_<stamp>/ (empty.json, NAME.json, migration.json). Exit 0; a stack
# that cannot start or a migration that fails stops it (3, 4); Ctrl+C (130) takes the stack down.
set -euo pipefail

PERF_PROG="migration-cost.sh"
# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

readonly MIG_STACK=migration

mig_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

mig_parse_args() {
  MIG_FROM=1.0.6
  MIG_DATASET=small
  MIG_PROFILE="${PERF_PROFILE:-light}"
  while (($#)); do
    case "$1" in
      --from) MIG_FROM="$(perf_flag_value "$@")"; shift 2 ;;
      --dataset) MIG_DATASET="$(perf_flag_value "$@")"; shift 2 ;;
      --profile) MIG_PROFILE="$(perf_flag_value "$@")"; shift 2 ;;
      -h | --help) mig_usage; exit 0 ;;
      *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (see --help)" ;;
    esac
  done
  perf_check_profile "${MIG_PROFILE}"
  [[ -f "${PERF_KIT_ROOT}/datasets/${MIG_DATASET}.yaml" ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--dataset '${MIG_DATASET}' not found (make datasets lists them)"
  [[ "${MIG_FROM}" =~ ^[0-9][0-9A-Za-z.+-]*$ ]] ||
    perf_die "${PERF_EXIT_USAGE}" "--from '${MIG_FROM}': expected a release such as 1.0.6"
}

mig_stack() {
  PERF_STACK_NAME="${MIG_STACK}" PERF_BASE_URL=http://127.0.0.1:4478 PERF_SERVER_BASE_PORT=9660 \
    PERF_DB_BACKEND=sqlite PERF_DB_STATE=fresh PERF_SERVERS_COUNT=1 "${PERF_KIT_ROOT}/utils/local-stack.sh" "$@"
}

mig_down() {
  mig_stack down >/dev/null 2>&1 || true
}

# mig_measure NAME DATASET VENV OUT: the older release's database (DATASET written, or none)
# migrated by VENV's release into OUT/NAME.json.
mig_measure() {
  local name="$1" dataset="$2" venv="$3" out="$4" url rc=0
  perf_log "${name}: a fresh database of ${MIG_FROM}${dataset:+ written ${dataset}}"
  PERF_GATEWAY_VERSION="${MIG_FROM}" PERF_DATASET="${dataset}" mig_stack up --profile "${MIG_PROFILE}" >&2
  url="$(mig_stack database | awk '{print $2}')"
  mig_down
  [[ "${url}" == sqlite:* ]] || perf_die "${PERF_EXIT_ENV_NOT_READY}" "the ${MIG_STACK} stack did not say where its database is"
  perf_log "${name}: migrating it to ${MIG_TO} (bootstrap_db)"
  (
    set -a
    # shellcheck source=/dev/null
    source "${PERF_STATE_DIR}/${MIG_STACK}/gateway.env"
    set +a
    DATABASE_URL="${url}" PYTHONPATH="${PERF_KIT_ROOT}/utils" \
      "${venv}/bin/python" -m perfkit.dbbench.migrate --out "${out}/${name}.json"
  ) >"${out}/${name}.log" 2>&1 || rc=$?
  ((rc == 0)) || perf_die "${PERF_EXIT_BENCHMARK_FAILED}" "the migration of ${name} failed (exit ${rc}): $(tail -n 3 "${out}/${name}.log" | tr '\n' ' ')(${out}/${name}.log)"
}

mig_main() {
  local results venv out
  mig_parse_args "$@"
  perf_ensure_setup
  results="$(perf_load_settings "${MIG_PROFILE}" && printf '%s\t%s\n' "${PERF_RESULTS_DIR}" "${PERF_GATEWAY_VERSION}")" || exit "$?"
  MIG_TO="${results#*$'\t'}"
  results="${results%%$'\t'*}"
  [[ "${MIG_TO}" != "${MIG_FROM}" ]] || perf_die "${PERF_EXIT_USAGE}" "--from ${MIG_FROM} is the configured release too: name an older one"
  trap 'mig_down; exit "${PERF_EXIT_INTERRUPTED}"' INT TERM
  trap mig_down EXIT
  mig_down # a stack an earlier, killed run left behind
  PERF_GATEWAY_VERSION="${MIG_TO}" mig_stack install --profile "${MIG_PROFILE}" >&2
  venv="$(PERF_GATEWAY_VERSION="${MIG_TO}" mig_stack venv --profile "${MIG_PROFILE}")"
  out="$(perf_make_fresh_dir "${results}/migration_$(date -u +%Y%m%d-%H%M%S)")"
  mig_measure empty "" "${venv}" "${out}"
  mig_measure "${MIG_DATASET}" "${MIG_DATASET}" "${venv}" "${out}"
  perf_py migration "${out}" --from "${MIG_FROM}" --to "${MIG_TO}" --datasets "empty,${MIG_DATASET}"
  perf_log "results: ${out}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  mig_main "$@"
fi
