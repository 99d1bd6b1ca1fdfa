"""The machine's speed, measured in the run: a fixed piece of CPU-bound Python work, timed
between tests (`perfkit speed-reference`, run by bench-lib before each test's rounds).

Why: against a stored baseline, every test of a job can sit 10-25% off the baseline's with
nothing changed (docs/verdicts.md, "Across jobs") - most of it one offset shared by all the
job's tests, as if the machine itself were slower in that job. If the gateway's slowness in a
job follows the speed of this reference (same interpreter work, on the same cores, in the same
minutes), the reference can state it and the history can discount it; whether it does is
measured by `make calibrate-jobs` (perfkit.calibration.jobs: the history's spread with and
without it), not assumed.

The work is the kind a Python web service does for a request - build a nested object, encode
and decode it as JSON, match text with a regular expression, hash bytes, sort and format -
and it is the same in every release of the kit that keeps WORKLOAD's name: a change to the work
must change the name, since references of two workloads are not comparable.

raw/<test>/speed-reference.json: {"workload", "wall_ms": [...], "cpu_ms": [...]} - one value a
repeat; wall time holds what the process waited for the CPU (another process, another VM),
CPU time does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError

WORKLOAD = "python-request-v1"
FILE = "speed-reference.json"
DEFAULT_REPEAT = 7
_WORDS = re.compile(r"[a-z]+_(\d+)")


def unit_of_work() -> int:
    """One unit (~10 ms on this 2-core VM): deterministic, no I/O, no allocation that grows."""
    checksum = 0
    for round_ in range(120):
        items = [
            {
                "id": f"tool_{round_}_{i}",
                "name": f"get_time_{i}",
                "tags": [f"tag_{j}" for j in range(i % 5)],
                "schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
                "enabled": i % 3 != 0,
            }
            for i in range(25)
        ]
        text = json.dumps({"tools": items}, sort_keys=True)
        decoded = json.loads(text)
        names = sorted(t["name"] for t in decoded["tools"] if t["enabled"])
        checksum += sum(int(m) for m in _WORDS.findall(" ".join(names)))
        checksum += hashlib.sha256(text.encode()).digest()[0]
        checksum += len("|".join(f"{n}:{len(n)}" for n in names))
    return checksum


def measure(repeat: int) -> dict[str, Any]:
    """`repeat` units, each timed on the wall clock and in this process's CPU time."""
    unit_of_work()  # first-call costs (imports, caches) are not the machine's speed
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        unit_of_work()
        wall.append(round((time.perf_counter() - w0) * 1000, 3))
        cpu.append(round((time.process_time() - c0) * 1000, 3))
    return {"workload": WORKLOAD, "wall_ms": wall, "cpu_ms": cpu}


def for_summary(run_dir: Path) -> dict[str, Any] | None:
    """The run's machine speed: the median over every repeat of every test's reference (of
    this kit's workload; others are left out), or None when the run measured none."""
    wall: list[float] = []
    cpu: list[float] = []
    measured = 0
    for path in sorted((run_dir / "raw").glob(f"*/*/{FILE}")) + sorted(
        (run_dir / "raw").glob(f"*/{FILE}")
    ):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or data.get("workload") != WORKLOAD:
            continue
        wall += [float(v) for v in data.get("wall_ms") or []]
        cpu += [float(v) for v in data.get("cpu_ms") or []]
        measured += 1
    if not wall:
        return None
    return {
        "workload": WORKLOAD,
        "measurements": measured,
        "repeats": len(wall),
        "wall_ms": round(statistics.median(wall), 3),
        "cpu_ms": round(statistics.median(cpu), 3) if cpu else None,
    }


def speed_of(summary_machine_speed: dict[str, Any] | None) -> float | None:
    """The wall time of one unit (ms) from summary.json's `machine_speed`, if of this
    workload."""
    data = summary_machine_speed or {}
    if data.get("workload") != WORKLOAD or not data.get("wall_ms"):
        return None
    return float(data["wall_ms"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfkit speed-reference",
        description="time a fixed piece of CPU-bound Python work (the machine's speed)",
    )
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument(
        "--out", type=Path, help=f"write the JSON here (a test's raw/<id>/{FILE})"
    )
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.repeat <= 100:
        raise KitError(f"--repeat {args.repeat}: 1 to 100", ExitCode.USAGE)
    text = json.dumps(measure(args.repeat)) + "\n"
    if args.out:
        write_text_atomic(args.out, text)
    else:
        print(text, end="")
    return 0
