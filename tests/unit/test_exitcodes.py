"""The exit-code contract: utils/perfkit/exitcodes.py and the readonly PERF_EXIT_* constants of
utils/lib/lib.sh must name the same codes with the same numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import SEVERITY, ExitCode, meaning, stops, worst

LIB = Path(__file__).resolve().parents[2] / "utils" / "lib" / "lib.sh"
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


# --- combining codes: worst, stops, meaning (README.md, "Exit codes") ---------------------

WORST_CASES = [
    ([], 0),
    ([0], 0),
    ([0, 0, 0], 0),
    ([0, 1, 0], 1),
    ([1, 4, 0], 4),
    ([4, 1], 4),
    ([1, 4], 4),
    ([4, 3], 3),
    ([3, 4], 3),
    ([2, 3], 2),
    ([3, 2], 2),
    ([130, 2], 130),
    ([2, 130], 130),
    ([0, 1, 4, 3, 2, 130], 130),
    ([0, 127], 4),  # a crash: command not found
    ([1, 139, 0], 4),  # a crash: segmentation fault
    ([139], 4),
    ([2, 139], 2),
    ([139, 3], 3),
    ([130, 141], 130),
    ([0, 1, 255], 4),
]


@pytest.mark.parametrize(("codes", "expected"), WORST_CASES)
def test_worst(codes: list[int], expected: int) -> None:
    assert worst(codes) == expected
    # the order the steps ran in does not matter
    assert worst(reversed(codes)) == expected


def test_worst_reports_a_code_outside_the_contract_as_a_failed_benchmark() -> None:
    assert worst([127]) is ExitCode.BENCHMARK_FAILED


def test_severity_orders_every_code_once() -> None:
    assert sorted(SEVERITY) == sorted(ExitCode)
    assert [int(c) for c in SEVERITY] == [0, 1, 4, 3, 2, 130]


@pytest.mark.parametrize(
    ("code", "expected"),
    [(0, False), (1, False), (2, True), (3, True), (4, False), (130, True), (9, False)],
)
def test_stops(code: int, expected: bool) -> None:
    assert stops(code) is expected


def test_every_stopping_code_outranks_every_other() -> None:
    """Why run-all's old rule ("the first stopping code, else 4 > 1 > 0") is worst() of the
    codes that ran: it stops at the first stopping code, and that code outranks the rest."""
    for stopping in [c for c in ExitCode if stops(c)]:
        for other in [c for c in ExitCode if not stops(c)] + [127]:
            assert worst([other, stopping]) == stopping


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, "all good"),
        (1, "performance regression, SLO breach or failed comparison"),
        (2, "usage or configuration error (or a bad baseline)"),
        (3, "environment not ready"),
        (4, "benchmark failed"),
        (130, "interrupted"),
        (127, "an exit code outside the contract"),
        (5, "an exit code outside the contract"),
    ],
)
def test_meaning(code: int, expected: str) -> None:
    assert meaning(code) == expected


@pytest.mark.parametrize(
    ("argv", "code", "out"),
    [
        (["worst", "0", "4", "1"], 0, "4\n"),
        (["worst"], 0, "0\n"),
        (["worst", "1", "139"], 0, "4\n"),
        (["worst", "4", "130", "2"], 0, "130\n"),
        (["meaning", "4"], 0, "benchmark failed\n"),
        (["meaning", "127"], 0, "an exit code outside the contract\n"),
        (["stops", "2"], 0, ""),
        (["stops", "130"], 0, ""),
        (["stops", "4"], 1, ""),
        (["stops", "0"], 1, ""),
    ],
)
def test_exit_codes_command(
    argv: list[str], code: int, out: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exit-codes", *argv]) == code
    assert capsys.readouterr().out == out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["worst", "0", "x"], "'x' is not an exit code"),
        (["worst", "-1"], "'-1' is not an exit code"),
        (["meaning", "4.0"], "'4.0' is not an exit code"),
        (["stops"], "stops takes one exit code, got 0"),
        (["meaning", "1", "2"], "meaning takes one exit code, got 2"),
        (["worse", "1"], "unknown action 'worse'"),
    ],
)
def test_exit_codes_command_refuses_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exit-codes", *argv]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("perfkit exit-codes: error: ")
    assert message in captured.err


def test_a_crash_in_a_command_is_exit_4_never_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python exits 1 on a traceback, and 1 means regression: a bug must not read as one."""
    import perfkit.trend
    from perfkit.cli import main

    def crash(argv: list[str]) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(perfkit.trend, "cli", crash)
    assert main(["trend"]) == 4
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "perfkit trend: error: internal error" in err
