#!/usr/bin/env bash
# mcp-clients.sh HEY "SESSION..." HEY_ARGS...: a test's load as separate MCP clients, each in its
# own stateful session - one hey per session, all at once, each sending Mcp-Session-Id with the
# other HEY_ARGS (bench-lib gives each -c 1 and its share of the requests) - and their CSV rows
# merged on stdout as one hey -o csv (header once; offsets from each client's start, and they
# start together). A session must not carry two requests with the same JSON-RPC id at once, and
# hey sends one body over and over: one client per session keeps them apart, as real MCP
# clients are. Exit: the worst of the heys'. Their stderr goes to stderr.
set -euo pipefail

readonly MC_HEY="$1" MC_SESSIONS="$2"
shift 2
MC_TMP="$(mktemp -d "${TMPDIR:-/tmp}/perfkit-mcp-clients.XXXXXX")"
readonly MC_TMP
MC_PIDS=()

# shellcheck disable=SC2317 # run by the EXIT trap
mc_cleanup() {
  local pid
  for pid in "${MC_PIDS[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
  rm -rf "${MC_TMP}"
}
trap mc_cleanup EXIT
trap 'exit 130' INT TERM

mc_main() {
  local session k=0 pid rc=0 file
  for session in ${MC_SESSIONS}; do
    "${MC_HEY}" -H "Mcp-Session-Id: ${session}" "$@" >"${MC_TMP}/${k}.csv" 2>"${MC_TMP}/${k}.err" &
    MC_PIDS+=("$!")
    k=$((k + 1))
  done
  ((k > 0)) || { echo "mcp-clients.sh: no session given" >&2; exit 2; }
  for pid in "${MC_PIDS[@]}"; do
    wait "${pid}" || rc=$?
  done
  MC_PIDS=()
  head -n 1 "${MC_TMP}/0.csv"
  for ((file = 0; file < k; file++)); do
    tail -n +2 "${MC_TMP}/${file}.csv"
    cat "${MC_TMP}/${file}.err" >&2
  done
  exit "${rc}"
}

mc_main "$@"
