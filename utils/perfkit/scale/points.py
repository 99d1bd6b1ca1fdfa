"""advanced.json: what run-advanced.sh was asked to measure (profile, server counts,
databases, sweep, pool) and one point per database and server count it measured or attempted.
This module owns the file: its name, its schema versions and its one loader.

Schema versions of advanced.json:
  1 - settings and points (database, servers, run, exit_code, added_at)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object

SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
POINTS_FILE = "advanced.json"
DATABASES = ("sqlite", "postgresql")
MODES = ("local", "docker")


@dataclass
class Point:
    """One measured (or attempted) database and server count."""

    database: str
    servers: int
    run: str | None  # run folder relative to ADV_DIR; None: the run left no folder
    exit_code: int
    added_at: str


@dataclass
class Advanced:
    """advanced.json: what run-advanced.sh was asked to measure, and what it measured."""

    profile: str
    mode: str
    servers: list[int]
    databases: list[str]
    sweep: list[int]
    p95_slo_ms: float
    pool_size: int
    max_overflow: int
    started_at: str
    points: list[Point] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @property
    def pool_capacity(self) -> int:
        """Connections the gateway may hold: DB_POOL_SIZE + DB_MAX_OVERFLOW."""
        return self.pool_size + self.max_overflow


def _bad(path: Path, problem: str) -> KitError:
    return KitError(
        f"{path}: {problem} (fix or remove the file; `perfkit advanced init` writes a new one)",
        ExitCode.USAGE,
    )


def _point(path: Path, n: int, raw: Any) -> Point:
    try:
        point = Point(
            database=str(raw["database"]),
            servers=int(raw["servers"]),
            run=str(raw["run"]) if raw.get("run") else None,
            exit_code=int(raw["exit_code"]),
            added_at=str(raw.get("added_at", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(path, f"point {n} is not a point ({exc!r})") from None
    if point.database not in DATABASES or point.servers < 1:
        raise _bad(
            path,
            f"point {n} names database {point.database!r}, {point.servers} servers",
        )
    return point


def load(adv_dir: Path) -> Advanced:
    """advanced.json read and checked: a missing, corrupt or unknown-version file is refused."""
    path = adv_dir / POINTS_FILE
    fix = "fix or remove the file; `perfkit advanced init` writes a new one"
    hint = f"is {adv_dir} a run-advanced.sh results folder? `perfkit advanced init` creates it"
    data = read_object(path, POINTS_FILE, hint, fix)
    check_version(path, data, READABLE_VERSIONS, fix)
    try:
        advanced = Advanced(
            profile=str(data["profile"]),
            mode=str(data["mode"]),
            servers=[int(n) for n in data["servers"]],
            databases=[str(d) for d in data["databases"]],
            sweep=[int(n) for n in data["sweep"]],
            p95_slo_ms=float(data["p95_slo_ms"]),
            pool_size=int(data["pool_size"]),
            max_overflow=int(data["max_overflow"]),
            started_at=str(data["started_at"]),
        )
        points = data["points"]
        if not isinstance(points, list):
            raise TypeError("points is not a list")
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(
            path, f"a setting is missing or has the wrong type ({exc!r})"
        ) from None
    advanced.points = [_point(path, n, raw) for n, raw in enumerate(points, start=1)]
    return advanced


def save(adv_dir: Path, advanced: Advanced) -> None:
    data = asdict(advanced)
    data = {"schema_version": data.pop("schema_version"), **data}
    write_json_atomic(adv_dir / POINTS_FILE, data)
