"""runs.json of a run-all.sh folder (results/all_<stamp>/): which profiles were asked for, and
for each one that ran its run folder, exit code and wall time; the overall exit code.

`perfkit run-all-record ALL_DIR --profiles P... --started-at ISO --exit-code N
[--run PROFILE CODE RUN_DIR|- WALL_S]... [--partial]` writes it (run-all.sh calls this once, at
the end or on Ctrl+C); perfkit.report.master_page reads it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import load_versioned, malformed

SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
RUNS_FILE = "runs.json"


@dataclass
class ProfileRun:
    profile: str
    exit_code: int
    run_dir: str | None  # relative to the all_ folder; None: the run made no folder
    log: str | None  # the run's output, relative to the all_ folder
    wall_s: float | None


@dataclass
class AllRuns:
    profiles: list[str]  # asked for, in order
    scenarios: str | None  # --scenarios, None: each profile's own
    baseline_mode: str | None  # --baseline, None: each profile's own
    started_at: str
    finished_at: str
    status: str  # complete | partial (interrupted, or stopped before every profile ran)
    interrupted: bool
    exit_code: int
    runs: list[ProfileRun] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    def not_run(self) -> list[str]:
        ran = {r.profile for r in self.runs}
        return [p for p in self.profiles if p not in ran]


def relative(all_dir: Path, path: str) -> str:
    """PATH as seen from the all_ folder (run folders are normally its siblings)."""
    return os.path.relpath(Path(path).resolve(), all_dir.resolve())


def profile_run(all_dir: Path, values: list[str]) -> ProfileRun:
    profile, code, run_dir, wall = values
    try:
        exit_code, wall_s = int(code), float(wall)
    except ValueError:
        raise KitError(
            f"--run {' '.join(values)}: want PROFILE CODE RUN_DIR|- WALL_S (numbers)",
            ExitCode.USAGE,
        ) from None
    log = all_dir / f"{profile}.log"
    return ProfileRun(
        profile=profile,
        exit_code=exit_code,
        run_dir=None if run_dir == "-" else relative(all_dir, run_dir),
        log=log.name if log.is_file() else None,
        wall_s=wall_s,
    )


def read_runs(all_dir: Path) -> AllRuns:
    """runs.json of ALL_DIR; an unknown schema version is refused."""
    path = all_dir / RUNS_FILE
    data = load_versioned(path, RUNS_FILE, READABLE_VERSIONS, "run-all.sh writes it")
    data.pop("schema_version")
    try:
        runs = [ProfileRun(**r) for r in data.pop("runs")]
        return AllRuns(**data, runs=runs)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed(path, RUNS_FILE, exc) from None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="perfkit run-all-record", description=__doc__)
    parser.add_argument("all_dir", type=Path, help="the results/all_<stamp>/ folder")
    parser.add_argument("--profiles", nargs="+", required=True)
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--baseline-mode", default="")
    parser.add_argument("--started-at", required=True, help="ISO 8601")
    parser.add_argument("--exit-code", type=int, required=True)
    parser.add_argument(
        "--run",
        nargs=4,
        action="append",
        default=[],
        metavar=("PROFILE", "CODE", "RUN_DIR", "WALL_S"),
        help="one profile that ran; RUN_DIR - when it made no run folder",
    )
    parser.add_argument("--partial", action="store_true", help="interrupted")
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.all_dir.is_dir():
        raise KitError(f"folder '{args.all_dir}' not found", ExitCode.USAGE)
    try:
        started_at = datetime.fromisoformat(args.started_at)
    except ValueError:
        raise KitError(
            f"--started-at '{args.started_at}' is not an ISO 8601 time", ExitCode.USAGE
        ) from None
    runs = [profile_run(args.all_dir, values) for values in args.run]
    everything_ran = [r.profile for r in runs] == args.profiles
    record = AllRuns(
        profiles=args.profiles,
        scenarios=args.scenarios or None,
        baseline_mode=args.baseline_mode or None,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        status="complete" if everything_ran and not args.partial else "partial",
        interrupted=args.partial,
        exit_code=args.exit_code,
        runs=runs,
    )
    write_json_atomic(args.all_dir / RUNS_FILE, record.to_dict())
    return 0
