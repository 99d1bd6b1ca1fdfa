"""perfkit advanced: the points file (init, add-point) and the scalability report, on the
recorded points of tests/fixtures/advanced/smoke_both (real runs: smoke profile, 3 rounds,
1 and 2 MCP servers on SQLite and PostgreSQL, sweep 1,2,4 at 2 servers; re-recorded by
tests/fixtures/record-advanced-fixture.sh). Cases the recording does not hold (a full pool, a
server that served nothing, more rounds) are made by editing a copy's numbers."""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from perfkit import cli
from perfkit.scale.cli import load
from perfkit.scale.data import AdvancedReport, ScaleRow, build
from perfkit.scale.html import render

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "advanced" / "smoke_both"
INIT = ["--profile", "smoke", "--servers", "1,2", "--databases", "sqlite,postgresql",
        "--mode", "local", "--sweep", "1,2,4", "--p95-slo-ms", "1000", "--pool-size", "20",
        "--max-overflow", "10"]  # fmt: skip


@pytest.fixture
def adv(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "adv")
    return tmp_path / "adv"


def perfkit(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["advanced", *args])
    out, err = capsys.readouterr()
    return code, out, err


def summary(adv: Path, point: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((adv / point / "summary.json").read_text())
    return data


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_test(
    adv: Path, point: str, test_id: str, change: Callable[[dict[str, Any]], None]
) -> None:
    def apply(data: dict[str, Any]) -> None:
        change(next(t for t in data["tests"] if t["id"] == test_id))

    edit_json(adv / point / "summary.json", apply)


def report(adv: Path) -> AdvancedReport:
    return build(adv, load(adv))


def rows(adv: Path, database: str) -> dict[int, ScaleRow]:
    table = next(t for t in report(adv).scalability if t.database == database)
    return {r.servers: r for r in table.rows}


def scale(adv: Path, point: str) -> dict[str, Any]:
    return next(t for t in summary(adv, point)["tests"] if t["id"] == "scale/spread")


# --- the points file -----------------------------------------------------------------------


def test_init_writes_the_settings_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new"
    assert perfkit(capsys, "init", str(target), *INIT)[0] == 0
    data = json.loads((target / "advanced.json").read_text())
    assert data["schema_version"] == 1 and data["points"] == []
    assert (data["servers"], data["databases"], data["sweep"]) == (
        [1, 2], ["sqlite", "postgresql"], [1, 2, 4],
    )  # fmt: skip
    assert (data["p95_slo_ms"], data["pool_size"], data["max_overflow"]) == (
        1000,
        20,
        10,
    )
    before = (target / "advanced.json").read_bytes()
    code, _, err = perfkit(capsys, "init", str(target), *INIT)
    assert code == 2
    assert "already exists" in err and str(target / "advanced.json") in err
    assert (target / "advanced.json").read_bytes() == before


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--servers", "1,x"), ("--servers", "0,2"), ("--databases", "mysql"),
     ("--pool-size", "0"), ("--mode", "cloud")],
)  # fmt: skip
def test_init_refuses_bad_settings(tmp_path: Path, flag: str, value: str) -> None:
    args = list(INIT)
    args[args.index(flag) + 1] = value
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["advanced", "init", str(tmp_path / "x"), *args])
    assert exit_info.value.code == 2
    assert not (tmp_path / "x" / "advanced.json").exists()


