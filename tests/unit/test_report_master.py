"""run-all.sh's runs.json (perfkit.results.run_all) and master report (perfkit.report.master_data,
perfkit.report.master_page) on a recorded real run-all folder: tests/fixtures/all/, re-recorded by
tests/fixtures/record-all-fixture.sh - smoke and light over the tools scenario, judged against
baselines taken before the benchmark MCP server was slowed down by 1 s a call: smoke (1 round)
inconclusive, light (5 rounds) regressed on both tool calls. Variants (a run not compared, a
stopped sequence, failed tests, an SLO breach) are made from copies of it.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
from pathlib import Path
from typing import Any

import pytest
from perfkit.cli import main
from perfkit.exitcodes import KitError
from perfkit.report import master_page as report_master
from perfkit.report.master_data import build_master, last_error
from perfkit.results import run_all

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "all"
URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)""")


@pytest.fixture()
def all_dir(tmp_path: Path) -> Path:
    """A copy of the recorded results folder; returns its all_ folder."""
    shutil.copytree(FIXTURE, tmp_path / "results")
    [found] = (tmp_path / "results").glob("all_*")
    return found


def runs_json(all_dir: Path) -> dict[str, Any]:
    return dict(json.loads((all_dir / "runs.json").read_text()))


def edit_runs(all_dir: Path, **changes: Any) -> None:
    data = runs_json(all_dir)
    data.update(changes)
    (all_dir / "runs.json").write_text(json.dumps(data))


def run_dir(all_dir: Path, profile: str) -> Path:
    [entry] = [r for r in runs_json(all_dir)["runs"] if r["profile"] == profile]
    return all_dir / entry["run_dir"]


def load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_recorded_fixture_is_what_the_tests_assume(all_dir: Path) -> None:
    runs = runs_json(all_dir)
    assert runs["profiles"] == ["smoke", "light"] and runs["exit_code"] == 1
    assert [r["exit_code"] for r in runs["runs"]] == [0, 1]
    comparison = load(run_dir(all_dir, "light") / "comparison.json")
    assert comparison["verdict"] == "regression"
    regressed = {t["id"] for t in comparison["tests"] if t["verdict"] == "regression"}
    assert regressed == {
        "tools/rpc_tools_call_get_system_time",
        "tools/rpc_tools_call_convert_time",
    }


def test_critical_rows_are_the_regressions_of_critical_metrics(all_dir: Path) -> None:
    comparison = load(run_dir(all_dir, "light") / "comparison.json")
    expected = [
        (t["id"], name, m["base_median"], m["cand_median"], m["change_pct"])
        for t in comparison["tests"]
        for name, m in t["metrics"].items()
        if m["critical"] and m["verdict"] == "regression"
    ]
    report = build_master(all_dir)
    assert expected, "the fixture has regressions"
    assert [r.kind for r in report.critical] == ["regression"] * len(expected)
    assert {r.profile for r in report.critical} == {"light"}
    assert [
        (r.test, r.metric, r.baseline, r.now, r.change_pct) for r in report.critical
    ] == expected
    assert all(r.detail.startswith("p = 0.") for r in report.critical)
    assert report.banner_kind == "regression"
    assert report.outcome.startswith("performance regression")


def test_profile_statistics_side_by_side(all_dir: Path) -> None:
    report = build_master(all_dir)
    smoke, light = report.profiles
    for stats in (smoke, light):
        summary = load(run_dir(all_dir, stats.profile) / "summary.json")
        comparison = load(run_dir(all_dir, stats.profile) / "comparison.json")
        tests = summary["tests"]
        assert stats.tests == summary["totals"]
        assert stats.medians["p50"] == round(
            statistics.median(t["aggregate"]["p50_ms"] for t in tests), 2
        )
        assert stats.medians["rps"] == round(
            statistics.median(t["aggregate"]["rps"] for t in tests), 2
        )
        assert stats.total_requests == sum(
            r["requests"] for t in tests for r in t["rounds"]
        )
        assert stats.verdicts["regression"] == comparison["summary"]["regression"]
        assert (
            stats.compared == "against " + Path(comparison["baseline"]["source"]).name
        )
        assert stats.cpu["generator"][0] is not None
    assert smoke.load == "20 x 2 x 1" and light.load == "100 x 10 x 5"
    assert smoke.verdicts["inconclusive"] == 6 and light.verdicts["regression"] >= 1
    assert [r["wall_s"] for r in runs_json(all_dir)["runs"]] == [
        smoke.wall_s,
        light.wall_s,
    ]


