#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# The helper scripts refuse an unknown option with exit 2 before doing anything.

bats_require_minimum_version 1.5.0

setup() {
  load stubs
  stubs_setup curl
}

teardown() {
  stubs_no_calls  # nothing reached the network
}

# script NAME ARGS...: run utils/NAME with a recording curl stub first on PATH.
script() {
  local name="$1"
  shift
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" "${KIT}/utils/${name}" "$@"
}

@test "setup-auth.sh: unknown option exits 2 naming it" {
  script setup-auth.sh --pritn
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"setup-auth.sh: error: unknown option '--pritn'"* ]]
  [[ "${stderr}" == *"usage: utils/setup-auth.sh"* ]]
}

@test "check-services.sh: unknown option exits 2 naming it" {
  script check-services.sh --url http://127.0.0.1:4444 --sevrers 2
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"check-services.sh: error: unknown option '--sevrers'"* ]]
}

@test "local-stack.sh: unknown option exits 2 naming it" {
  script local-stack.sh up --servres 2
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"local-stack.sh: error: unknown option '--servres'"* ]]
  script local-stack.sh status --bogus
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--bogus'"* ]]
}

@test "local-stack.sh: unknown or missing action exits 2" {
  script local-stack.sh restart
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown action 'restart' (have: up, install, venv, down, status, running, pids, servers, database, dataset, build, python)"* ]]
  script local-stack.sh
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"missing action"* ]]
}

@test "calibrate-jobs.sh: bad options exit 2 before anything runs" {
  script calibrate-jobs.sh --mode sometimes
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--mode 'sometimes' is not one of: stored, ab, both"* ]]
  script calibrate-jobs.sh --jobs 0
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--jobs '0': give a whole number 1..200"* ]]
  script calibrate-jobs.sh --slow-ms fast
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--slow-ms 'fast'"* ]]
  script calibrate-jobs.sh --slow-setting LOGLEVEL
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"give NAME=VALUE"* ]]
  script calibrate-jobs.sh --profile heavvy
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"profile 'heavvy' not found"* ]]
  script calibrate-jobs.sh --include "${BATS_TEST_TMPDIR}/earlier.json"
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--include ${BATS_TEST_TMPDIR}/earlier.json: no such result file"* ]]
}

@test "populate.sh: bad options exit 2 before anything runs" {
  script populate.sh --colour red
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--colour'"* ]]
  script populate.sh --seed x1
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--seed must be a whole number >= 0, got 'x1'"* ]]
  script populate.sh --batch-size 0
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--batch-size must be a whole number >= 1, got '0'"* ]]
  script populate.sh --append --reset
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--append, --reset and --clean exclude each other"* ]]
}

@test "local-stack.sh python: a stack that does not run is exit 3 saying how to start it" {
  # (a URL no stack serves: the session's own stack may be up beside these tests)
  script local-stack.sh python --url http://127.0.0.1:9 -- -c 'print(1)'
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"the kit's local stack does not run at http://127.0.0.1:9"*"make up"* ]]
}

@test "database-benchmark.sh --database: a value it does not know, or none, is exit 2" {
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" "${KIT}/scenarios/database-benchmark.sh" --database mysql
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "database-benchmark.sh: error: --database 'mysql': expected sqlite, postgresql or both" ]
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" "${KIT}/scenarios/database-benchmark.sh" --profile smoke --database
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"option --database needs a value (sqlite, postgresql or both)" ]]
}

@test "growth.sh: bad datasets, one dataset, an unknown database or flag are exit 2 before any setup" {
  script growth.sh --datasets empty,huge
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--datasets: 'huge' is neither empty nor a dataset (have: empty, "*"tiny"* ]]
  script growth.sh --datasets tiny
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"name at least two, smallest first"* ]]
  script growth.sh --datasets empty,tiny,empty
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"'empty' named twice"* ]]
  script growth.sh --database mysql
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--database 'mysql': expected sqlite or postgresql"* ]]
  script growth.sh --profile nope
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"profile 'nope' not found"* ]]
  script growth.sh --sizes 3
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--sizes'"* ]]
  script growth.sh --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"make growth DATASETS=empty,tiny,small"* ]]
}

@test "migration-cost.sh: an unknown dataset, a bad release or flag are exit 2 before any setup" {
  script migration-cost.sh --dataset huge
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--dataset 'huge' not found (make datasets lists them)"* ]]
  script migration-cost.sh --from 'v1;rm'
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--from 'v1;rm': expected a release such as 1.0.6"* ]]
  script migration-cost.sh --database postgresql
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--database'"* ]]
  script migration-cost.sh --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"make migration-cost FROM=1.0.6 DATASET=small"* ]]
}

@test "workflows.sh: a bad action, flag or prefix is exit 2 before anything runs" {
  script workflows.sh
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == "utils/workflows.sh run [--users N]"* ]]
  [[ "${stderr}" == *"utils/workflows.sh people --users N"* ]]
  script workflows.sh invite --users 2
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown action 'invite': run, worker, people or clean"* ]]
  script workflows.sh worker
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"worker needs --master-host HOST:PORT"* ]]
  script workflows.sh run --remote-workers 2
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--remote-workers needs --master-port P"* ]]
  script workflows.sh people
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"people needs --users N"* ]]
  script workflows.sh clean --prefix 'a b'
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--prefix 'a b': letters, digits and '-' only"* ]]
  script workflows.sh clean --colour red
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--colour'"* ]]
  script workflows.sh run --workload chat
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--workload 'chat': baseline, share, collaborate, token, agent, mixed or rest"* ]]
  script workflows.sh run --users 0
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--users '0': a whole number from 1 to 999"* ]]
  script workflows.sh run --url http://192.0.2.1:4444
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"target http://192.0.2.1:4444 is not on loopback"* ]]
  script workflows.sh run --duration 1m
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--duration '1m', --warmup '', --spawn-rate '': seconds"* ]]
}

@test "tune.sh: an unknown flag, bad rounds or budget are exit 2 before any setup" {
  script tune.sh --candidates X=1
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"unknown option '--candidates' (see --help)"* ]]
  script tune.sh --iterations 0
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--iterations '0': give a whole number of rounds"* ]]
  script tune.sh --budget soon
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--budget 'soon': give minutes"* ]]
  script tune.sh --candidate
  [ "${status}" -eq 2 ]
  script tune.sh --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"--budget MINUTES"* ]]
}

@test "overhead.sh: bad counts, a path without / or an unknown flag are exit 2 before any setup" {
  script overhead.sh --blocks 1
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--blocks 1: give 2..100"* ]]
  script overhead.sh --requests many
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--requests 'many': give a whole number"* ]]
  script overhead.sh --requests 5 --concurrency 10
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--concurrency 10 is more than --requests 5"* ]]
  script overhead.sh --path health
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--path 'health': give a path starting with /"* ]]
  script overhead.sh --part
  [ "${status}" -eq 2 ]
  script overhead.sh --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"--parts"* ]]
}
