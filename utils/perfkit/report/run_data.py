"""What the HTML report shows, built from a run folder as plain dataclasses (no HTML here).

Inputs: summary.json (required), comparison.json (optional, `perfkit compare`), the raw hey
CSVs (perfkit.report.series) and resources.jsonl (optional). Rendering: perfkit.report.run_page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError
from perfkit.report.attention import (
    Attention,
    Banner,
    attention,
    banner,
    measurement_warnings,
)
from perfkit.report.resources import Resources, resources
from perfkit.report.series import (
    LatencyData,
    Throughput,
    latency_data,
    load_rounds,
    throughput,
)

TABLE_METRICS = ("p50", "p95", "p99", "rps", "error_rate")
OVERLAY_METRICS = ("p50", "p95", "p99", "rps")


@dataclass
class Change:
    """One metric of a test against the baseline (comparison.json); positive = better."""

    base_median: float | None
    cand_median: float | None
    change_pct: float | None
    ci_pct: tuple[float, float] | None
    ci_level: float | None
    verdict: str
    note: str | None


@dataclass
class TestRow:
    __test__ = False  # not a pytest class

    id: str
    name: str
    method: str
    path: str
    concurrency: int
    status: str
    reason: str | None
    rounds: int
    values: dict[str, float | None]  # TABLE_METRICS: aggregate medians, error rate
    verdict: str | None  # comparison verdict of the test
    changes: dict[str, Change]  # by metric, when comparison.json has it


@dataclass
class Scenario:
    name: str
    tests: list[TestRow]


@dataclass
class TestDetail:
    __test__ = False

    id: str
    status: str
    reason: str | None
    latency: LatencyData | None
    throughput: Throughput | None
    baseline: dict[str, float]  # OVERLAY_METRICS -> baseline median
    status_codes: dict[str, int]
    errors: dict[str, int | None]  # non_2xx, transport (None: unknown)
    components: list[str]


@dataclass
class Report:
    run_dir: str
    title: str
    banner: Banner
    attention: list[Attention]
    configuration: dict[str, Any]
    settings: dict[str, Any]
    gateway_settings: dict[str, Any]
    system: dict[str, Any]
    scenarios: list[Scenario]
    details: list[TestDetail]
    resources: Resources | None
    warnings: list[str]
    has_comparison: bool
    baseline_source: str | None
    files: list[str] = field(default_factory=list)  # run files to link to


def load_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(
            f"{path}: {what} not found (run `perfkit summarize {path.parent}` first)",
            ExitCode.USAGE,
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KitError(f"{path}: {what} is not JSON ({exc})", ExitCode.USAGE) from None
    if not isinstance(data, dict):
        raise KitError(f"{path}: {what} is not a JSON object", ExitCode.USAGE)
    return data


def load_comparison(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "comparison.json"
    return load_json(path, "comparison.json") if path.is_file() else None


def _change(m: dict[str, Any]) -> Change:
    ci = m.get("ci_pct")
    return Change(
        base_median=m.get("base_median"),
        cand_median=m.get("cand_median"),
        change_pct=m.get("change_pct"),
        ci_pct=(float(ci[0]), float(ci[1])) if ci else None,
        ci_level=m.get("ci_level"),
        verdict=str(m.get("verdict")),
        note=m.get("note"),
    )


def test_row(test: dict[str, Any], compared: dict[str, Any] | None) -> TestRow:
    agg = test.get("aggregate") or {}
    values = {m: agg.get(f"{m}_ms") for m in ("p50", "p95", "p99")}
    values["rps"] = agg.get("rps")
    values["error_rate"] = test.get("error_rate")
    metrics = (compared or {}).get("metrics", {})
    scenario = str(test.get("scenario", ""))
    return TestRow(
        id=test["id"],
        name=test["id"].removeprefix(f"{scenario}/"),
        method=str(test.get("method", "")),
        path=str(test.get("path", "")),
        concurrency=int(test.get("concurrency") or 0),
        status=str(test.get("status")),
        reason=test.get("reason"),
        rounds=int(agg.get("rounds") or 0),
        values=values,
        verdict=compared.get("verdict") if compared else None,
        changes={m: _change(metrics[m]) for m in TABLE_METRICS if m in metrics},
    )


def scenarios(
    summary: dict[str, Any], by_id: dict[str, dict[str, Any]]
) -> list[Scenario]:
    """Tests grouped by scenario, in the run's order."""
    groups: dict[str, list[TestRow]] = {}
    for test in summary.get("tests", []):
        row = test_row(test, by_id.get(test["id"]))
        groups.setdefault(str(test.get("scenario", "")), []).append(row)
    return [Scenario(name, rows) for name, rows in groups.items()]