def test_add_point_appends_and_keeps_a_run_without_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new"
    perfkit(capsys, "init", str(target), *INIT)
    (target / "sqlite" / "servers-1").mkdir(parents=True)
    add = ["add-point", str(target), "--database"]
    assert perfkit(capsys, *add, "sqlite", "--servers", "1", "--run", "sqlite/servers-1",
                   "--exit-code", "0")[0] == 0  # fmt: skip
    assert perfkit(capsys, *add, "postgresql", "--servers", "2", "--run", "",
                   "--exit-code", "3")[0] == 0  # fmt: skip
    points = json.loads((target / "advanced.json").read_text())["points"]
    assert [(p["database"], p["servers"], p["run"], p["exit_code"]) for p in points] == [
        ("sqlite", 1, "sqlite/servers-1", 0), ("postgresql", 2, None, 3),
    ]  # fmt: skip
    code, _, err = perfkit(capsys, *add, "sqlite", "--servers", "1", "--run", "",
                           "--exit-code", "0")  # fmt: skip
    assert code == 2 and "already has a point for sqlite with 1 server" in err
    code, _, err = perfkit(capsys, *add, "sqlite", "--servers", "4", "--run", "/etc",
                           "--exit-code", "0")  # fmt: skip
    assert code == 2 and "not a folder inside ADV_DIR" in err
    assert len(json.loads((target / "advanced.json").read_text())["points"]) == 2


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"schema_version": 9, "points": []}',
     json.dumps({**json.loads((FIXTURE / "advanced.json").read_text()), "points": [{"x": 1}]})],
)  # fmt: skip
def test_a_corrupt_points_file_is_refused(
    adv: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    (adv / "advanced.json").write_text(content)
    code, out, err = perfkit(capsys, "report", str(adv))
    assert code == 2
    assert str(adv / "advanced.json") in err and "fix or remove the file" in err
    assert out == "" and not (adv / "report.html").exists()


def test_an_unreadable_summary_is_refused_by_name(
    adv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adv / "postgresql" / "servers-2" / "summary.json").write_text('{"tests": [')
    code, _, err = perfkit(capsys, "report", str(adv))
    assert code == 2
    assert str(adv / "postgresql" / "servers-2" / "summary.json") in err
    assert "perfkit summarize" in err
    assert not (adv / "scalability.json").exists()


# --- scalability ---------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_speedup_efficiency_and_marginal_from_the_recorded_runs(
    adv: Path, database: str
) -> None:
    one = scale(adv, f"{database}/servers-1")["aggregate"]["rps"]
    two = scale(adv, f"{database}/servers-2")["aggregate"]["rps"]
    got = rows(adv, database)
    assert (got[1].rps, got[2].rps) == (one, two)
    assert (
        got[1].speedup == 1.0
        and got[1].efficiency == 1.0
        and got[1].marginal_rps is None
    )
    assert got[2].speedup == pytest.approx(two / one, abs=1e-3)
    assert got[2].efficiency == pytest.approx(two / one / 2, abs=1e-3)
    assert got[2].marginal_rps == pytest.approx(two - one, abs=0.01)


def test_marginal_divides_by_the_servers_added_and_skips_a_failed_row(
    adv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(servers=[1, 2, 4, 8]))
    shutil.copytree(adv / "sqlite" / "servers-2", adv / "sqlite" / "servers-8")
    edit_test(
        adv,
        "sqlite/servers-8",
        "scale/spread",
        lambda t: t["aggregate"].update(rps=60.0),
    )
    add = ["add-point", str(adv), "--database", "sqlite", "--exit-code"]
    assert perfkit(capsys, *add, "3", "--servers", "4", "--run", "")[0] == 0
    assert (
        perfkit(capsys, *add, "0", "--servers", "8", "--run", "sqlite/servers-8")[0]
        == 0
    )
    one = scale(adv, "sqlite/servers-1")["aggregate"]["rps"]
    two = scale(adv, "sqlite/servers-2")["aggregate"]["rps"]
    got = rows(adv, "sqlite")
    assert got[4].rps is None and got[4].speedup is None and got[4].state == "failed"
    assert got[8].marginal_rps == pytest.approx((60.0 - two) / 6, abs=0.01)
    assert got[8].efficiency == pytest.approx(60.0 / one / 8, abs=1e-3)


