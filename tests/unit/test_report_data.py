"""The report's data layer on recorded run folders (tests/fixtures/runs/, copied from real
smoke runs against the local gateway: smoke_tools_regression = 6 tool tests x 5 rounds with the
comparison.json of a slowed MCP server; smoke_all = every scenario, 27 tests, 1 round, a mixed
group test). Variants (failed, partial, ...) are edited copies in tmp_path."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from perfkit.exitcodes import KitError
from perfkit.report.resources import resources
from perfkit.report.run_data import build_report
from perfkit.report.series import HISTOGRAM_BINS

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
REGRESSION = RUNS / "smoke_tools_regression"
ALL = RUNS / "smoke_all"


def copy_run(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def csv_rows(run: Path, test_id: str, rounds: list[int]) -> list[dict[str, str]]:
    """Rows of the given rounds (group rounds: every component), read with the csv module."""
    rows = []
    for k in rounds:
        single = run / "raw" / test_id / f"round-{k}.csv"
        paths = (
            [single]
            if single.is_file()
            else sorted((single.parent / f"round-{k}").glob("*.csv"))
        )
        for path in paths:
            with path.open(newline="") as stream:
                rows += list(csv.DictReader(stream))
    return rows


def ok_latencies_ms(rows: list[dict[str, str]]) -> list[float]:
    return sorted(
        float(r["response-time"]) * 1000
        for r in rows
        if 200 <= int(r["status-code"]) < 300
    )


def linear_percentile(values: list[float], q: float) -> float:
    pos = (len(values) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


# --- banner --------------------------------------------------------------------------------


def test_banner_regression_from_comparison() -> None:
    report = build_report(REGRESSION)
    assert report.banner.kind == "regression"
    assert any("2 regression" in line for line in report.banner.lines)


def test_banner_pass_without_comparison() -> None:
    report = build_report(ALL)
    assert report.banner.kind == "pass"
    assert any("no comparison.json" in line for line in report.banner.lines)


def test_banner_failed_test_beats_regression(tmp_path: Path) -> None:
    run = copy_run(REGRESSION, tmp_path)

    def fail_one(summary: dict[str, Any]) -> None:
        summary["tests"][0].update(
            status="failed", reason="error rate 5.00% (HTTP 502 x 1)"
        )
        summary["totals"].update(ok=5, failed=1)

    edit_json(run / "summary.json", fail_one)
    report = build_report(run)
    assert report.banner.kind == "failed"
    first = report.attention[0]
    assert (first.kind, first.subject) == ("failed", "tools/rest_list_tools_limit_10")
    assert "HTTP 502" in first.text


def test_banner_inconclusive_comparison(tmp_path: Path) -> None:
    run = copy_run(REGRESSION, tmp_path)
    edit_json(run / "comparison.json", lambda c: c.update(verdict="inconclusive"))
    assert build_report(run).banner.kind == "inconclusive"


def test_banner_slo_breach_is_failed(tmp_path: Path) -> None:
    run = copy_run(ALL, tmp_path)
    comparison = json.loads((REGRESSION / "comparison.json").read_text())
    comparison.update(
        verdict="slo_breach",
        tests=[],
        slo_breaches=[{"test": "gateway-core/health", "pattern": "*", "slo": "p95_ms",
                       "limit": 5, "value": 9.1}],
    )  # fmt: skip
    (run / "comparison.json").write_text(json.dumps(comparison))
    report = build_report(run)
    assert report.banner.kind == "failed"
    assert [(a.kind, a.subject) for a in report.attention] == [
        ("slo", "gateway-core/health")
    ]


def test_partial_run_is_inconclusive_and_warned(tmp_path: Path) -> None:
    run = copy_run(ALL, tmp_path)
    edit_json(run / "summary.json", lambda s: s.update(status="partial"))
    report = build_report(run)
    assert report.banner.kind == "inconclusive"
    assert any("partial" in w for w in report.warnings)
    assert any(a.kind == "warning" and "partial" in a.text for a in report.attention)


def test_partial_run_with_a_failed_test_is_failed(tmp_path: Path) -> None:
    run = copy_run(ALL, tmp_path)

    def change(summary: dict[str, Any]) -> None:
        summary["status"] = "partial"
        summary["tests"][-1].update(status="failed", reason="run interrupted")

    edit_json(run / "summary.json", change)
    assert build_report(run).banner.kind == "failed"


# --- attention and warnings ----------------------------------------------------------------


def test_attention_lists_regressions_with_metric_and_change() -> None:
    comparison = json.loads((REGRESSION / "comparison.json").read_text())
    expected = {
        (t["id"], metric)
        for t in comparison["tests"]
        for metric, m in t["metrics"].items()
        if m["verdict"] == "regression"
    }
    report = build_report(REGRESSION)
    regressions = [a for a in report.attention if a.kind == "regression"]
    assert {(a.subject, a.text.split(":")[0]) for a in regressions} == expected
    p50 = next(
        a for a in regressions
        if a.subject == "tools/rpc_tools_call_convert_time" and a.text.startswith("p50")
    )  # fmt: skip
    m = next(t for t in comparison["tests"] if t["id"] == p50.subject)["metrics"]["p50"]
    assert f"{m['change_pct']:+.1f}%" in p50.text
    assert str(m["base_median"]) in p50.text and str(m["cand_median"]) in p50.text
    # regressions come before the inconclusive tests
    kinds = [a.kind for a in report.attention]
    assert kinds.index("inconclusive") > max(
        i for i, k in enumerate(kinds) if k == "regression"
    )


def test_warnings_include_summary_warnings_and_environment_differences(
    tmp_path: Path,
) -> None:
    run = copy_run(REGRESSION, tmp_path)
    noisy = "tools/rpc_tools_list round 2: hey used 0.93 cores: the generator may be the bottleneck"
    edit_json(run / "summary.json", lambda s: s.update(warnings=[noisy]))
    edit_json(
        run / "comparison.json",
        lambda c: c.update(environment_differences=["logical_cores: 2 -> 8"]),
    )
    report = build_report(run)
    assert report.warnings[0] == noisy
    assert any("logical_cores: 2 -> 8" in w for w in report.warnings)
    assert [a.text for a in report.attention if a.kind == "warning"] == report.warnings


# --- tables -------------------------------------------------------------------------------


def test_scenarios_grouped_in_run_order() -> None:
    summary = json.loads((ALL / "summary.json").read_text())
    report = build_report(ALL)
    names = list(dict.fromkeys(t["scenario"] for t in summary["tests"]))
    assert [s.name for s in report.scenarios] == names
    for scenario in report.scenarios:
        ids = [t["id"] for t in summary["tests"] if t["scenario"] == scenario.name]
        assert [row.id for row in scenario.tests] == ids
    row = report.scenarios[0].tests[0]
    first = summary["tests"][0]
    assert row.values["p50"] == first["aggregate"]["p50_ms"]
    assert row.values["rps"] == first["aggregate"]["rps"]
    assert row.values["error_rate"] == first["error_rate"]
    assert row.changes == {} and not report.has_comparison


def test_rows_carry_the_change_ci_and_verdict() -> None:
    comparison = json.loads((REGRESSION / "comparison.json").read_text())
    report = build_report(REGRESSION)
    rows = {row.id: row for row in report.scenarios[0].tests}
    for test in comparison["tests"]:
        row = rows[test["id"]]
        assert row.verdict == test["verdict"]
        p50 = test["metrics"]["p50"]
        assert row.changes["p50"].change_pct == p50["change_pct"]
        assert row.changes["p50"].ci_pct == tuple(p50["ci_pct"])
        assert row.changes["p50"].verdict == p50["verdict"]


# --- per-test series ----------------------------------------------------------------------


def test_histogram_and_percentiles_match_the_csv() -> None:
    test_id = "tools/rpc_tools_call_get_system_time"
    detail = next(d for d in build_report(REGRESSION).details if d.id == test_id)
    times = ok_latencies_ms(csv_rows(REGRESSION, test_id, [1, 2, 3, 4, 5]))
    assert detail.latency is not None
    assert detail.latency.samples == len(times) == 100
    counts = [0] * HISTOGRAM_BINS
    width = (times[-1] - times[0]) / HISTOGRAM_BINS
    for t in times:
        counts[min(int((t - times[0]) / width), HISTOGRAM_BINS - 1)] += 1
    assert detail.latency.histogram.counts == counts
    curve = dict(detail.latency.curve)
    for q in (0.0, 50.0, 95.0, 99.0, 100.0):
        assert curve[q] == pytest.approx(linear_percentile(times, q), abs=1e-3)


def test_group_test_pools_its_components() -> None:
    detail = next(
        d for d in build_report(ALL).details if d.id == "mixed/concurrent_mix"
    )
    rows = csv_rows(ALL, "mixed/concurrent_mix", [1])
    assert detail.latency is not None and detail.latency.samples == len(
        ok_latencies_ms(rows)
    )
    assert len(detail.components) == 5


def test_throughput_timeline_matches_the_csv() -> None:
    test_id = "tools/rest_list_tools_limit_100"
    detail = next(d for d in build_report(REGRESSION).details if d.id == test_id)
    assert detail.throughput is not None
    assert [t.round for t in detail.throughput.rounds] == [1, 2, 3, 4, 5]
    width = detail.throughput.bucket_s
    summary = json.loads((REGRESSION / "summary.json").read_text())
    measured = next(t for t in summary["tests"] if t["id"] == test_id)["rounds"]
    for timeline in detail.throughput.rounds:
        rows = csv_rows(REGRESSION, test_id, [timeline.round])
        ends = [float(r["offset"]) + float(r["response-time"]) for r in rows]
        span = max(ends)
        buckets = max(1, round(span / width))
        tallies = [0] * buckets
        for end in ends:
            tallies[min(int(end // width), buckets - 1)] += 1
        covered = [width] * (buckets - 1) + [span - (buckets - 1) * width]
        expected = [round(n / c, 2) for n, c in zip(tallies, covered, strict=True)]
        assert timeline.rps == pytest.approx(expected, abs=0.01)
        # the buckets add up to the round's rps in summary.json
        total = sum(r * c for r, c in zip(timeline.rps, covered, strict=True)) / span
        rps = next(r for r in measured if r["index"] == timeline.round)["rps"]
        assert total == pytest.approx(rps, rel=0.01)


def test_baseline_overlay_and_status_codes() -> None:
    comparison = json.loads((REGRESSION / "comparison.json").read_text())
    detail = build_report(REGRESSION).details[0]
    metrics = comparison["tests"][0]["metrics"]
    assert detail.baseline == {
        m: metrics[m]["base_median"] for m in ("p50", "p95", "p99", "rps")
    }
    assert detail.status_codes == {"200": 100}
    assert detail.errors == {"non_2xx": 0, "transport": 0}
    assert build_report(ALL).details[0].baseline == {}


# --- resources ----------------------------------------------------------------------------


def test_no_resources_file_gives_none() -> None:
    assert build_report(ALL).resources is None


def sample(t: float, processes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One resources.jsonl line as perfkit monitor writes it (schema 1)."""
    return {"schema_version": 1, "t": t, "at": "", "interval_s": 0.5,
            "host": extra.pop("host", {}), "processes": processes, **extra}  # fmt: skip


