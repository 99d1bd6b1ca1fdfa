#!/usr/bin/env bash
# Install what the kit needs and is missing: OS tools (hey, curl, GNU time; with --dev also
# ShellCheck, bats, jq, Chromium for the report test and the PostgreSQL client for the database
# tests) from Debian packages when running as root, and the Python venv.
#
#   utils/setup.sh [--dev]
# Not root and a tool missing: prints the exact command to run and exits 3.
set -euo pipefail

# shellcheck source=utils/lib/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/lib.sh"

# setup_os_packages PKG:CMD...: install the Debian packages whose command is missing.
setup_os_packages() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
  done
  ((${#missing[@]})) || return 0
  if [[ "$(id -u)" != 0 ]]; then
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "missing: ${missing[*]}; install with: sudo apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "missing: ${missing[*]}, and no apt-get here; install them with your package manager"
  perf_log "installing ${missing[*]} (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
      perf_die "${PERF_EXIT_ENV_NOT_READY}" "apt-get could not install ${missing[*]}"
  fi
}

# setup_venv REQUIREMENTS: create .state/venv and install REQUIREMENTS unless already done.
setup_venv() {
  local requirements="$1" stamp want
  stamp="${PERF_VENV}/.kit-requirements"
  want="$(cat "${PERF_KIT_ROOT}/utils/pins/requirements.txt" "${requirements}" | sha256sum | cut -d' ' -f1)"
  if [[ -x "${PERF_VENV}/bin/python" && -f "${stamp}" ]] && grep -qx "${want}" "${stamp}"; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || perf_die "${PERF_EXIT_ENV_NOT_READY}" "python3 not found; install Python 3.11-3.13"
  perf_log "installing Python dependencies into ${PERF_VENV} (from $(basename "${requirements}"))"
  [[ -x "${PERF_VENV}/bin/python" ]] || python3 -m venv "${PERF_VENV}" || {
    rm -rf "${PERF_VENV}"
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "python3 -m venv ${PERF_VENV} failed (see above); install Python's venv module (apt-get install -y python3-venv)"
  }
  # (this machine's pip.conf names local mirrors that lack some packages: pip warns per package)
  "${PERF_VENV}/bin/pip" install -q --disable-pip-version-check -r "${requirements}" \
    2> >(grep -v '^WARNING: Location .* is ignored' >&2) ||
    perf_die "${PERF_EXIT_ENV_NOT_READY}" "pip could not install ${requirements}; see the messages above"
  printf '%s\n' "${want}" >>"${stamp}"
  # the dev requirements include the runtime ones: a dev venv satisfies both
  cat "${PERF_KIT_ROOT}/utils/pins/requirements.txt" "${PERF_KIT_ROOT}/utils/pins/requirements.txt" | sha256sum | cut -d' ' -f1 >>"${stamp}"
}

setup_main() {
  local dev=0
  case "${1:-}" in
    --dev) dev=1 ;;
    "") ;;
    *) perf_die "${PERF_EXIT_USAGE}" "unknown option '$1' (use --dev for the test tools)" ;;
  esac
  setup_os_packages hey:hey curl:curl time:/usr/bin/time
  if ((dev)); then
    setup_os_packages shellcheck:shellcheck bats:bats jq:jq chromium:chromium postgresql-client:psql
    setup_venv "${PERF_KIT_ROOT}/utils/pins/requirements-dev.txt"
  else
    setup_venv "${PERF_KIT_ROOT}/utils/pins/requirements.txt"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  setup_main "$@"
fi