def test_efficiency_is_against_the_smallest_measured_count(adv: Path) -> None:
    shutil.rmtree(adv / "sqlite" / "servers-1")  # the 1-server point left no summary
    shutil.copytree(adv / "sqlite" / "servers-2", adv / "sqlite" / "servers-8")
    edit_test(
        adv,
        "sqlite/servers-8",
        "scale/spread",
        lambda t: t["aggregate"].update(rps=60.0),
    )
    edit_json(adv / "advanced.json", lambda d: d.update(servers=[1, 2, 8]))
    edit_json(adv / "advanced.json", lambda d: d["points"].append(
        {"database": "sqlite", "servers": 8, "run": "sqlite/servers-8", "exit_code": 0}))  # fmt: skip
    two = scale(adv, "sqlite/servers-2")["aggregate"]["rps"]
    got = rows(adv, "sqlite")
    assert (
        got[1].state == "missing" and got[2].speedup == 1.0 and got[2].efficiency == 1.0
    )
    assert got[8].speedup == pytest.approx(60.0 / two, abs=1e-3)
    assert got[8].efficiency == pytest.approx(60.0 / two / 4, abs=1e-3)


def test_tool_call_rps_is_the_median_of_per_round_sums(adv: Path) -> None:
    test = scale(adv, "sqlite/servers-2")
    calls = [c for c in test["components"] if "/call_bench-time-" in c["id"]]
    assert len(calls) == 2
    sums = [sum(c["rounds"][k]["rps"] for c in calls) for k in range(3)]
    assert rows(adv, "sqlite")[2].tool_rps == pytest.approx(
        statistics.median(sums), abs=0.01
    )


def test_resources_come_from_the_scale_test_and_exclude_the_monitors_connection(
    adv: Path,
) -> None:
    res = scale(adv, "postgresql/servers-2")["resources"]
    got = rows(adv, "postgresql")[2].resources
    assert got is not None
    assert got.gateway_cpu_mean == res["roles"]["gateway"]["cpu_percent_mean"]
    assert got.gateway_rss_max == res["roles"]["gateway"]["rss_bytes_max"]
    assert got.gateway_db_connections == res["postgres_connections_max"] - 1
    sqlite = rows(adv, "sqlite")[2].resources
    assert sqlite is not None and sqlite.gateway_db_connections is None


# --- tool calls per server -----------------------------------------------------------------


def test_tool_calls_reached_every_server(adv: Path) -> None:
    counts = summary(adv, "sqlite/servers-2")["servers"]
    coverage = rows(adv, "sqlite")[2].coverage
    assert coverage is not None and coverage.all_reached is True
    assert coverage.text == "tool calls reached all 2 servers"
    calls = [counts[f"bench-time-{i}"]["tool_calls"] for i in (1, 2)]
    assert (coverage.min_calls, coverage.max_calls, coverage.total_calls) == (
        min(calls), max(calls), sum(calls),
    )  # fmt: skip


def test_a_server_with_zero_calls_or_an_error_is_named(adv: Path) -> None:
    def starve(data: dict[str, Any]) -> None:
        data["servers"]["bench-time-2"]["tool_calls"] = 0

    edit_json(adv / "sqlite" / "servers-2" / "summary.json", starve)
    edit_json(adv / "postgresql" / "servers-2" / "summary.json",
              lambda d: d["servers"].pop("bench-time-1"))  # fmt: skip
    sqlite, pg = rows(adv, "sqlite")[2].coverage, rows(adv, "postgresql")[2].coverage
    assert sqlite is not None and sqlite.all_reached is False
    assert (
        "bench-time-2 served 0 tool calls" in sqlite.text
        and "bench-time-1" not in sqlite.text
    )
    assert sqlite.min_calls == 0
    assert pg is not None and pg.all_reached is False
    assert "bench-time-1: no count" in pg.text


def test_a_run_without_server_counts_says_so(adv: Path) -> None:
    edit_json(adv / "sqlite" / "servers-1" / "summary.json", lambda d: d.pop("servers"))
    coverage = rows(adv, "sqlite")[1].coverage
    assert coverage is not None and coverage.all_reached is None
    assert "not recorded" in coverage.text


# --- failed and missing points -------------------------------------------------------------


