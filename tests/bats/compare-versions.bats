#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/compare-versions.sh's arguments, decided in bash before anything is set up: the script
# is sourced (its main is guarded) and ab_parse_args called; and the script itself, run with
# recording stubs of curl, pip and hey, refuses bad arguments with exit 2 having done nothing.

bats_require_minimum_version 1.5.0

setup() {
  load stubs
  stubs_setup curl pip hey
}

teardown() {
  stubs_no_calls
}

# parse ARGS...: ab_parse_args ARGS in a fresh bash; prints what it decided, one line each.
parse() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" bash -c '
    source "$1"; shift; ab_parse_args "$@"
    printf "base=%s\n" "${AB_SPEC[base]}"
    printf "candidate=%s\n" "${AB_SPEC[candidate]}"
    printf "base files=%s\n" "${AB_FILES_base[*]}"
    printf "candidate files=%s\n" "${AB_FILES_candidate[*]}"
    printf "base sets=%s\n" "${AB_SETS_base[*]}"
    printf "candidate sets=%s\n" "${AB_SETS_candidate[*]}"
    printf "profile=%s\n" "${AB_PROFILE}"
    printf "run args=%s\n" "${AB_RUN_ARGS[*]}"
    printf "databases=%s %s\n" "${AB_DB[base]}" "${AB_DB[candidate]}"
    printf "dataset=%s\n" "${AB_DATASET}"' _ "${KIT}/utils/compare-versions.sh" "$@"
}

# decided NAME: the value parse printed for NAME.
decided() {
  local line
  for line in "${lines[@]}"; do
    [[ "${line}" != "$1="* ]] || { printf '%s\n' "${line#"$1="}"; return 0; }
  done
  echo "nothing printed for $1 in: ${output}" >&2
  return 1
}

@test "two builds: base and candidate as given, any kind" {
  parse --base 1.0.6 --candidate dist/mcp_contextforge_gateway-1.0.7-py3-none-any.whl \
    --profile smoke --scenarios tools --iterations 5
  [ "${status}" -eq 0 ]
  [ "$(decided base)" = 1.0.6 ]
  [ "$(decided candidate)" = dist/mcp_contextforge_gateway-1.0.7-py3-none-any.whl ]
  [ "$(decided profile)" = smoke ]
  [ "$(decided "run args")" = "--scenarios tools --iterations 5" ]
  [ -z "$(decided "candidate sets")" ]
}

@test "settings only: the candidate is the base build" {
  parse --base 1.0.7.post20260921 --candidate-set LOG_LEVEL=DEBUG --candidate-set LOG_REQUESTS=true
  [ "${status}" -eq 0 ]
  [ "$(decided candidate)" = 1.0.7.post20260921 ]
  [ "$(decided "candidate sets")" = "LOG_LEVEL=DEBUG LOG_REQUESTS=true" ]
  [ -z "$(decided "base sets")" ]
  parse --base ../gateway --base-env a.env --candidate-env b.env --base-set X=1
  [ "${status}" -eq 0 ]
  [ "$(decided candidate)" = ../gateway ]
  [ "$(decided "base files")" = a.env ]
  [ "$(decided "candidate files")" = b.env ]
  [ "$(decided "base sets")" = X=1 ]
}

@test "databases only: no build needed, each side its database, the dataset for both" {
  parse --base-database sqlite --candidate-database postgresql --dataset small --tests 'get_*'
  [ "${status}" -eq 0 ]
  [ -z "$(decided base)" ] && [ -z "$(decided candidate)" ] # the configured release, later
  [ "$(decided databases)" = "sqlite postgresql" ]
  [ "$(decided dataset)" = small ]
  [ "$(decided "run args")" = "--dataset small --tests get_*" ]
  parse --base 1.0.7 --candidate-database mysql
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "compare-versions.sh: error: --candidate-database 'mysql': expected sqlite or postgresql" ]
}

@test "a named candidate is kept when settings are given too" {
  parse --base 1.0.6 --candidate 1.0.7 --candidate-env b.env
  [ "$(decided candidate)" = 1.0.7 ]
}

@test "no base, or no candidate and no settings: exit 2 saying what to give" {
  parse --candidate 1.0.7
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == "compare-versions.sh: error: name the base: --base BUILD"* ]]
  parse --base 1.0.7
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == "compare-versions.sh: error: name the candidate (--candidate BUILD), or give the sides different settings"* ]]
  parse --base "" --candidate 1.0.7
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"name the base"* ]]
}

@test "--strict-secrets and --sequential go to the run" {
  parse --base 1.0.7 --candidate-set X=1 --strict-secrets --sequential
  [ "${status}" -eq 0 ]
  [ "$(decided "run args")" = "--strict-secrets --sequential" ]
}

@test "a flag without its value, or an unknown flag: exit 2 naming it" {
  parse --base 1.0.7 --candidate-set
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "compare-versions.sh: error: option --candidate-set needs a value (see --help)" ]
  parse --base 1.0.7 --base-env --candidate-set X=1
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"option --base-env needs a value"* ]]
  parse --base 1.0.7 --candidate-sett X=1
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "compare-versions.sh: error: unknown option '--candidate-sett' (see --help)" ]
}

@test "the script itself: bad arguments are exit 2 with nothing set up or started" {
  local args
  for args in "--base 1.0.7" "--candidate 1.0.7" "--base 1.0.7 --candidate-set" \
    "--base 1.0.7 --candidate-set X=1 --profile nope" "--base 1.0.7 --bogus"; do
    # shellcheck disable=SC2086  # the arguments
    stubs_run utils/compare-versions.sh ${args}
    [ "${status}" -eq 2 ] || { echo "${args}: exit ${status}: ${stderr}"; return 1; }
    [[ "${stderr}" == "compare-versions.sh: error: "* ]] || { echo "${args}: ${stderr}"; return 1; }
    [[ "${stderr}" != *"setup.sh"* ]]
  done
  stubs_nothing_done
}

@test "--help shows the usage" {
  stubs_run utils/compare-versions.sh --help
  [ "${status}" -eq 0 ]
  [[ "${output}" == *"utils/compare-versions.sh --base BUILD [--candidate BUILD]"* ]]
  [[ "${output}" == *"--candidate-set NAME=VALUE"* ]]
}