def test_resources_leave_gaps_and_count_unreadable_lines(tmp_path: Path) -> None:
    """A value a sample lacks leaves a gap, a torn or incomplete line is counted, nothing is
    invented; samples are put in time order."""
    lines = [
        sample(101.0, {"gateway": {"cpu_percent": 40.0, "rss_bytes": 2 * 2**20}},
               postgres={"connections": 7}),
        sample(100.0, {"gateway": {"cpu_percent": 50.0, "rss_bytes": 100 * 2**20},
                       "generator": {"cpu_percent": 20.0}},
               host={"cpu_percent": 70.0, "mem_percent": 40.0}),
        '{"schema_version": 1, "t": 102.0, "host": {"cpu_per',
        {"schema_version": 1, "t": 103.0},
    ]  # fmt: skip
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    (tmp_path / "resources.jsonl").write_text(text + "\n")
    res = resources(tmp_path)
    assert res is not None
    assert (res.samples, res.skipped_lines, res.duration_s) == (2, 2, 1.0)
    cpu = {s.label: (s.times_s, s.values) for s in res.cpu}
    assert cpu["gateway"] == ([0.0, 1.0], [50.0, 40.0])
    assert cpu["generator"] == ([0.0], [20.0])
    assert "mcp_servers" not in cpu
    memory = {s.label: s.values for s in res.memory}
    assert memory == {"gateway": [100.0, 2.0]}
    assert {s.label: s.values for s in res.extra} == {
        "host memory": [40.0],
        "DB connections": [7.0],
    }


def test_resources_of_an_unknown_version_are_refused(tmp_path: Path) -> None:
    newer = sample(100.0, {}) | {"schema_version": 999}
    (tmp_path / "resources.jsonl").write_text(json.dumps(newer) + "\n")
    with pytest.raises(KitError, match="schema_version 999 unknown") as raised:
        resources(tmp_path)
    assert raised.value.code == 2 and "resources.jsonl" in str(raised.value)
