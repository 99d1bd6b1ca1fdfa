#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# run-advanced.sh: every bad invocation stops with exit 2 before anything starts (curl, hey and
# psql are stubs that record calls; no results folder, no stack); --mode docker without a
# Docker engine is exit 3; the exit-code ranking of several points.

bats_require_minimum_version 1.5.0

setup() {
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

@test "the worst exit code of several points wins: 130 > 2 > 3 > 4 > 1 > 0" {
  # shellcheck source=run-advanced.sh
  source "${KIT}/run-advanced.sh"
  [ "$(adv_worst 0 0)" = 0 ]
  [ "$(adv_worst 0 1)" = 1 ]
  [ "$(adv_worst 4 1)" = 4 ]
  [ "$(adv_worst 1 4)" = 4 ]
  [ "$(adv_worst 4 3)" = 3 ]
  [ "$(adv_worst 2 3)" = 2 ]
  [ "$(adv_worst 130 2)" = 130 ]
  [ "$(adv_worst 0 7)" = 7 ]
  [ "$(adv_worst 2 7)" = 2 ]
}