def test_failed_missing_and_not_run_points_are_shown_not_dropped(
    adv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(servers=[1, 2, 4]))
    assert perfkit(capsys, "add-point", str(adv), "--database", "postgresql", "--servers",
                   "4", "--run", "", "--exit-code", "3")[0] == 0  # fmt: skip
    shutil.rmtree(adv / "sqlite" / "servers-1")
    pg, sqlite = rows(adv, "postgresql"), rows(adv, "sqlite")
    assert pg[4].state == "failed" and "exit 3 (environment not ready)" in str(
        pg[4].problem
    )
    assert sqlite[1].state == "missing" and "sqlite/servers-1 not found" in str(
        sqlite[1].problem
    )
    assert sqlite[4].state == "not run"
    assert all(r.rps is None for r in (pg[4], sqlite[1], sqlite[4]))
    assert sqlite[2].speedup == 1.0  # against the smallest server count measured
    code, out, _ = perfkit(capsys, "report", str(adv))
    assert code == 0
    assert "4 server(s): failed: the run left no folder (exit 3" in out
    assert "1 server(s): missing: run folder sqlite/servers-1 not found" in out
    html = (adv / "report.html").read_text()
    assert (
        "not drawn (no figures): sqlite 1 server(s) (missing), sqlite 4 server(s) (not run)"
        in html
    )
    assert (
        "not comparable: postgresql failed" not in html
    )  # sqlite 4 was not run either
    assert "not comparable: sqlite not run, postgresql failed" in html


def test_a_measured_point_whose_run_failed_keeps_its_figures_and_says_so(
    adv: Path,
) -> None:
    edit_json(adv / "advanced.json", lambda d: d["points"][1].update(exit_code=4))
    edit_json(
        adv / "sqlite" / "servers-2" / "summary.json",
        lambda d: d.update(status="partial"),
    )
    two = rows(adv, "sqlite")[2]
    assert (
        two.state == "measured"
        and two.rps == scale(adv, "sqlite/servers-2")["aggregate"]["rps"]
    )
    assert two.problem == "the run ended with exit 4 (benchmark failed) (a partial run)"
    assert rows(adv, "sqlite")[1].problem is None


# --- PostgreSQL against SQLite -------------------------------------------------------------


def set_rounds(adv: Path, point: str, values: list[float]) -> None:
    def change(test: dict[str, Any]) -> None:
        template = test["rounds"][0]
        test["rounds"] = [
            {**template, "index": i, "rps": v} for i, v in enumerate(values, 1)
        ]
        test["aggregate"]["rps"] = statistics.median(values)

    edit_test(adv, point, "scale/spread", change)


def test_three_rounds_a_side_cannot_reach_significance_and_say_so(adv: Path) -> None:
    comparison = {c.servers: c for c in report(adv).comparison}
    sq, pg = scale(adv, "sqlite/servers-1"), scale(adv, "postgresql/servers-1")
    one = comparison[1]
    assert one.rps_diff_pct == pytest.approx(
        100
        * (pg["aggregate"]["rps"] - sq["aggregate"]["rps"])
        / sq["aggregate"]["rps"],
        abs=0.05,
    )
    assert one.sqlite.rounds_rps == [r["rps"] for r in sq["rounds"]]
    assert one.verdict == "no clear difference"
    assert one.p_value is not None and one.p_value >= 0.1
    assert one.note is not None and "p cannot go below 0.10" in one.note


def test_separated_rounds_give_a_verdict_with_size_and_significance(adv: Path) -> None:
    set_rounds(adv, "sqlite/servers-1", [30.0, 31.0, 30.5, 29.8, 30.2])
    set_rounds(adv, "postgresql/servers-1", [25.0, 25.5, 24.8, 26.0, 25.2])
    set_rounds(adv, "sqlite/servers-2", [30.0, 31.0, 30.5, 29.8, 30.2])
    set_rounds(
        adv, "postgresql/servers-2", [30.1, 30.9, 30.6, 29.9, 30.3]
    )  # overlapping
    comparison = {c.servers: c for c in report(adv).comparison}
    assert comparison[1].verdict == "PostgreSQL slower"
    assert comparison[1].p_value is not None and comparison[1].p_value < 0.05
    assert comparison[1].note is None
    assert comparison[2].verdict == "no clear difference"
    set_rounds(adv, "postgresql/servers-1", [35.0, 35.5, 34.8, 36.0, 35.2])
    assert report(adv).comparison[0].verdict == "PostgreSQL faster"


