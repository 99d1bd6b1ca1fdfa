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
