#!/usr/bin/env bats
# shellcheck disable=SC2154  # $stderr and $output are set by bats' run
# utils/lib/lib.sh: loopback guard, exit-code table, messages. No gateway needed.

bats_require_minimum_version 1.5.0

setup() {
  KIT="$(cd "${BATS_TEST_DIRNAME}/../.." && pwd)"
  # shellcheck source=utils/lib/lib.sh
  source "${KIT}/utils/lib/lib.sh"
}

@test "perf_is_loopback_url accepts 127.0.0.0/8, localhost and [::1]" {
  local url
  for url in http://127.0.0.1:4444 http://127.0.0.1 https://127.1.2.3:8443/rpc \
    http://localhost:4444/ http://localhost "http://[::1]:4444" "https://[::1]/health"; do
    perf_is_loopback_url "${url}" || { echo "refused: ${url}"; return 1; }
  done
}

@test "perf_is_loopback_url refuses other hosts and look-alikes" {
  local url
  for url in http://10.0.0.1:4444 http://example.com http://192.168.1.2 \
    http://localhost.example.com:4444 http://127.0.0.1.example.com http://127.0.0.1.5 http://evil.com/http://127.0.0.1 \
    ftp://127.0.0.1 127.0.0.1:4444 "http://[::2]:4444" ""; do
    if perf_is_loopback_url "${url}"; then
      echo "accepted: ${url}"
      return 1
    fi
  done
}

@test "lib.sh exit codes agree with perfkit exit-codes" {
  run perf_py exit-codes
  [ "${status}" -eq 0 ]
  [ -n "${output}" ]
  local line name value
  while IFS= read -r line; do
    [[ "${line}" =~ ^readonly\ (PERF_EXIT_[A-Z_]+)=([0-9]+)$ ]] || { echo "odd line: ${line}"; return 1; }
    name="${BASH_REMATCH[1]}"
    value="${BASH_REMATCH[2]}"
    [ "${!name}" = "${value}" ] || { echo "${name}: lib.sh ${!name}, perfkit ${value}"; return 1; }
  done <<<"${output}"
  [ "$(grep -c '^readonly PERF_EXIT_' "${KIT}/utils/lib/lib.sh")" -eq "$(wc -l <<<"${output}")" ]
}

@test "perf_die prints program: error: message on stderr and exits with the code" {
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'PERF_PROG=demo; source "$1"; perf_die 3 "the thing is down; start it"' _ "${KIT}/utils/lib/lib.sh"
  [ "${status}" -eq 3 ]
  [ "${output}" = "" ]
  [ "${stderr}" = "demo: error: the thing is down; start it" ]
}

@test "perf_log is silenced by PERF_QUIET=1, warnings are not" {
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'PERF_PROG=demo PERF_QUIET=1; source "$1"; perf_log hidden; perf_warn shown' _ "${KIT}/utils/lib/lib.sh"
  [ "${status}" -eq 0 ]
  [ "${stderr}" = "demo: warning: shown" ]
}

@test "perf_target_url prefers GATEWAY_URL and drops a trailing slash" {
  PERF_BASE_URL=http://127.0.0.1:4444/
  GATEWAY_URL=""
  [ "$(perf_target_url)" = "http://127.0.0.1:4444" ]
  GATEWAY_URL=http://localhost:5555/
  [ "$(perf_target_url)" = "http://localhost:5555" ]
}

@test "perf_make_fresh_dir creates BASE, then BASE-2, BASE-3, and prints each" {
  local base="${BATS_TEST_TMPDIR}/results/all_1"
  [ "$(perf_make_fresh_dir "${base}")" = "${base}" ]
  [ "$(perf_make_fresh_dir "${base}")" = "${base}-2" ]
  [ "$(perf_make_fresh_dir "${base}")" = "${base}-3" ]
  [ -d "${base}" ] && [ -d "${base}-2" ] && [ -d "${base}-3" ]
}

