"""Resource use behind a run, as chart series (data only, no drawing), from the samples of
`perfkit monitor` (loaded by perfkit.monitor.sampler, which owns resources.jsonl): per role
(gateway, mcp_servers, generator) CPU and resident memory, the host's CPU and memory, and
PostgreSQL connections. A value a sample lacks leaves a gap; nothing is ever made up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.monitor.sampler import load_samples

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


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _role_stats(sample: dict[str, Any], role: str) -> dict[str, Any] | None:
    stats = sample["processes"].get(role)
    return stats if isinstance(stats, dict) else None


def _db_connections(sample: dict[str, Any]) -> float | None:
    postgres = sample.get("postgres")
    return _finite(postgres.get("connections")) if isinstance(postgres, dict) else None


def _series(
    samples: list[dict[str, Any]], label: str, unit: str, pick: Any
) -> ResourceSeries | None:
    start = float(samples[0]["t"])
    times, values = [], []
    for sample in samples:
        value = pick(sample)
        if value is not None:
            times.append(round(float(sample["t"]) - start, 3))
            values.append(round(value, 3))
    step = max(1, math.ceil(len(values) / MAX_RESOURCE_POINTS))
    if not values:
        return None
    return ResourceSeries(label, unit, times[::step], values[::step])


def _role_value(role: str, key: str, scale: float = 1.0) -> Any:
    def pick(sample: dict[str, Any]) -> float | None:
        stats = _role_stats(sample, role)
        value = _finite(stats.get(key)) if stats else None
        return value * scale if value is not None else None

    return pick


def _host_value(key: str) -> Any:
    def pick(sample: dict[str, Any]) -> float | None:
        return _finite(sample["host"].get(key))

    return pick


def resources(run_dir: Path) -> Resources | None:
    """The run's resource samples as chart series; None when the run recorded none."""
    loaded = load_samples(run_dir)
    if loaded is None:
        return None
    samples, skipped = loaded
    if not samples:
        return Resources(0, skipped, 0.0)
    mib = 1.0 / (1024 * 1024)
    cpu = [_series(samples, r, "%", _role_value(r, "cpu_percent")) for r in ROLES]
    cpu.append(_series(samples, "host", "%", _host_value("cpu_percent")))
    memory = [
        _series(samples, r, "MiB", _role_value(r, "rss_bytes", mib)) for r in ROLES
    ]
    host_mem = _host_value("mem_percent")
    extra = [
        _series(samples, "host memory", "%", host_mem),
        _series(samples, "DB connections", "connections", _db_connections),
    ]
    return Resources(
        samples=len(samples),
        skipped_lines=skipped,
        duration_s=round(float(samples[-1]["t"]) - float(samples[0]["t"]), 3),
        cpu=[s for s in cpu if s],
        memory=[s for s in memory if s],
        extra=[s for s in extra if s],
    )
