"""The kit's exit codes: one definition, mirrored in utils/lib.sh and documented in README.md."""

from __future__ import annotations

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


# What each code means, as the reports say it (run-all.sh: all_code_meaning says the same).
MEANING: dict[int, str] = {
    ExitCode.OK: "all good",
    ExitCode.REGRESSION: "performance regression, SLO breach or failed comparison",
    ExitCode.USAGE: "usage or configuration error (or a bad baseline)",
    ExitCode.ENV_NOT_READY: "environment not ready",
    ExitCode.BENCHMARK_FAILED: "benchmark failed",
    ExitCode.INTERRUPTED: "interrupted",
}
