"""The exit-code contract: utils/perfkit/exitcodes.py and the readonly PERF_EXIT_* constants of
utils/lib.sh must name the same codes with the same numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import ExitCode

LIB = Path(__file__).resolve().parents[2] / "utils" / "lib.sh"
PYTHON_CODES = {f"PERF_EXIT_{code.name}": int(code) for code in ExitCode}


def test_lib_sh_text_matches_the_enum() -> None:
    pairs = re.findall(
        r"^readonly (PERF_EXIT_[A-Z_]+)=(\d+)$", LIB.read_text(), re.MULTILINE
    )
    assert {name: int(value) for name, value in pairs} == PYTHON_CODES
    assert len(pairs) == len(PYTHON_CODES)  # none defined twice


def test_lib_sh_as_bash_sees_it() -> None:
    names = " ".join(PYTHON_CODES)
    script = f'source "$1"; for n in {names}; do printf "%s=%s\\n" "$n" "${{!n}}"; done'
    out = subprocess.run(
        ["bash", "-c", script, "bash", str(LIB)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    seen = dict(line.split("=") for line in out.splitlines())
    assert {name: int(value) for name, value in seen.items()} == PYTHON_CODES


def test_exit_codes_command_prints_the_lib_sh_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["exit-codes"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed and set(printed) <= set(LIB.read_text().splitlines())