def test_per_test_table_is_report_compare_s(all_dir: Path) -> None:
    report = build_master(all_dir)
    assert report.column_labels == ["smoke", "light"]
    light = load(run_dir(all_dir, "light") / "summary.json")
    assert [line.id for line in report.lines] == [t["id"] for t in light["tests"]]
    first = report.lines[0]
    assert first.cells[1]["p50"].value == light["tests"][0]["aggregate"]["p50_ms"]
    assert (
        first.cells[0]["p50"].change_pct is None
    )  # the first profile is the reference


def test_a_run_not_compared_says_why(all_dir: Path) -> None:
    light = run_dir(all_dir, "light")
    (light / "comparison.json").unlink()
    runs = runs_json(all_dir)
    runs["runs"][1]["exit_code"] = 2
    edit_runs(all_dir, runs=runs["runs"], exit_code=2, status="partial")
    with (all_dir / "light.log").open("a") as log:
        log.write(
            "perfkit compare: error: baseline /b/baseline_light_tools.json: not JSON\n"
        )
    report = build_master(all_dir)
    assert report.profiles[1].compared == "not compared"
    assert report.profiles[1].verdicts == {}
    [row] = report.critical
    assert (row.kind, row.profile) == ("run", "light")
    assert row.detail.startswith("exit 2: usage or configuration error")
    assert "not compared with its baseline" in row.detail
    assert row.detail.endswith("baseline /b/baseline_light_tools.json: not JSON")
    assert report.banner_kind == "failed"


def test_a_stopped_sequence_lists_what_did_not_run(all_dir: Path) -> None:
    runs = runs_json(all_dir)
    runs["runs"][1].update(exit_code=3, run_dir=None)
    edit_runs(all_dir, profiles=["smoke", "light", "medium"], runs=runs["runs"])
    report = build_master(all_dir)
    assert [(r.kind, r.profile) for r in report.critical] == [
        ("run", "light"),
        ("not run", "medium"),
    ]
    assert "no run folder" in report.critical[0].detail
    assert (
        report.critical[1].detail
        == "not run: the sequence stopped after light (exit 3)"
    )
    assert [p.profile for p in report.profiles] == ["smoke", "light", "medium"]
    assert report.profiles[2].exit_code is None
    assert report.column_labels == ["smoke"]
    assert any("not run: medium" in line for line in report.banner_lines)


def test_failed_tests_and_slo_breaches_are_listed(all_dir: Path) -> None:
    smoke = run_dir(all_dir, "smoke")
    summary = load(smoke / "summary.json")
    summary["tests"][0].update(status="failed", reason="probe: HTTP 500")
    (smoke / "summary.json").write_text(json.dumps(summary))
    comparison = load(smoke / "comparison.json")
    comparison["slo_breaches"] = [
        {"test": "tools/rpc_tools_list", "pattern": "tools/*", "slo": "p95_ms",
         "limit": 50.0, "value": 61.5},
    ]  # fmt: skip
    (smoke / "comparison.json").write_text(json.dumps(comparison))
    report = build_master(all_dir)
    kinds = [(r.kind, r.profile) for r in report.critical]
    assert kinds.index(("failed", "smoke")) > kinds.index(("regression", "light"))
    [failed] = [r for r in report.critical if r.kind == "failed"]
    assert (failed.test, failed.detail) == (
        summary["tests"][0]["id"],
        "probe: HTTP 500",
    )
    [slo] = [r for r in report.critical if r.kind == "slo breach"]
    assert (slo.test, slo.metric, slo.now) == ("tools/rpc_tools_list", "p95_ms", 61.5)
    assert slo.detail == "must be <= 50 (slos.tools/*)"


