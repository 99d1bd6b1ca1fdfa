"""Builders for the comparison tests: SampleSets and summary.json documents with controlled
per-round values, and the recorded real summaries in tests/fixtures/summaries/compare-*.json."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from perfkit.results.samples import SampleSet, TestSamples
from perfkit.results.summary import Summary

SUMMARIES = Path(__file__).resolve().parents[1] / "fixtures" / "summaries"
FINGERPRINT: dict[str, Any] = {
    "profile": "light",
    "cpu_model": "AMD EPYC",
    "logical_cores": 2,
    "hey_version": "0.1.4-2+b4",
    "gateway_version": "1.0.7",
    "gateway_settings": None,
    "settings": {"requests": 100, "concurrency": 10, "duration": None},
}
BASE_P50 = [20.0, 20.4, 19.8, 20.2, 20.1]  # robust CV ~1.5%


def scaled(values: list[float], factor: float) -> list[float]:
    return [round(v * factor, 4) for v in values]


def samples_of(
    test_id: str,
    p50: list[float],
    *,
    status: str = "ok",
    error_rate: float = 0.0,
    rps: list[float] | None = None,
) -> TestSamples:
    """Rounds whose other metrics follow p50: p95 = 1.5 x, p99 = 2 x, rps = 10 000 / p50."""
    rps_values = rps if rps is not None else [round(10_000 / v, 4) for v in p50]
    rounds = {
        "p50": list(p50),
        "p95": scaled(p50, 1.5),
        "p99": scaled(p50, 2.0),
        "rps": rps_values,
        "error_rate": [error_rate] * len(p50),
        "total_time": [round(100 / r, 6) for r in rps_values],
    }
    return TestSamples(test_id, status, None, error_rate, rounds)


def sample_set(
    *tests: TestSamples, fingerprint: dict[str, Any] | None = None, source: str = "x"
) -> SampleSet:
    return SampleSet(
        source,
        "light",
        copy.deepcopy(fingerprint or FINGERPRINT),
        {t.id: t for t in tests},
    )


def full_test(test: dict[str, Any]) -> dict[str, Any]:
    """A summary.json test with every field its model requires, `test`'s own values kept."""
    test_id = str(test.get("id", "tools/x"))
    defaults = {
        "scenario": test_id.split("/")[0], "method": "GET", "path": "/x", "concurrency": 10,
        "status": "ok", "reason": None, "error_rate": 0.0, "rounds": [], "aggregate": None,
        "probe": None,
    }  # fmt: skip
    return {"id": test_id, **defaults, **test}


def full_summary(**fields: Any) -> dict[str, Any]:
    """A schema-1 summary.json document: `fields` over complete defaults (tests completed
    with full_test, totals counted from them)."""
    tests = [full_test(t) for t in fields.pop("tests", [])]
    statuses = [t["status"] for t in tests]
    document: dict[str, Any] = {
        "schema_version": 1, "profile": "light", "status": "complete",
        "started_at": "2026-01-01T10:00:00+00:00", "finished_at": "2026-01-01T10:01:00+00:00",
        "target": {}, "environment": {}, "settings": {}, "warnings": [],
    }  # fmt: skip
    document.update(fields)
    document["tests"] = tests
    document["totals"] = {"tests": len(tests)} | {
        k: statuses.count(k) for k in ("ok", "failed", "skipped")
    }
    return document


def comparison_doc(verdict: str) -> dict[str, Any]:
    """A schema-1 comparison.json with this run verdict and no tests."""
    return {
        "schema_version": 1, "verdict": verdict, "exit_code": int(verdict == "regression"),
        "baseline": None, "candidate": {}, "environment_differences": [], "forced": False,
        "strict": False, "method": {}, "tests": [], "slo_breaches": [], "slo_unmatched": [],
        "summary": {}, "notes": [],
    }  # fmt: skip


def summary_doc(
    tests: dict[str, list[float]], error_rate: float = 0.0
) -> dict[str, Any]:
    """A schema-1 summary.json whose tests have these per-round p50s (ms)."""
    return {
        "schema_version": 1,
        "profile": "light",
        "status": "complete",
        "started_at": "2026-11-21T12:00:00+00:00",
        "finished_at": "2026-11-21T12:01:00+00:00",
        "target": {"gateway_version": "1.0.7", "gateway_settings": None},
        "environment": {
            "cpu_model": "AMD EPYC",
            "logical_cores": 2,
            "hey_version": "0.1.4-2+b4",
        },
        "settings": {"requests": 100, "concurrency": 10},
        "tests": [
            {
                "id": test_id,
                "scenario": test_id.split("/")[0],
                "method": "GET",
                "path": "/" + test_id.split("/")[-1],
                "concurrency": 10,
                "status": "ok",
                "reason": None,
                "error_rate": error_rate,
                "rounds": [summary_round(v, error_rate) for v in p50s],
                "aggregate": None,
                "probe": None,
            }
            for test_id, p50s in tests.items()
        ],
        "totals": {"tests": len(tests), "ok": len(tests), "failed": 0, "skipped": 0},
        "warnings": [],
    }


def summary_round(p50: float, error_rate: float) -> dict[str, Any]:
    errors = round(100 * error_rate)
    return {
        "requests": 100,
        "duration_s": round(p50 / 10, 4),
        "rps": round(10_000 / p50, 2),
        "latency_ms": {"p50": p50, "p95": p50 * 1.5, "p99": p50 * 2},
        "errors": {"non_2xx": errors, "transport": 0},
        "complete": True,
    }


def write_run(folder: Path, summary: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def model(document: dict[str, Any]) -> Summary:
    """A summary.json document as the model its loader returns."""
    return Summary.from_dict(document)


def recorded(name: str) -> dict[str, Any]:
    """A recorded real run: compare-smoke-28 (all scenarios), compare-smoke-27 (the same
    without gateway-core/version), compare-smoke-15 (tools and gateway-core); 1 round each."""
    data: dict[str, Any] = json.loads((SUMMARIES / f"compare-{name}.json").read_text())
    return data
