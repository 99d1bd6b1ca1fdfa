"""The kit's exit codes: one definition, mirrored in utils/lib/lib.sh and documented in README.md.

Also the one rule for combining them (README.md, "Exit codes"): when a command runs several
steps, its exit code is the worst of theirs (`worst`), and some codes stop a sequence (`stops`).
The shell asks through `perfkit exit-codes worst|stops|meaning` (utils/lib/lib.sh: perf_worst_code,
perf_code_stops, perf_code_meaning).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    REGRESSION = 1  # performance regression or SLO breach
    USAGE = 2  # usage or configuration error
    ENV_NOT_READY = 3  # missing tool, service down, auth failed
    BENCHMARK_FAILED = 4  # errors above threshold, invalid responses
    INTERRUPTED = 130  # Ctrl+C or a kill


class KitError(Exception):
    """An error the user can act on: a message naming problem, value and fix, and an exit code."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


# What each code means, as the reports say it.
MEANING: dict[int, str] = {
    ExitCode.OK: "all good",
    ExitCode.REGRESSION: "performance regression, SLO breach or failed comparison",
    ExitCode.USAGE: "usage or configuration error (or a bad baseline)",
    ExitCode.ENV_NOT_READY: "environment not ready",
    ExitCode.BENCHMARK_FAILED: "benchmark failed",
    ExitCode.INTERRUPTED: "interrupted",
}
OUTSIDE_CONTRACT = "an exit code outside the contract"

# The codes from the one that says least to the one that says most: an interrupt, then a
# configuration problem, then an environment problem, then a failed benchmark, then a regression.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.OK,
    ExitCode.REGRESSION,
    ExitCode.BENCHMARK_FAILED,
    ExitCode.ENV_NOT_READY,
    ExitCode.USAGE,
    ExitCode.INTERRUPTED,
)
# A configuration or environment problem concerns every later step; Ctrl+C means stop.
STOPPING = frozenset({ExitCode.USAGE, ExitCode.ENV_NOT_READY, ExitCode.INTERRUPTED})


def in_contract(code: int) -> ExitCode:
    """The code as the contract knows it: one outside it (a crash's 127 or 139) is a failed
    benchmark."""
    try:
        return ExitCode(code)
    except ValueError:
        return ExitCode.BENCHMARK_FAILED


def worst(codes: Iterable[int]) -> ExitCode:
    """The code that says most of several steps' codes: 130 > 2 > 3 > 4 > 1 > 0; none is 0."""
    return max(map(in_contract, codes), key=SEVERITY.index, default=ExitCode.OK)


def stops(code: int) -> bool:
    """Whether a step ending with `code` stops a sequence of steps (2, 3, 130)."""
    return code in STOPPING


def meaning(code: int) -> str:
    return MEANING.get(code, OUTSIDE_CONTRACT)


# --- perfkit exit-codes ---------------------------------------------------------------------

USAGE = """usage: perfkit exit-codes                  the codes as utils/lib/lib.sh's shell constants
       perfkit exit-codes worst CODE...   print the code that says most (none: 0)
       perfkit exit-codes stops CODE      exit 0 if CODE stops a sequence of steps, else 1
       perfkit exit-codes meaning CODE    print what CODE means"""


def shell_constants() -> list[str]:
    return [f"readonly PERF_EXIT_{code.name}={int(code)}" for code in ExitCode]


def parse_codes(action: str, args: list[str]) -> list[int]:
    bad = [arg for arg in args if not arg.isascii() or not arg.isdigit()]
    if bad:
        raise KitError(
            f"{action}: '{bad[0]}' is not an exit code (a whole number)",
            ExitCode.USAGE,
        )
    if action != "worst" and len(args) != 1:
        raise KitError(
            f"{action} takes one exit code, got {len(args)}\n{USAGE}", ExitCode.USAGE
        )
    return [int(arg) for arg in args]


def run(argv: list[str]) -> int:
    if not argv:
        print("\n".join(shell_constants()))
        return ExitCode.OK
    action, args = argv[0], argv[1:]
    if action in {"-h", "--help"}:
        print(USAGE)
        return ExitCode.OK
    if action not in {"worst", "stops", "meaning"}:
        raise KitError(f"unknown action '{action}'\n{USAGE}", ExitCode.USAGE)
    codes = parse_codes(action, args)
    if action == "stops":
        return ExitCode.OK if stops(codes[0]) else 1
    print(int(worst(codes)) if action == "worst" else meaning(codes[0]))
    return ExitCode.OK


def cli(argv: list[str]) -> int:
    """`perfkit exit-codes [worst CODE... | stops CODE | meaning CODE]`."""
    try:
        return int(run(argv))
    except KitError as exc:
        print(f"perfkit exit-codes: error: {exc}", file=sys.stderr)
        return int(exc.code)
