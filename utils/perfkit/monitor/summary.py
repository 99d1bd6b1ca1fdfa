"""Resource use for summary.json, from the samples `perfkit monitor` left in resources.jsonl.

A test's samples are those taken while one of its measured rounds ran: a sample stamped t
measures the interval before it, so it belongs to a round when the middle of that interval
(t - interval/2) falls between the round's started_at and started_at + wall_s. Warm-ups and the
gaps between rounds are left out. The run-level block covers every sample. A role's CPU and
memory figures count only the samples in which it had a live process (between two rounds no hey
runs: that is not hey using 0% CPU).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from perfkit.monitor.sampler import RESOURCES_FILE, load_samples

SATURATED_SHARE = 0.85  # a gateway worker above 85% of a core counts as saturated
Window = tuple[float, float]


@dataclass
class RoleSummary:
    cpu_percent_mean: float | None  # 100 = one full core
    cpu_percent_max: float | None
    rss_bytes_max: int | None
    processes_max: int


@dataclass
class WindowSummary:
    samples: int
    host_cpu_percent_mean: float | None  # 0-100 for the whole machine
    roles: dict[str, RoleSummary] = field(default_factory=dict)
    postgres_connections_max: int | None = None


@dataclass
class RunResources:
    file: str
    samples: int
    interval_s: float | None
    first_at: str | None
    last_at: str | None
    host_cpu_count: int | None
    host_cpu_percent_mean: float | None
    host_cpu_percent_max: float | None
    host_mem_used_bytes_max: int | None
    host_load1_max: float | None
    roles: dict[str, RoleSummary]
    postgres_connections_max: int | None
    skipped_lines: int


@dataclass
class ResourceSummary:
    run: RunResources
    tests: dict[str, WindowSummary]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": asdict(self.run),
            "tests": {k: asdict(v) for k, v in self.tests.items()},
        }


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def round_windows(rounds: Iterable[Mapping[str, Any]]) -> list[Window]:
    """(start, end) epoch seconds of each round that says when it ran (started_at, wall_s)."""
    windows = []
    for data in rounds:
        started, wall = data.get("started_at"), data.get("wall_s")
        if isinstance(started, str) and isinstance(wall, int | float):
            start = _epoch(started)
            windows.append((start, start + float(wall)))
    return windows


def in_windows(
    samples: list[dict[str, Any]], windows: list[Window]
) -> list[dict[str, Any]]:
    def middle(sample: dict[str, Any]) -> float:
        return float(sample["t"]) - float(sample.get("interval_s", 0.0)) / 2

    return [s for s in samples if any(a <= middle(s) <= b for a, b in windows)]


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _role_summaries(samples: list[dict[str, Any]]) -> dict[str, RoleSummary]:
    names = dict.fromkeys(name for s in samples for name in s.get("processes", {}))
    result = {}
    for name in names:
        roles = [
            s["processes"][name] for s in samples if name in s.get("processes", {})
        ]
        seen = [
            role for role in roles if role["processes"]
        ]  # no hey alive: not hey's figure
        cpu = [float(r["cpu_percent"]) for r in seen]
        result[name] = RoleSummary(
            cpu_percent_mean=_mean(cpu),
            cpu_percent_max=max(cpu) if cpu else None,
            rss_bytes_max=max((int(r["rss_bytes"]) for r in seen), default=None),
            processes_max=max((len(r["processes"]) for r in seen), default=0),
        )
    return result


def _pg_max(samples: list[dict[str, Any]]) -> int | None:
    counts = [
        s["postgres"]["connections"]
        for s in samples
        if isinstance(s.get("postgres"), dict)
        and s["postgres"].get("connections") is not None
    ]
    return max(counts) if counts else None


def window_summary(samples: list[dict[str, Any]]) -> WindowSummary:
    return WindowSummary(
        samples=len(samples),
        host_cpu_percent_mean=_mean([float(s["host"]["cpu_percent"]) for s in samples]),
        roles=_role_summaries(samples),
        postgres_connections_max=_pg_max(samples),
    )


def run_resources(samples: list[dict[str, Any]], skipped: int) -> RunResources:
    host_cpu = [float(s["host"]["cpu_percent"]) for s in samples]
    intervals = [float(s["interval_s"]) for s in samples if "interval_s" in s]
    return RunResources(
        file=RESOURCES_FILE,
        samples=len(samples),
        interval_s=statistics.median(intervals) if intervals else None,
        first_at=samples[0]["at"] if samples else None,
        last_at=samples[-1]["at"] if samples else None,
        host_cpu_count=max(
            (int(s["host"]["cpu_count"]) for s in samples), default=None
        ),
        host_cpu_percent_mean=_mean(host_cpu),
        host_cpu_percent_max=max(host_cpu, default=None),
        host_mem_used_bytes_max=max(
            (int(s["host"]["mem_used_bytes"]) for s in samples), default=None
        ),
        host_load1_max=max((float(s["host"]["load1"]) for s in samples), default=None),
        roles=_role_summaries(samples),
        postgres_connections_max=_pg_max(samples),
        skipped_lines=skipped,
    )


def resource_summary(
    run_dir: Path, tests: Mapping[str, Sequence[Mapping[str, Any]]]
) -> ResourceSummary | None:
    """Run-level and per-test resource use; None when the run has no resources.jsonl.

    `tests` maps each test id to its round dicts (summary.json's `rounds`: started_at, wall_s).
    """
    loaded = load_samples(run_dir)
    if loaded is None:
        return None
    samples, skipped = loaded
    per_test = {
        test_id: window_summary(in_windows(samples, round_windows(rounds)))
        for test_id, rounds in tests.items()
    }
    return ResourceSummary(run=run_resources(samples, skipped), tests=per_test)


def gateway_capacity(gateway: RoleSummary, cores: int | None) -> float:
    """CPU percent at which the gateway counts as saturated: 85% of a core per worker (a master
    with workers is not a worker), no more workers than the host has cores."""
    workers = max(gateway.processes_max - 1, 1) if gateway.processes_max > 1 else 1
    if cores:
        workers = min(workers, cores)
    return SATURATED_SHARE * 100.0 * workers


def bottleneck_warning(
    test_id: str, window: WindowSummary, cpu_warning: float, cores: int | None
) -> str | None:
    """The load generator was the bottleneck: hey's mean CPU at or above cpu_warning cores
    (performance.generator_cpu_warning) while the gateway was not saturated."""
    generator, gateway = window.roles.get("generator"), window.roles.get("gateway")
    if generator is None or gateway is None:
        return None
    hey, gw = generator.cpu_percent_mean, gateway.cpu_percent_mean
    if hey is None or gw is None:
        return None
    if hey >= cpu_warning * 100.0 and gw < gateway_capacity(gateway, cores):
        return (
            f"the load generator (hey), not the gateway, was the bottleneck in {test_id}: "
            f"hey {hey:.0f}% CPU, gateway {gw:.0f}%"
        )
    return None


def bottleneck_warnings(summary: ResourceSummary, cpu_warning: float) -> list[str]:
    found = (
        bottleneck_warning(test_id, window, cpu_warning, summary.run.host_cpu_count)
        for test_id, window in summary.tests.items()
    )
    return [text for text in found if text]


def for_summary(
    run_dir: Path,
    rounds_by_test: Mapping[str, Sequence[Mapping[str, Any]]],
    cpu_warning: float,
) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]], list[str]]:
    """What summary.json gets: the run-level block, each test's block and the bottleneck
    warnings; (None, {}, []) when the run has no resources.jsonl."""
    summary = resource_summary(run_dir, rounds_by_test)
    if summary is None:
        return None, {}, []
    data = summary.to_dict()
    return data["run"], data["tests"], bottleneck_warnings(summary, cpu_warning)