@test "perf_worst_code, perf_code_stops and perf_code_meaning ask perfkit exit-codes" {
  [ "$(perf_worst_code 0 4 1)" = 4 ]
  [ "$(perf_worst_code)" = 0 ]
  [ "$(perf_worst_code 1 139)" = 4 ]
  [ "$(perf_worst_code 4 3 2 130)" = 130 ]
  perf_code_stops 2
  perf_code_stops 130
  run perf_code_stops 4
  [ "${status}" -eq 1 ]
  [ "$(perf_code_meaning 4)" = "benchmark failed" ]
  [ "$(perf_code_meaning 127)" = "an exit code outside the contract" ]
  run --separate-stderr perf_worst_code 0 x
  [ "${status}" -eq 2 ]
  [[ "${stderr}" == *"'x' is not an exit code"* ]]
}

@test "perf_scenario_script refuses a scenario two scripts declare" {
  local kit="${BATS_TEST_TMPDIR}/kit"
  mkdir -p "${kit}/utils/lib" "${kit}/scenarios"
  cp "${KIT}/utils/lib/lib.sh" "${kit}/utils/lib/"
  printf 'scenario_x() {\n  :\n}\n' >"${kit}/scenarios/a.sh"
  printf 'scenario_x () {\n  :\n}\n' >"${kit}/scenarios/b.sh"
  printf 'scenario_x_y() {\n  :\n}\n' >"${kit}/scenarios/c.sh"
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'PERF_PROG=demo; source "$1"; perf_scenario_script x' _ "${kit}/utils/lib/lib.sh"
  [ "${status}" -eq 2 ]
  [ "${stderr}" = "demo: error: scenario 'x' is declared by 2 scripts (a.sh b.sh); keep one scenario_x()" ]
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'source "$1"; perf_scenario_script x-y' _ "${kit}/utils/lib/lib.sh"
  [ "${status}" -eq 0 ]
  [ "${output}" = "${kit}/scenarios/c.sh" ]
}

@test "perf_check_profile accepts profiles/NAME.env and names the others, as perfkit config does" {
  perf_check_profile smoke
  # shellcheck disable=SC2016  # expanded by the inner bash
  run --separate-stderr bash -c 'PERF_PROG=demo; source "$1"; perf_check_profile "$2"' _ "${KIT}/utils/lib/lib.sh" heavvy
  [ "${status}" -eq 2 ]
  local expected
  expected="$(perf_py config --kit-root "${KIT}" --profile heavvy --format shell 2>&1 >/dev/null)" || true
  [[ "${expected}" == *"profile 'heavvy' not found (have: heavy, light, medium, smoke, soak, spike)"* ]]
  [ "${stderr}" = "demo: error: profile 'heavvy' not found (have: heavy, light, medium, smoke, soak, spike)" ]
  run perf_check_profile ../profiles/smoke
  [ "${status}" -eq 2 ]
}

@test "perf_stop_groups stops several process groups together, KILLing those that ignore TERM" {
  local pids=() pid started elapsed_ms
  setsid sleep 60 &
  pids+=($!)
  for _ in 1 2; do
    setsid bash -c 'trap "" TERM; sleep 60 & wait' &
    pids+=($!)
  done
  sleep 0.3
  started=$(date +%s%N)
  perf_stop_groups 1 "${pids[@]}"
  elapsed_ms=$((($(date +%s%N) - started) / 1000000))
  for pid in "${pids[@]}"; do
    # a KILLed group's orphans may linger as zombies until their new parent reaps them
    if ps -o stat= -g "${pid}" | grep -qv '^Z'; then
      echo "group ${pid} still running"
      return 1
    fi
  done
  # one grace of 1 s for both stubborn groups, not one each
  echo "took ${elapsed_ms} ms"
  ((elapsed_ms >= 900 && elapsed_ms < 1900))
}
