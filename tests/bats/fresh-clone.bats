#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# Every entry point checks its arguments first, on a fresh clone (no .state/): a bad profile is
# exit 2 naming it and the known ones, with no Python, no network, no setup and nothing written.
# The clone is of this repository's HEAD with the working tree's changes and new (not ignored)
# files put on top: what committing them gives a user. curl, hey, python3 and pip are recording
# stubs.

bats_require_minimum_version 1.5.0

setup_file() {
  local kit patch
  kit="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  CLONE="${BATS_FILE_TMPDIR}/kit"
  patch="${BATS_FILE_TMPDIR}/uncommitted.patch"
  git clone -q "${kit}" "${CLONE}"
  git -C "${kit}" diff HEAD --binary >"${patch}"
  [ ! -s "${patch}" ] || git -C "${CLONE}" apply --whitespace=nowarn "${patch}"
  git -C "${kit}" ls-files -z --others --exclude-standard |
    (cd "${kit}" && xargs -0 -r cp --parents -t "${CLONE}" --)
  export CLONE
}

setup() {
  [ ! -e "${CLONE}/.state" ]
  load stubs
  stubs_setup curl hey python3 pip
}

teardown() {
  stubs_no_calls
  [ ! -e "${CLONE}/.state" ]
  [ -z "$(git -C "${CLONE}" status --porcelain --ignored -- results baselines)" ]
}

# in_clone SCRIPT ARGS...: the clone's SCRIPT in a clean environment, the stubs first on PATH.
in_clone() {
  local script="$1"
  shift
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" "${CLONE}/${script}" "$@"
}

# known_profiles: the profiles the clone has, as the error lists them.
known_profiles() {
  local file have=""
  for file in "${CLONE}"/profiles/*.env; do
    have="${have:+${have}, }$(basename "${file}" .env)"
  done
  printf '%s\n' "${have}"
}

@test "run-configurable.sh --profile nope: exit 2 naming it and the known profiles" {
  in_clone run-configurable.sh --profile nope
  [ "${status}" -eq 2 ]
  [[ "$(known_profiles)" == *"light, medium, smoke"* ]]
  [ "${stderr}" = "run-configurable.sh: error: profile 'nope' not found (have: $(known_profiles))" ]
}

@test "run-all.sh --profiles nope: exit 2 naming it and the known profiles" {
  in_clone run-all.sh --profiles smoke,nope
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "run-all.sh: error: profile 'nope' not found (have: $(known_profiles))" ]
}

@test "run-advanced.sh --servers 1 --profile nope: exit 2 naming it and the known profiles" {
  in_clone run-advanced.sh --servers 1 --profile nope
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "run-advanced.sh: error: profile 'nope' not found (have: $(known_profiles))" ]
}

@test "a scenario script passes its flags on: the same check" {
  in_clone scenarios/tools-benchmark.sh --profile nope
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "run-configurable.sh: error: profile 'nope' not found (have: $(known_profiles))" ]
}

@test "the helper scripts check the profile before setting anything up" {
  local args
  for args in "utils/local-stack.sh up --profile nope" "utils/local-stack.sh status --profile nope" \
    "utils/setup-auth.sh --profile nope" "utils/check-services.sh --profile nope" \
    "utils/compare-versions.sh --base 1 --candidate 2 --profile nope"; do
    # shellcheck disable=SC2086  # the script and its arguments
    in_clone ${args}
    [ "${status}" -eq 2 ] || { echo "${args}: exit ${status}: ${stderr}"; return 1; }
    [[ "${stderr}" == *"error: profile 'nope' not found (have: $(known_profiles))" ]] ||
      { echo "${args}: ${stderr}"; return 1; }
  done
}

@test "other bad flags are exit 2 without Python too" {
  in_clone run-configurable.sh --baseline sometimes
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"--baseline 'sometimes' is not one of: save, compare, skip"* ]]
  in_clone run-configurable.sh --frobnicate
  [ "${status}" -eq 2 ]
  in_clone run-configurable.sh --url http://10.1.2.3:4444
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"not on loopback"* ]]
  in_clone run-all.sh --profiles smoke,smoke
  [ "${status}" -eq 2 ]
  in_clone run-advanced.sh --servers 1 --database mysql
  [ "${status}" -eq 2 ]
  in_clone run-advanced.sh --servers 1 --mode k8s
  [ "${status}" -eq 2 ]
  in_clone run-advanced.sh --servers 0
  [ "${status}" -eq 2 ]
  in_clone utils/calibrate.sh --trials many
  [ "${status}" -eq 2 ]
}

@test "with good flags the runner sets itself up (utils/setup.sh), not 'run: make setup'" {
  [ -x /usr/bin/time ] || skip "GNU time is missing: setup would install it"
  in_clone run-configurable.sh --profile smoke
  # the python3 stub fails, so the venv cannot be made: exit 3 from setup, nothing left
  [ "${status}" -eq 3 ]
  [[ "${stderr}" == *"setup.sh: installing Python dependencies into ${CLONE}/.state/venv"* ]]
  [[ "${stderr}" == *"setup.sh: error: python3 -m venv ${CLONE}/.state/venv failed"*"python3-venv"* ]]
  [[ "${stderr}" != *"make setup"* ]]
  grep -qx "python3 -m venv ${CLONE}/.state/venv" "${CALLS}"
  rm "${CALLS}"
}
