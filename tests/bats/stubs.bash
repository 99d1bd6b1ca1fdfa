# shellcheck shell=bash disable=SC2034  # KIT, STUBS, CALLS are for the test files
# For the bats files that run a script and check that nothing reached the network (`load stubs`):
# recording stand-ins for tools, first on PATH.

# stubs_setup TOOL...: a stub per TOOL in $STUBS that appends its call to $CALLS and exits 7;
# sets KIT (the kit's folder), STUBS and CALLS.
stubs_setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  STUBS="${BATS_TEST_TMPDIR}/bin"
  CALLS="${BATS_TEST_TMPDIR}/calls.log"
  mkdir -p "${STUBS}"
  local tool
  for tool in "$@"; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 7\n' "${tool}" "${CALLS}" >"${STUBS}/${tool}"
    chmod +x "${STUBS}/${tool}"
  done
}

# stubs_no_calls: fails, listing them, when any stub was called.
stubs_no_calls() {
  [ ! -e "${CALLS}" ] || { cat "${CALLS}"; return 1; }
}

# stubs_run SCRIPT ARGS...: bats' run (stderr apart) of the kit's SCRIPT in a clean environment:
# the stubs first on PATH, PERF_MANAGE=never (no local stack is started even by mistake) and
# results in the test's folder.
stubs_run() {
  local script="$1"
  shift
  run --separate-stderr env -i PATH="${STUBS}:/usr/bin:/bin" HOME="${HOME}" PERF_MANAGE=never \
    PERF_RESULTS_DIR="${BATS_TEST_TMPDIR}/results" "${KIT}/${script}" "$@"
}

# stubs_nothing_done: no stub was called and no results folder was made.
stubs_nothing_done() {
  stubs_no_calls
  [ ! -e "${BATS_TEST_TMPDIR}/results" ]
}

PERF_PY_CALLS="${BATS_TEST_TMPDIR}/perf_py.log"

# stubs_spy_perf_py: for a test that sourced a runner: every perf_py call is appended to
# $PERF_PY_CALLS (emptied first); `exit-codes` commands (the exit-code rule) run for real,
# every other command does nothing and succeeds.
stubs_spy_perf_py() {
  : >"${PERF_PY_CALLS}"
  eval "stubs_real_$(declare -f perf_py)"
  # shellcheck disable=SC2317  # called by the sourced runner's functions
  perf_py() {
    printf '%s\n' "$*" >>"${PERF_PY_CALLS}"
    [[ "$1" != exit-codes ]] || stubs_real_perf_py "$@"
  }
}

# stubs_perf_py_called LINE: fails, listing the calls, unless perf_py was called with exactly LINE.
stubs_perf_py_called() {
  grep -qxF -- "$1" "${PERF_PY_CALLS}" || { echo "no 'perf_py $1' in:"; cat "${PERF_PY_CALLS}"; return 1; }
}
