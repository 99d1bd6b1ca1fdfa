#!/usr/bin/env bash
# Scenario: the gateway's database apart from the API - its own service layer and models called
# directly in the local stack's gateway venv (perfkit.dbbench.ops), no HTTP: the REST lists'
# queries as the platform admin, as a team member and as a caller without teams, at every list
# limit; a server's tools; a tool by id and by name; a tool created, updated and deleted in a
# transaction rolled back. Each round's calls are timed like hey's requests; every round also
# keeps the SQL its calls sent (raw/<test>/round-<k>.sql.json: statements per call, the slowest
# statements). Skipped, saying why, against a gateway the kit does not run (no database access).
# Measure a populated database: --dataset NAME (make populate).

scenario_database() {
  local limit limits
  IFS=, read -ra limits <<<"${PERF_LIST_LIMITS}"
  for limit in "${limits[@]}"; do
    perf_db_test "list_tools_admin_limit_${limit}" list_tools_admin --limit "${limit}"
    perf_db_test "list_tools_member_limit_${limit}" list_tools_member --limit "${limit}"
    perf_db_test "list_tools_public_limit_${limit}" list_tools_public --limit "${limit}"
  done
  perf_db_test list_servers_admin_limit_50 list_servers_admin --limit 50
  perf_db_test list_prompts_admin_limit_50 list_prompts_admin --limit 50
  perf_db_test list_resources_admin_limit_50 list_resources_admin --limit 50
  perf_db_test server_tools server_tools
  perf_db_test get_tool get_tool
  perf_db_test tool_by_name tool_by_name
  perf_db_test create_tool create_tool
  perf_db_test update_tool update_tool
  perf_db_test delete_tool delete_tool
}

# --database sqlite|postgresql: the local stack's database for this run (PERF_DB_BACKEND);
# --database both: the same operations on SQLite and on PostgreSQL side by side, rounds
# alternating, PostgreSQL judged against SQLite (utils/compare-versions.sh on two stacks of
# the configured release, both written the same --dataset); PostgreSQL found slower is exit 0,
# the verdicts say where. Other flags: run-configurable.sh's (with both: those
# utils/compare-versions.sh takes).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  database_args=()
  database_choice=""
  while (($#)); do
    case "$1" in
      --database)
        (($# > 1)) || { echo "database-benchmark.sh: error: option --database needs a value (sqlite, postgresql or both)" >&2; exit 2; }
        database_choice="$2"
        shift 2 ;;
      *) database_args+=("$1"); shift ;;
    esac
  done
  set -- "${database_args[@]}"
  case "${database_choice}" in
    "") ;;
    sqlite | postgresql) export PERF_DB_BACKEND="${database_choice}" ;;
    both)
      # PostgreSQL slower than SQLite is what the comparison found, not a failure: the verdict
      # table says where (exit 1, "regression", becomes 0 here); errors keep their codes
      database_rc=0
      "$(dirname "$0")/../utils/compare-versions.sh" --base-database sqlite --candidate-database postgresql \
        --scenarios database "$@" || database_rc=$?
      if ((database_rc == 1)); then
        echo "database-benchmark.sh: PostgreSQL (the candidate) was slower than SQLite (the base) on the operations marked regression above; a comparison, not a failure: exit 0" >&2
        database_rc=0
      fi
      exit "${database_rc}" ;;
    *) echo "database-benchmark.sh: error: --database '${database_choice}': expected sqlite, postgresql or both" >&2; exit 2 ;;
  esac
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios database "$@"
fi
