"""Resource use behind a run, from RUN_DIR/resources.jsonl (written by `perfkit monitor`),
as chart series (data only, no drawing).

Each line is one JSON sample: a timestamp (`timestamp`/`ts`/`time`, epoch seconds or ISO 8601),
per-role process stats (`gateway`, `mcp_servers`, `generator`: top level or under `processes`
or `roles`, a dict or a list of per-process dicts, with `cpu_percent` and `rss_bytes`), `host`
(`cpu_percent`, `mem_percent`) and DB connections (`db_connections`, or `postgres.connections`).
Read defensively: a missing key leaves a gap, an unreadable line is skipped and counted, and
nothing is ever made up.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

MAX_RESOURCE_POINTS = 400  # longer series are thinned by striding
ROLES = ("gateway", "mcp_servers", "generator")


@dataclass
class ResourceSeries:
    label: str
    unit: str  # "%", "MiB", "connections"
    times_s: list[float]  # seconds after the first sample
    values: list[float]


@dataclass
class Resources:
    samples: int
    skipped_lines: int
    duration_s: float
    cpu: list[ResourceSeries] = field(default_factory=list)
    memory: list[ResourceSeries] = field(default_factory=list)
    extra: list[ResourceSeries] = field(default_factory=list)  # one small chart each


def _timestamp(sample: dict[str, Any]) -> float | None:
    for key in ("timestamp", "ts", "time", "t", "at"):
        value = sample.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                continue
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _role_stats(sample: dict[str, Any], role: str) -> dict[str, Any] | None:
    """A role's stats: top level, or under processes/roles; a list of processes is summed."""
    for holder in (sample, sample.get("processes"), sample.get("roles")):
        if isinstance(holder, dict) and role in holder:
            value = holder[role]
            if isinstance(value, list):
                items = [v for v in value if isinstance(v, dict)]
                return {k: _sum(items, k) for k in ("cpu_percent", "rss_bytes")}
            return value if isinstance(value, dict) else None
    return None


def _sum(items: list[dict[str, Any]], key: str) -> float | None:
    values = [_number(item.get(key)) for item in items]
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _db_connections(sample: dict[str, Any]) -> float | None:
    direct = _number(sample.get("db_connections"))
    if direct is not None:
        return direct
    for key in ("postgres", "db", "database"):
        block = sample.get(key)
        if isinstance(block, dict):
            value = _number(block.get("connections"))
            if value is not None:
                return value
    return None


def read_samples(path: Path) -> tuple[list[tuple[float, dict[str, Any]]], int]:
    """(timestamp, sample) pairs in time order, and how many lines could not be used."""
    samples, skipped = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            sample = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        stamp = _timestamp(sample) if isinstance(sample, dict) else None
        if stamp is None:
            skipped += 1
            continue
        samples.append((stamp, sample))
    samples.sort(key=lambda pair: pair[0])
    return samples, skipped


def _series(
    samples: list[tuple[float, dict[str, Any]]], label: str, unit: str, pick: Any
) -> ResourceSeries | None:
    start = samples[0][0]
    times, values = [], []
    for stamp, sample in samples:
        value = pick(sample)
        if value is not None:
            times.append(round(stamp - start, 3))
            values.append(round(value, 3))
    step = max(1, math.ceil(len(values) / MAX_RESOURCE_POINTS))
    if not values:
        return None
    return ResourceSeries(label, unit, times[::step], values[::step])


def _role_value(role: str, key: str, scale: float = 1.0) -> Any:
    def pick(sample: dict[str, Any]) -> float | None:
        stats = _role_stats(sample, role)
        value = _number(stats.get(key)) if stats else None
        return value * scale if value is not None else None

    return pick


def _host_value(*keys: str) -> Any:
    def pick(sample: dict[str, Any]) -> float | None:
        host = sample.get("host")
        if not isinstance(host, dict):
            return None
        for key in keys:
            value = _number(host.get(key))
            if value is not None:
                return value
        return None

    return pick


def resources(run_dir: Path) -> Resources | None:
    """The run's resource samples as chart series; None when resources.jsonl is absent."""
    path = run_dir / "resources.jsonl"
    if not path.is_file():
        return None
    samples, skipped = read_samples(path)
    if not samples:
        return Resources(0, skipped, 0.0)
    mib = 1.0 / (1024 * 1024)
    cpu = [_series(samples, r, "%", _role_value(r, "cpu_percent")) for r in ROLES]
    cpu.append(_series(samples, "host", "%", _host_value("cpu_percent")))
    memory = [
        _series(samples, r, "MiB", _role_value(r, "rss_bytes", mib)) for r in ROLES
    ]
    host_mem = _host_value("mem_percent", "memory_percent")
    extra = [
        _series(samples, "host memory", "%", host_mem),
        _series(samples, "DB connections", "connections", _db_connections),
    ]
    return Resources(
        samples=len(samples),
        skipped_lines=skipped,
        duration_s=round(samples[-1][0] - samples[0][0], 3),
        cpu=[s for s in cpu if s],
        memory=[s for s in memory if s],
        extra=[s for s in extra if s],
    )
