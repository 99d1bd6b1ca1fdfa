"""What both detection checks share: rates with intervals that stay honest at 0 of n and n of
n, and the result file they write (never over an existing one) and read back.

Schema versions of the result file:
  1 - started_at, finished_at, wall_s, settings (NAME -> VALUE), kinds, trials; calibrate-jobs
      adds fewer_rounds (2026-12-02) and included (the earlier results it counts)
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.clock import iso_seconds
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import load_versioned, malformed

SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion: honest at 0/n and n/n, unlike p +- z*se."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate_text(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def write_result(
    output: Path,
    started_at: float,
    settings: list[str],
    kinds: list[Any],
    trials: list[Any],
    extra: dict[str, Any] | None = None,
) -> float:
    """The result JSON (settings as NAME=VALUE, one entry per kind, every trial, and `extra`'s
    keys); the wall time since `started_at`. An existing file is never overwritten (exit 2)."""
    wall_s = time.time() - started_at
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "started_at": iso_seconds(started_at),
        "finished_at": iso_seconds(time.time()),
        "wall_s": round(wall_s, 1),
        "settings": dict(s.split("=", 1) for s in settings),
        "kinds": kinds,
        "trials": trials,
        **(extra or {}),
    }
    if output.exists():
        raise KitError(f"{output} exists; not overwriting it", ExitCode.USAGE)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(output, document)
    return wall_s


def load_result(path: Path) -> dict[str, Any]:
    """An earlier result file: its settings (NAME -> VALUE) and its trials (a list of objects)."""
    data = load_versioned(path, "calibration result", READABLE_VERSIONS)
    if not isinstance(data.get("settings"), dict) or not isinstance(
        data.get("trials"), list
    ):
        raise malformed(path, "calibration result", ValueError("no settings or trials"))
    return data
