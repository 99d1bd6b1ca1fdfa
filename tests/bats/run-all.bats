#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# run-all.sh: every bad invocation stops with exit 2 before any work (no network access, no
# folder, no profile run; curl and hey are stubs that record calls, PERF_MANAGE=never), and
# the function that combines the profiles' exit codes into run-all's.

bats_require_minimum_version 1.5.0

setup() {
  load stubs
  stubs_setup curl hey
}

teardown() {
  stubs_nothing_done  # nothing reached the network and no folder was made
}

ra() {
  stubs_run run-all.sh "$@"
}

@test "--help prints the usage and exits 0" {
  ra --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == "usage: ./run-all.sh"* ]]
  [[ "${output}" == *"--profiles LIST"* ]]
}

@test "an unknown flag exits 2 naming it" {
  ra --profile smoke
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"run-all.sh: error: unknown option '--profile'"* ]]
  [[ "${stderr}" == *"usage: ./run-all.sh"* ]]
}

@test "a flag without its value exits 2" {
  ra --profiles
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"option --profiles needs a value"* ]]
}

@test "an unknown profile exits 2 naming it and the known ones, even after a good one" {
  ra --profiles smoke,heavvy
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"run-all.sh: error: profile 'heavvy' not found (have: heavy, light, medium, smoke, soak, spike)"* ]]
}

@test "an empty or repeated profile exits 2" {
  ra --profiles ""
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--profiles is empty"* ]]
  ra --profiles smoke,,light
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"profile '' not found"* ]]
  ra --profiles smoke,light,smoke
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"profile 'smoke' is named twice"* ]]
}

@test "bad values for the runs exit 2, checked against every profile" {
  ra --profiles smoke --baseline bogus
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--baseline 'bogus' is not one of: save, compare, skip"* ]]
  ra --profiles smoke,light --iterations abc
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_ITERATIONS='abc'"*"is not a whole number"* ]]
  [[ "${stderr}" == *"run-all.sh: error: profile 'smoke': its settings do not validate"* ]]
  ra --profiles smoke --scenarios tools,bogus
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_SCENARIOS='tools,bogus'"*"unknown 'bogus'"* ]]
}

@test "--strict-secrets and --sequential go to every profile's run" {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  all_parse_args --profiles smoke,light --strict-secrets --sequential
  [ "${ALL_CHILD_ARGS[*]}" = "--strict-secrets --sequential" ]
}

@test "a target off loopback exits 2" {
  ra --profiles smoke --url http://example.com:4444
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://example.com:4444 is not on loopback"* ]]
}

# --- the exit-code rule (run-all.sh sourced): perfkit exit-codes, never a rule of its own ------

# profiles CODE...: run all_run_profiles over profiles p1, p2, ... that end with these codes
# (all_run_profile replaced); prints the profiles that ran, then ALL_CODE.
profiles() {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  stubs_spy_perf_py
  local profile_codes=("$@") i
  ALL_PROFILES=()
  for i in "${!profile_codes[@]}"; do
    ALL_PROFILES+=("p$((i + 1))")
  done
  ALL_CODES=()
  ALL_DIR="${BATS_TEST_TMPDIR}/all"
  all_run_profile() {
    printf '%s ' "$1"
    ALL_CODES+=("${profile_codes[$2 - 1]}")
  }
  all_run_profiles 2>/dev/null
  printf '=> %s\n' "${ALL_CODE}"
}

@test "run-all: every profile runs unless one stops the sequence; the codes combine in perfkit" {
  [ "$(profiles 0 1 0)" = "p1 p2 p3 => 1" ]
  stubs_perf_py_called "exit-codes stops 1"
  stubs_perf_py_called "exit-codes worst 0 1 0"
  [ "$(profiles 1 4 0)" = "p1 p2 p3 => 4" ]
  stubs_perf_py_called "exit-codes worst 1 4 0"
}

@test "run-all: a stopping code ends the sequence and wins" {
  [ "$(profiles 4 3 0)" = "p1 p2 => 3" ]
  stubs_perf_py_called "exit-codes stops 3"
  stubs_perf_py_called "exit-codes worst 4 3"
  [ "$(profiles 1 130 2)" = "p1 p2 => 130" ]
}

@test "run-all: a crash's code counts as a failed benchmark and does not stop the sequence" {
  [ "$(profiles 0 139 1)" = "p1 p2 p3 => 4" ]
  stubs_perf_py_called "exit-codes worst 0 139 1"
}

@test "run-all: a stopping profile is named with its code's meaning and what did not run" {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  stubs_spy_perf_py
  ALL_PROFILES=(smoke light medium)
  ALL_CODES=()
  ALL_DIR=/tmp/all_x
  all_run_profile() { ALL_CODES+=(2); }
  run --separate-stderr all_run_profiles
  [[ "${stderr}" == *"run-all.sh: error: profile 'smoke' ended with exit 2 (usage or configuration error (or a bad baseline); see above or /tmp/all_x/smoke.log); not running: light medium"* ]]
  stubs_perf_py_called "exit-codes meaning 2"
}
