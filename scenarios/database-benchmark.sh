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

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  exec "$(dirname "$0")/../run-configurable.sh" --scenarios database "$@"
fi