def test_a_significant_but_small_difference_is_no_clear_difference(adv: Path) -> None:
    set_rounds(adv, "sqlite/servers-1", [30.0, 30.1, 30.2, 30.3, 30.4])
    set_rounds(adv, "postgresql/servers-1", [30.6, 30.7, 30.8, 30.9, 31.0])  # +2%
    first = report(adv).comparison[0]
    assert first.p_value is not None and first.p_value < 0.05
    assert first.verdict == "no clear difference"


def test_fewer_than_three_rounds_are_too_few_but_the_figures_stay(adv: Path) -> None:
    set_rounds(adv, "postgresql/servers-2", [20.0, 21.0])
    two = {c.servers: c for c in report(adv).comparison}[2]
    assert two.verdict == "too few rounds to judge (2 rounds)"
    assert two.p_value is None
    assert two.postgresql.rps == 20.5 and two.rps_diff_pct is not None


# --- the sweep -----------------------------------------------------------------------------


def sweep(adv: Path, database: str) -> Any:
    return next(s for s in report(adv).sweeps if s.database == database)


def test_the_knee_is_the_highest_level_within_the_slo(adv: Path) -> None:
    got = sweep(adv, "sqlite")
    assert [r.level for r in got.rows] == [1, 2, 4]
    assert got.knee == 4 and "may lie beyond it" in got.knee_text
    p95 = {int(t["id"][7:]): t["aggregate"]["p95_ms"] for t in summary(adv, "sqlite/servers-2")["tests"] if t["id"].startswith("sweep/")}  # fmt: skip
    slo = (p95[2] + p95[4]) / 2  # between the two highest levels
    edit_json(adv / "advanced.json", lambda d: d.update(p95_slo_ms=slo))
    got = sweep(adv, "sqlite")
    assert got.knee == 2 and "may lie beyond" not in got.knee_text


def test_a_level_with_errors_is_not_the_knee(adv: Path) -> None:
    edit_test(adv, "sqlite/servers-2", "sweep/c4", lambda t: t.update(error_rate=0.02))
    assert sweep(adv, "sqlite").knee == 2


def test_no_knee_when_no_level_meets_the_slo(adv: Path) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(p95_slo_ms=5))
    got = sweep(adv, "postgresql")
    assert got.knee is None
    assert got.knee_text == "no level met p95 <= 5 ms with no errors"


def test_a_level_asked_for_but_not_measured_is_shown_empty(adv: Path) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(sweep=[1, 2, 4, 8]))
    got = sweep(adv, "sqlite")
    assert [(r.level, r.status) for r in got.rows][-1] == (8, "not measured")
    assert (
        got.rows[-1].rps is None and got.knee == 4
    )  # the knee is among measured levels


def test_no_sweep_when_the_largest_point_left_no_summary(adv: Path) -> None:
    shutil.rmtree(adv / "postgresql" / "servers-2")
    got = sweep(adv, "postgresql")
    assert got.rows == [] and got.knee is None and got.saturation is None
    assert "no sweep results" in got.knee_text


def test_pool_not_reached_in_the_recording(adv: Path) -> None:
    tests = summary(adv, "postgresql/servers-2")["tests"]
    most = max(
        t["resources"]["postgres_connections_max"]
        for t in tests
        if t["id"].startswith("sweep/")
    )
    got = sweep(adv, "postgresql")
    assert got.saturation is None
    assert got.saturation_text.startswith(
        f"not reached: at most {most - 1} of 30 connections"
    )
    assert sweep(adv, "sqlite").saturation_text == "not applicable (SQLite)"


