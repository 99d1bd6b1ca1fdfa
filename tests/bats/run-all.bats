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

@test "a target off loopback exits 2" {
  ra --profiles smoke --url http://example.com:4444
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://example.com:4444 is not on loopback"* ]]
}

# --- the exit-code combination (run-all.sh sourced) ----------------------------------------

combine() {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  all_overall_code "$@"
}

@test "all_overall_code: the worst of 4 > 1 > 0 when every profile ran" {
  [ "$(combine)" = 0 ]
  [ "$(combine 0 0 0)" = 0 ]
  [ "$(combine 0 1 0)" = 1 ]
  [ "$(combine 1 4 0)" = 4 ]
  [ "$(combine 4 1)" = 4 ]
  [ "$(combine 4 0 1)" = 4 ]
}

@test "all_overall_code: 2, 3 or 130 win over everything, the first one counts" {
  [ "$(combine 0 2)" = 2 ]
  [ "$(combine 4 1 3)" = 3 ]
  [ "$(combine 4 130)" = 130 ]
  [ "$(combine 1 3 2)" = 3 ]
}

@test "all_overall_code: a code outside the contract counts as a failed benchmark" {
  [ "$(combine 0 141)" = 4 ]
  [ "$(combine 1 127 0)" = 4 ]
}

@test "all_stops: only 2, 3 and 130 stop the sequence" {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  local code
  for code in 2 3 130; do
    all_stops "${code}" || { echo "does not stop: ${code}"; return 1; }
  done
  for code in 0 1 4 141; do
    if all_stops "${code}"; then
      echo "stops: ${code}"
      return 1
    fi
  done
}

@test "all_code_meaning says what perfkit.exitcodes.MEANING says" {
  # shellcheck source=run-all.sh
  source "${KIT}/run-all.sh"
  local code expected
  for code in 0 1 2 3 4 130; do
    expected="$(perf_py_meaning "${code}")"
    [ "$(all_code_meaning "${code}")" = "${expected}" ] || { echo "${code}: ${expected}"; return 1; }
  done
}

perf_py_meaning() {
  PYTHONPATH="${KIT}/utils" "${KIT}/.state/venv/bin/python" -c \
    'import sys; from perfkit.exitcodes import MEANING; print(MEANING[int(sys.argv[1])])' "$1"
}
