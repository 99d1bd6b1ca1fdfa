"""What a multi-user run measured, from every request's exact time (Locust's own percentiles are
rounded to two significant digits before they are stored): per step, per user and in total,
and whether the load generator itself was the limit. The driver (perfkit.workflows.drive)
builds it inside its gevent process; `render` prints it with the kit's table (imported there,
so summarizing needs the standard library only).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FORMAT_VERSION = 1
# the driver process used at least this share of one core: it may have been the limit
GENERATOR_BUSY = 0.9


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the users started
    step: str  # workload:step, e.g. baseline:list_tools
    user: str  # the gateway user who sent it
    ms: float
    ok: bool
    error: str = ""
    # step: one request (or a timed wait); workflow: a whole workflow; derived: a wait or a
    # check beside the steps; tally: one outcome counted (a collaboration's kept or lost edit)
    kind: str = "step"
    status: int = 0  # the HTTP status of a request's answer (0: none, or not a request)
    # a request's method and path (no host, no query): what REST coverage counts
    method: str = ""
    path: str = ""


def quantile(ordered: list[float], q: float) -> float:
    """Linear between the closest ranks - pandas' default, as the kit's hey statistics are."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(samples: list[Sample], seconds: float) -> dict[str, Any]:
    """requests, failures, error rate, requests a second and the latency percentiles (ms)."""
    times = sorted(s.ms for s in samples)
    failures = sum(not s.ok for s in samples)
    out: dict[str, Any] = {
        "requests": len(samples),
        "failures": failures,
        "error_rate": failures / len(samples) if samples else None,
        "rps": len(samples) / seconds if seconds > 0 else None,
    }
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        out[key] = round(quantile(times, q), 3) if times else None
    out["min"] = round(times[0], 3) if times else None
    out["max"] = round(times[-1], 3) if times else None
    out["mean"] = round(sum(times) / len(times), 3) if times else None
    return out