def test_detail(
    run_dir: Path, test: dict[str, Any], compared: dict[str, Any] | None
) -> TestDetail:
    rounds = test.get("rounds", [])
    complete = [int(r["index"]) for r in rounds if r.get("complete", True)]
    frames = load_rounds(run_dir / "raw" / test["id"], complete)
    codes: dict[str, int] = {}
    non_2xx, transport = 0, 0
    transport_known = True
    for r in rounds:
        for code, n in (r.get("status_codes") or {}).items():
            codes[str(code)] = codes.get(str(code), 0) + int(n)
        errors = r.get("errors") or {}
        non_2xx += int(errors.get("non_2xx") or 0)
        if errors.get("transport") is None:
            transport_known = False
        else:
            transport += int(errors["transport"])
    metrics = (compared or {}).get("metrics", {})
    baseline = {
        m: float(metrics[m]["base_median"])
        for m in OVERLAY_METRICS
        if metrics.get(m, {}).get("base_median") is not None
    }
    return TestDetail(
        id=test["id"],
        status=str(test.get("status")),
        reason=test.get("reason"),
        latency=latency_data(frames),
        throughput=throughput(frames),
        baseline=baseline,
        status_codes=dict(sorted(codes.items())),
        errors={
            "non_2xx": non_2xx,
            "transport": transport if transport_known else None,
        },
        components=[c["id"] for c in test.get("components") or []],
    )


def system_info(summary: dict[str, Any]) -> dict[str, Any]:
    env = summary.get("environment", {})
    settings = summary.get("settings", {})
    gateway = (summary.get("target") or {}).get("gateway_settings") or {}
    memory = env.get("memory_total_bytes")
    return {
        "CPU model": env.get("cpu_model"),
        "logical cores": env.get("logical_cores"),
        "memory": f"{memory / 2**30:.1f} GiB"
        if isinstance(memory, int | float)
        else None,
        "OS": env.get("os"),
        "kernel": env.get("kernel"),
        "Python": env.get("python_version"),
        "hey version": env.get("hey_version"),
        "database backend": gateway.get("database") or settings.get("db_backend"),
        "cache": gateway.get("settings.cache_type") or settings.get("cache"),
        "Redis reachable": gateway.get("redis_reachable"),
        "host": env.get("hostname"),
        "kit commit": env.get("kit_commit"),
    }


def configuration(summary: dict[str, Any]) -> dict[str, Any]:
    target = summary.get("target") or {}
    return {
        "profile": summary.get("profile"),
        "status": summary.get("status"),
        "started at": summary.get("started_at"),
        "finished at": summary.get("finished_at"),
        "target URL": target.get("url"),
        "gateway version": target.get("gateway_version"),
    }


def build_report(run_dir: Path) -> Report:
    summary = load_json(run_dir / "summary.json", "summary.json")
    comparison = load_comparison(run_dir)
    by_id = {t["id"]: t for t in (comparison or {}).get("tests", [])}
    baseline = (comparison or {}).get("baseline") or {}
    files = ["summary.json", "comparison.json", "run.json", "resources.jsonl"]
    return Report(
        run_dir=str(run_dir),
        title=f"{summary.get('profile', 'run')} run {run_dir.name}",
        banner=banner(summary, comparison),
        attention=attention(summary, comparison),
        configuration=configuration(summary),
        settings=dict(summary.get("settings") or {}),
        gateway_settings=dict(
            (summary.get("target") or {}).get("gateway_settings") or {}
        ),
        system=system_info(summary),
        scenarios=scenarios(summary, by_id),
        details=[
            test_detail(run_dir, t, by_id.get(t["id"]))
            for t in summary.get("tests", [])
        ],
        resources=resources(run_dir),
        warnings=measurement_warnings(summary, comparison),
        has_comparison=bool(by_id),
        baseline_source=baseline.get("source"),
        files=[name for name in files if (run_dir / name).is_file()],
    )