def test_pool_saturation_is_the_lowest_level_that_filled_the_pool(adv: Path) -> None:
    def fill(test: dict[str, Any]) -> None:
        test["resources"]["postgres_connections_max"] = (
            31  # 30 the gateway's + the monitor
        )

    edit_test(adv, "postgresql/servers-2", "sweep/c2", fill)
    edit_test(adv, "postgresql/servers-2", "sweep/c4", fill)
    got = sweep(adv, "postgresql")
    assert got.saturation == 2
    assert (
        got.saturation_text == "2 clients: the gateway held 30 of 30 pool connections"
    )


def test_a_smaller_pool_fills_at_the_recorded_connections(adv: Path) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(pool_size=3, max_overflow=2))
    assert sweep(adv, "postgresql").saturation == 1


def test_throughput_plateau_is_the_first_level_gaining_under_five_percent(
    adv: Path,
) -> None:
    rps = {int(t["id"][7:]): t["aggregate"]["rps"] for t in summary(adv, "postgresql/servers-2")["tests"] if t["id"].startswith("sweep/")}  # fmt: skip
    first = next(
        (lvl for prev, lvl in ((1, 2), (2, 4)) if rps[lvl] < 1.05 * rps[prev]), None
    )
    assert sweep(adv, "postgresql").plateau == first
    c1 = next(
        t for t in summary(adv, "sqlite/servers-2")["tests"] if t["id"] == "sweep/c1"
    )
    slower = c1["aggregate"]["rps"] * 1.03  # grows, but by less than 5%
    edit_test(
        adv, "sqlite/servers-2", "sweep/c2", lambda t: t["aggregate"].update(rps=slower)
    )
    assert sweep(adv, "sqlite").plateau == 2


# --- output --------------------------------------------------------------------------------


def test_report_writes_data_html_and_text(
    adv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adv / "postgresql" / "servers-2" / "report.html").write_text("<p>run report</p>")
    code, out, err = perfkit(capsys, "report", str(adv))
    assert code == 0
    assert f"perfkit advanced: {adv / 'report.html'}" in err and str(adv) not in out
    data = json.loads((adv / "scalability.json").read_text())
    assert data["schema_version"] == 1
    assert [t["database"] for t in data["scalability"]] == ["sqlite", "postgresql"]
    assert [c["servers"] for c in data["comparison"]] == [1, 2]
    for text in ("sqlite: scale/spread per server count, speedup against 1 server(s)",
                 "PostgreSQL vs SQLite", "Concurrency sweep, postgresql", "knee: 4 clients",
                 "DB pool saturation: not reached", "tool calls reached all 2 servers"):  # fmt: skip
        assert text in out
    html = (adv / "report.html").read_text()
    for section in ("settings", "how-to-read", "scalability-sqlite", "scalability-postgresql",
                    "charts", "comparison", "sweep-sqlite", "sweep-postgresql", "servers",
                    "points"):  # fmt: skip
        assert f'<section id="{section}"' in html
    assert "<h1>Scalability report</h1>" in html
    assert html.count("<svg") == 4
    assert '<a href="postgresql/servers-2/report.html">' in html
    assert '<a href="sqlite/servers-2/report.html">' not in html  # no such file
    assert "http://" not in html and "https://" not in html


def test_html_without_postgresql_has_no_comparison(adv: Path) -> None:
    edit_json(adv / "advanced.json", lambda d: d.update(
        databases=["sqlite"], points=[p for p in d["points"] if p["database"] == "sqlite"]))  # fmt: skip
    built = report(adv)
    assert built.comparison == [] and [s.database for s in built.sweeps] == ["sqlite"]
    html = render(built)
    assert (
        '<section id="comparison"' not in html and '<section id="sweep-sqlite"' in html
    )


def test_a_gateway_reporting_another_database_is_warned_about(adv: Path) -> None:
    edit_json(adv / "postgresql" / "servers-1" / "summary.json",
              lambda d: d["target"]["gateway_settings"].update(database="sqlite"))  # fmt: skip
    assert report(adv).warnings == [
        "postgresql, 1 server(s): the gateway reported database 'sqlite'"
    ]
