#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# run-configurable.sh argument checking: every bad invocation stops with exit 2 in validation,
# before any network access, login or gateway start. curl and hey are replaced by stubs that
# record calls; PERF_MANAGE=never so that even a missed check could not start a local stack.

bats_require_minimum_version 1.5.0

setup() {
  load stubs
  stubs_setup curl hey
}

teardown() {
  stubs_nothing_done  # nothing reached the network and no run folder was made
}

rc() {
  stubs_run run-configurable.sh "$@"
}

@test "--help prints the usage and exits 0" {
  rc --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == "usage: ./run-configurable.sh"* ]]
  [[ "${output}" == *"--endpoint URL"* ]]
}

@test "an unknown flag exits 2 naming it" {
  rc --frobnicate 3
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"run-configurable.sh: error: unknown option '--frobnicate'"* ]]
}

@test "a flag without its value exits 2" {
  rc --profile
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"option --profile needs a value"* ]]
  rc --concurrency --quiet
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"option --concurrency needs a value"* ]]
}

@test "PERF_STRICT_SECRETS other than 0 or 1 exits 2 naming it" {
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" PERF_MANAGE=never \
    PERF_RESULTS_DIR="${BATS_TEST_TMPDIR}/results" PERF_STRICT_SECRETS=yes "${KIT}/run-configurable.sh" --profile smoke
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_STRICT_SECRETS='yes': expected 1"* ]]
}

@test "--profile heavvy exits 2 naming it and listing the known profiles" {
  rc --profile heavvy
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"profile 'heavvy' not found (have: heavy, light, medium, smoke, soak, spike)"* ]]
}

@test "--concurrency abc exits 2" {
  rc --concurrency abc
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_CONCURRENCY='abc'"*"is not a whole number"* ]]
}

@test "--requests 5 --concurrency 10 exits 2" {
  rc --requests 5 --concurrency 10
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"PERF_REQUESTS=5 is smaller than PERF_CONCURRENCY=10"* ]]
}

@test "--baseline bogus exits 2" {
  rc --baseline bogus
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--baseline 'bogus' is not one of: save, compare, skip"* ]]
}

@test "--tests: a glob naming no test, with --endpoint, or with --baseline save exits 2" {
  rc --profile smoke --scenarios tools --tests 'nope_*'
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--tests 'nope_*' matches none of the tests of scenarios tools: tools/rest_list_tools_limit_10"* ]]
  rc --profile smoke --tests 'rpc_*' --endpoint http://127.0.0.1:4444/health
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--tests picks among the scenarios' tests"* ]]
  rc --profile smoke --scenarios tools --tests 'rpc_*' --baseline save
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--baseline save with --tests"* ]]
  rc --profile smoke --tests 'a b'
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"a test glob holds letters"* ]]
}

@test "--method POST without --endpoint exits 2" {
  rc --method POST
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"only go with --endpoint URL"* ]]
}

@test "--endpoint notaurl exits 2" {
  rc --endpoint notaurl
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--endpoint 'notaurl' is not an http(s) URL"* ]]
}

@test "--endpoint on another host than --url exits 2" {
  rc --url http://127.0.0.1:4444 --endpoint http://127.0.0.1:5555/tools
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"is not on the target http://127.0.0.1:4444"* ]]
}

@test "--url http://10.1.2.3:4444 exits 2: not loopback" {
  rc --url http://10.1.2.3:4444
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://10.1.2.3:4444 is not on loopback"*"PERF_ALLOW_REMOTE=1"* ]]
}

@test "--endpoint on a remote host exits 2: not loopback" {
  rc --endpoint http://example.com/health --no-auth
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://example.com is not on loopback"* ]]
}

@test "the stubs catch network access (the harness can fail)" {
  run env PATH="${STUBS}:/usr/bin:/bin" curl -s http://127.0.0.1:9/
  [ "${status}" -eq 7 ]
  grep -q '^curl -s http://127.0.0.1:9/$' "${CALLS}"
  rm "${CALLS}"
}

# --- the exit-code rule (run-configurable.sh sourced): perfkit exit-codes, never a rule of its own

@test "run-configurable: the sides' summary codes combine in perfkit" {
  # shellcheck source=run-configurable.sh
  source "${KIT}/run-configurable.sh"
  stubs_spy_perf_py
  local rc=0
  PERF_SIDE_DIRS=("${BATS_TEST_TMPDIR}/base" "${BATS_TEST_TMPDIR}/candidate")
  declare -A code_of=([base]=1 [candidate]=139)
  perf_py() {
    printf '%s\n' "$*" >>"${PERF_PY_CALLS}"
    case "$1" in
      exit-codes) stubs_real_perf_py "$@" ;;
      summarize) return "${code_of[$(basename "$2")]}" ;;
    esac
  }
  run_summarize >/dev/null || rc=$?
  [ "${rc}" -eq 4 ]  # a crash counts as a failed benchmark, never as the larger number
  stubs_perf_py_called "exit-codes worst 1 139"
}

# judge SUMMARY_CODE VERDICT_CODE [ab]: run_judge with the summary and the verdict step (the
# stored baseline's, or the A/B comparison's) replaced; prints the code it returns.
judge() {
  # shellcheck source=run-configurable.sh
  source "${KIT}/run-configurable.sh"
  stubs_spy_perf_py
  local rc=0
  SUMMARY_CODE="$1" VERDICT_CODE="$2" RUN_AB_BASE=""
  [[ "${3:-}" != ab ]] || RUN_AB_BASE=http://127.0.0.1:4481
  run_summarize() { return "${SUMMARY_CODE}"; }
  run_baseline() {
    [ "$1" = "${SUMMARY_CODE}" ] || return 99 # the step is told how the measurement went
    return "${VERDICT_CODE}"
  }
  run_compare_ab() { return "${VERDICT_CODE}"; }
  run_judge || rc=$?
  printf '%s\n' "${rc}"
}

@test "run-configurable: the measurement's code and the verdict's combine in perfkit" {
  [ "$(judge 0 0)" = 0 ]
  [ "$(judge 0 1)" = 1 ]
  [ "$(judge 4 1)" = 4 ]
  [ "$(judge 4 2)" = 2 ]
  stubs_perf_py_called "exit-codes worst 4 2"
  [ "$(judge 4 1 ab)" = 4 ]  # an A/B run's verdict does not hide a failed benchmark
  stubs_perf_py_called "exit-codes worst 4 1"
}