def summarize(
    samples: Iterable[Sample],
    *,
    workload: str,
    url: str,
    users: int,
    warmup: float,
    duration: float,
    driver_cpu_s: float,
    interrupted: bool = False,
    workers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's JSON: samples before `warmup` seconds are left out, the rest judged over the
    `duration` they were sent in."""
    measured = [s for s in samples if s.at >= warmup]
    kept = [s for s in measured if s.kind == "step"]
    by_workflow: dict[str, list[Sample]] = defaultdict(list)
    by_step: dict[str, list[Sample]] = defaultdict(list)
    by_user: dict[str, list[Sample]] = defaultdict(list)
    for s in measured:
        if s.kind == "workflow":
            by_workflow[s.step].append(s)
    for s in measured:
        if s.kind in ("step", "derived"):
            by_step[s.step].append(s)
    for s in kept:
        by_user[s.user].append(s)
    errors = Counter((s.step, s.error) for s in measured if not s.ok)
    tallies = Counter(s.step for s in measured if s.kind == "tally")
    cores = driver_cpu_s / (warmup + duration) if warmup + duration > 0 else 0.0
    return {
        "format_version": FORMAT_VERSION,
        "workload": workload,
        "url": url,
        "users": users,
        "warmup_s": warmup,
        "duration_s": duration,
        "interrupted": interrupted,
        "total": figures(kept, duration),
        "workflows": [
            {"workflow": name, **figures(rows, duration)}
            for name, rows in sorted(by_workflow.items())
        ],
        "steps": [
            {"step": name, **figures(rows, duration)}
            for name, rows in sorted(by_step.items())
        ],
        "per_user": [
            {"user": name, **figures(rows, duration)}
            for name, rows in sorted(by_user.items())
        ],
        "errors": [
            {"step": step, "error": error, "count": count}
            for (step, error), count in errors.most_common()
        ],
        "tallies": dict(sorted(tallies.items())),
        "generator": {
            "cpu_cores": round(cores, 3),
            # one process (or, with workers, all of them) busy for one core's worth: it may
            # be the limit; several workers can use several cores
            "busy": cores
            >= GENERATOR_BUSY
            * min(max(1, (workers or {}).get("workers", 0)), os.cpu_count() or 1),
            **(workers or {"workers": 0}),
        },
    }


def collaboration(tallies: dict[str, int]) -> str:
    """The collaborations' edits in a line: taken and kept, lost, refused as conflicts."""
    kept, lost, conflicts = (
        tallies.get(f"collaborate:{what}", 0)
        for what in ("update_kept", "update_lost", "update_conflict")
    )
    again = tallies.get("collaborate:read_again", 0)
    if not kept + lost + conflicts + again:
        return ""
    line = (
        f"collaboration: {kept + lost} concurrent edits taken, {lost} of them lost (overwritten "
        f"by another edit: the gateway's update is last-writer-wins), {conflicts} refused as "
        "conflicts (409)"
    )
    if again:
        line += f"; {again} reads of a team's new prompt were 404 and were read again"
    return line


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render(result: dict[str, Any]) -> str:
    """The console report: steps, then users, then errors, in the kit's table style."""
    from perfkit.table import Column, render_table

    def rows(entries: list[dict[str, Any]], key: str) -> list[list[str]]:
        return [
            [
                str(e[key]),
                str(e["requests"]),
                str(e["failures"]),
                "-" if e["rps"] is None else f"{e['rps']:.1f}",
                _ms(e["p50"]),
                _ms(e["p95"]),
                _ms(e["p99"]),
            ]
            for e in entries
        ]

    def columns(first: str) -> list[Column]:
        titles = (first, "requests", "failed", "req/s", "p50 ms", "p95 ms", "p99 ms")
        return [Column(t, "<" if t == first else ">") for t in titles]

    total = {"step": "all", **result["total"]}
    parts = [
        f"{result['workload']}: {result['users']} user{'s' if result['users'] != 1 else ''} "
        f"for {result['duration_s']:.1f} s "
        f"(after {result['warmup_s']:g} s of warm-up) at {result['url']}"
        + (" - interrupted, partial" if result["interrupted"] else ""),
    ]
    if result["workflows"]:
        parts.append(
            render_table(rows(result["workflows"], "workflow"), columns("workflow"))
        )
    parts += [
        render_table(rows([*result["steps"], total], "step"), columns("step")),
        render_table(rows(result["per_user"], "user"), columns("user")),
    ]
    if result["errors"]:
        parts.append(
            "\n".join(
                f"failed: {e['step']}: {e['error']} ({e['count']}x)"
                for e in result["errors"]
            )
        )
    edits = collaboration(result.get("tallies") or {})
    if edits:
        parts.append(edits)
    aborted = result.get("aborted")
    if aborted:
        parts.append(
            f"stopped early at {aborted['at_s']:g} s (--abort-on-slo): "
            + "; ".join(aborted["breaches"])
        )
    generator = result["generator"]
    if generator.get("workers"):
        remote = generator.get("remote") or 0
        where = f" ({remote} on other machines)" if remote else ""
        parts.append(
            f"{generator['workers']} worker process{'es' if generator['workers'] != 1 else ''}"
            f"{where}: "
            f"{generator['connected']} connected, {generator['finished']} finished"
            + (" - partial" if generator["finished"] < generator["workers"] else "")
        )
    calls = result.get("servers")
    if calls:
        served = (
            f"the MCP servers served {calls['served']}"
            if calls["served"] is not None
            else f"the MCP servers' counts could not be read ({'; '.join(calls['errors'])})"
        )
        parts.append(f"tool calls: {calls['answered']} answered to the users; {served}")
    if generator["busy"]:
        parts.append(
            f"the load generator used {generator['cpu_cores']:.2f} of a core: it may have "
            "been the limit, not the gateway (run fewer users)"
        )
    return "\n\n".join(parts)
