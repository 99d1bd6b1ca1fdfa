#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# run-advanced.sh: every bad invocation stops with exit 2 before anything starts (curl, hey and
# psql are stubs that record calls; no results folder, no stack); --mode docker without a
# Docker engine is exit 3; the exit-code ranking of several points.

bats_require_minimum_version 1.5.0

setup() {
  load stubs
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  STUBS="${BATS_TEST_TMPDIR}/bin"
  CALLS="${BATS_TEST_TMPDIR}/calls.log"
  mkdir -p "${STUBS}"
  local tool
  for tool in curl hey psql docker; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 7\n' "${tool}" "${CALLS}" >"${STUBS}/${tool}"
    chmod +x "${STUBS}/${tool}"
  done
}

teardown() {
  [ ! -e "${BATS_TEST_TMPDIR}/results" ]
}

no_calls() {
  [ ! -e "${CALLS}" ] || { cat "${CALLS}"; return 1; }
}

# adv ARGS...: run run-advanced.sh in a clean environment with the stubs first on PATH.
adv() {
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" \
    PERF_RESULTS_DIR="${BATS_TEST_TMPDIR}/results" "${KIT}/run-advanced.sh" "$@"
}

@test "--help prints the usage and exits 0" {
  adv --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == "usage: ./run-advanced.sh --servers N|LIST"* ]]
  [[ "${output}" == *"--concurrency-sweep LIST"* ]]
  no_calls
}

@test "--servers is required" {
  adv --profile smoke
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"say how many MCP servers: --servers 10"* ]]
  no_calls
}

@test "server counts outside 1-100 are refused" {
  local bad
  for bad in 0 101 1,2,500; do
    adv --servers "${bad}"
    [ "${status}" -eq 2 ]
    [[ "${stderr}" == *"each count must be 1-100"* ]]
  done
  adv --servers 2,x
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--servers '2,x' is not a count or a comma list"* ]]
  no_calls
}

@test "an unknown database, mode or flag is refused" {
  adv --servers 2 --database mysql
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--database 'mysql' is not one of: sqlite, postgresql, both"* ]]
  adv --servers 2 --mode k8s
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--mode 'k8s' is not one of: local, docker"* ]]
  adv --servers 2 --fast
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--fast'"* ]]
  no_calls
}

@test "a bad sweep, SLO or profile is refused by the settings check" {
  adv --servers 2 --concurrency-sweep 5,0
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_SWEEP_LEVELS='5,0'"* ]]
  adv --servers 2 --p95-slo fast
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_SWEEP_P95_MS='fast'"* ]]
  adv --servers 2 --profile heavvy
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"heavvy"* ]]
  no_calls
}

@test "--mode docker without a Docker engine is exit 3, saying local mode works" {
  rm "${STUBS}/docker"
  adv --servers 2 --profile smoke --mode docker
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"docker"* ]]
  [[ "${stderr}" == *"--mode local"* ]]
}

@test "--mode docker with a docker that cannot run compose is exit 3 too" {
  adv --servers 2 --profile smoke --mode docker
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"compose"* ]]
  [ ! -e "${BATS_TEST_TMPDIR}/results" ]
}

# --- the exit-code rule (run-advanced.sh sourced): perfkit exit-codes, never a rule of its own -

# points CODE...: adv_database over server counts 1, 2, ... whose points end with these codes
# (the stack and the points replaced); prints the counts that ran, then the database's code.
points() {
  # shellcheck source=run-advanced.sh
  source "${KIT}/run-advanced.sh"
  stubs_spy_perf_py
  local point_codes=("$@") i rc=0
  ADV_COUNTS=()
  for i in "${!point_codes[@]}"; do
    ADV_COUNTS+=("$((i + 1))")
  done
  adv_stack() { :; }
  adv_stop_stack() { :; }
  adv_point() {
    printf '%s ' "$2"
    return "${point_codes[$2 - 1]}"
  }
  adv_database sqlite || rc=$?
  printf '=> %s\n' "${rc}"
}

@test "run-advanced: the points' codes combine in perfkit; a stopping code ends the database" {
  [ "$(points 0 1 4)" = "1 2 3 => 4" ]
  stubs_perf_py_called "exit-codes worst 0 1 4"
  [ "$(points 1 3 0)" = "1 2 => 3" ]
  stubs_perf_py_called "exit-codes stops 3"
  stubs_perf_py_called "exit-codes worst 1 3"
  [ "$(points 4 2)" = "1 2 => 2" ]
  [ "$(points 130)" = "1 => 130" ]
}

@test "run-advanced: a crashed point counts as a failed benchmark (4), not as its own code" {
  [ "$(points 0 139)" = "1 2 => 4" ]
  [ "$(points 2 139)" = "1 => 2" ]
}

@test "run-advanced: the databases' codes combine in perfkit; a stopping code ends the run" {
  # shellcheck source=run-advanced.sh
  source "${KIT}/run-advanced.sh"
  stubs_spy_perf_py
  local rc=0
  declare -A code_of=([sqlite]=1 [postgresql]=4)
  ADV_DATABASES=(sqlite postgresql)
  adv_database() { return "${code_of[$1]}"; }
  adv_databases || rc=$?
  [ "${rc}" -eq 4 ]
  stubs_perf_py_called "exit-codes worst 1 4"
  code_of[sqlite]=3
  rc=0
  adv_databases || rc=$?
  [ "${rc}" -eq 3 ]
  stubs_perf_py_called "exit-codes worst 3"
}