def test_html_critical_first_none_when_empty_and_relative_links(all_dir: Path) -> None:
    html = report_master.render(build_master(all_dir), generated_at="T")
    order = [html.index(f'<section id="{s}"') for s in ("verdict", "critical", "profiles", "tests", "runs")]  # fmt: skip
    assert order == sorted(order)
    assert html.count('<tr class="critical-row">') == len(
        build_master(all_dir).critical
    )
    assert ">regression</span>" in html
    assert "no report.html" in html  # the fixture keeps no run report
    for url in URL.findall(html):
        assert url == "data:," or not re.match(r"[a-z]+:", url), (
            url
        )  # data:, the favicon
    # only smoke, which regressed nowhere, and exited 0: the section says so explicitly
    runs = runs_json(all_dir)
    edit_runs(all_dir, profiles=["smoke"], runs=runs["runs"][:1], exit_code=0)
    (run_dir(all_dir, "smoke") / "report.html").write_text("<html></html>")
    html = report_master.render(build_master(all_dir), generated_at="T")
    assert '<p class="critical-none"><strong>None</strong>' in html
    links = [u for u in URL.findall(html) if not u.startswith(("#", "data:"))]
    assert any(u.endswith("/report.html") for u in links)
    assert all((all_dir / u).exists() for u in links), links


def test_last_error_takes_the_last_error_line(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("a: error: first\nprogress\nb: error: second\ndone\n")
    assert last_error(log) == "b: error: second"
    log.write_text("all fine\n")
    assert last_error(log) is None
    assert last_error(tmp_path / "missing.log") is None


def test_run_all_record_writes_runs_json(tmp_path: Path) -> None:
    all_dir, smoke = tmp_path / "all_1", tmp_path / "smoke_1"
    all_dir.mkdir()
    smoke.mkdir()
    (all_dir / "smoke.log").write_text("x\n")
    code = main(
        ["run-all-record", str(all_dir), "--profiles", "smoke", "light", "--started-at",
         "2026-01-02T03:04:05Z", "--exit-code", "2", "--run", "smoke", "2", str(smoke), "7"]
    )  # fmt: skip
    assert code == 0
    data = runs_json(all_dir)
    assert (
        data["schema_version"] == 1
        and data["started_at"] == "2026-01-02T03:04:05+00:00"
    )
    assert (data["status"], data["interrupted"], data["exit_code"]) == (
        "partial",
        False,
        2,
    )
    assert data["runs"] == [
        {"profile": "smoke", "exit_code": 2, "run_dir": "../smoke_1", "log": "smoke.log",
         "wall_s": 7.0},
    ]  # fmt: skip
    assert run_all.read_runs(all_dir).not_run() == ["light"]


def test_run_all_record_complete_and_partial(tmp_path: Path) -> None:
    args = ["run-all-record", str(tmp_path), "--profiles", "smoke", "--started-at",
            "2026-01-02T03:04:05+00:00", "--exit-code", "0", "--run", "smoke", "0", "-", "1"]  # fmt: skip
    assert main(args) == 0
    assert runs_json(tmp_path)["status"] == "complete"
    assert runs_json(tmp_path)["runs"][0]["run_dir"] is None
    assert main([*args, "--partial"]) == 0
    assert (runs_json(tmp_path)["status"], runs_json(tmp_path)["interrupted"]) == (
        "partial",
        True,
    )


def test_bad_input_is_refused_with_exit_2(tmp_path: Path) -> None:
    base = ["run-all-record", str(tmp_path), "--profiles", "smoke", "--exit-code", "0"]
    assert main([*base, "--started-at", "yesterday"]) == 2
    assert main([*base, "--started-at", "2026-01-01T00:00:00", "--run", "smoke", "x", "-", "1"]) == 2  # fmt: skip
    assert main(["report-master", str(tmp_path)]) == 2  # no runs.json
    (tmp_path / "runs.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(KitError, match="schema_version 99 unknown"):
        run_all.read_runs(tmp_path)


def test_report_master_cli_writes_report_html(
    all_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report-master", str(all_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(all_dir / "report.html")
    assert "Critical regressions and failures" in (all_dir / "report.html").read_text()
