"""The tuning advisor's computations (perfkit.tune) on recorded real A/B runs: a costly setting
(debug logging of every request) and an A/A pair of the same release, both from
tests/fixtures/ab (utils/compare-versions.sh on the real gateway)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import HEY_FIXTURES
from perfkit.exitcodes import KitError
from perfkit.gateway.release import ReleaseSettings
from perfkit.tune import candidates as cand
from perfkit.tune import cli, rank, sweep
from perfkit.tune.envfile import env_example, env_fragment
from perfkit.tune.page import render_page
from perfkit.tune.text import render_table

AB = HEY_FIXTURES.parent / "ab"
RELEASE = ReleaseSettings(
    fields={"LOG_LEVEL": "config.py:1", "LOG_REQUESTS": "config.py:2", "CACHE_TYPE": "config.py:3"},
    direct={"WEB_CONCURRENCY": "uvicorn/config.py:357"},
)  # fmt: skip


# --- candidates -----------------------------------------------------------------------------


def test_a_candidate_is_one_or_more_pairs() -> None:
    one = cand.parse_candidate("CACHE_TYPE=redis", "x")
    two = cand.parse_candidate("LOG_LEVEL=DEBUG, LOG_REQUESTS=true", "x")
    assert one.label == "CACHE_TYPE=redis" and one.as_dict() == {"CACHE_TYPE": "redis"}
    assert two.label == "LOG_LEVEL=DEBUG,LOG_REQUESTS=true"
    assert "," not in two.slug and "/" not in cand.parse_candidate("A=x/y", "x").slug


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("", "an empty candidate"),
        ("CACHE_TYPE", "NAME=VALUE"),
        ("LOG_LEVEL=INFO,log_level=DEBUG", "names a setting twice"),
    ],
)
def test_a_malformed_candidate_is_exit_2_naming_where(spec: str, said: str) -> None:
    with pytest.raises(KitError) as error:
        cand.parse_candidate(spec, "--candidate")
    assert error.value.code == 2 and said in str(error.value)
    assert "--candidate" in str(error.value)


def test_a_name_the_release_does_not_read_is_exit_2_naming_it_and_the_release() -> None:
    chosen = [cand.parse_candidate("LOG_REQUEST=true", "--candidate")]
    with pytest.raises(KitError) as error:
        cand.check_candidates(chosen, RELEASE, "1.0.7")
    text = str(error.value)
    assert error.value.code == 2
    assert "unknown gateway setting 'LOG_REQUEST' (did you mean LOG_REQUESTS?)" in text
    assert "release 1.0.7 does not read it" in text
    cand.check_candidates(
        [cand.parse_candidate("WEB_CONCURRENCY=2", "x")], RELEASE, "1.0.7"
    )


def test_the_same_candidate_twice_is_refused() -> None:
    twice = [cand.parse_candidate("CACHE_TYPE=redis", "x")] * 2
    with pytest.raises(KitError, match="given twice"):
        cand.check_candidates(twice, RELEASE, "1.0.7")


def test_trade_offs_match_the_value_first_then_the_name() -> None:
    offs = {"CACHE_TYPE=memory": "per process", "LOG_LEVEL": "less to read"}
    assert (
        cand.trade_off(cand.parse_candidate("CACHE_TYPE=memory", "x"), offs)
        == "per process"
    )
    assert cand.trade_off(cand.parse_candidate("CACHE_TYPE=redis", "x"), offs) is None
    both = cand.parse_candidate("CACHE_TYPE=memory,LOG_LEVEL=ERROR", "x")
    assert cand.trade_off(both, offs) == "per process; less to read"


@pytest.mark.parametrize(
    "node",
    [
        {"candidates": "CACHE_TYPE=redis"},
        {"candidates": ["CACHE_TYPE"]},
        {"trade_offs": {"CACHE_TYPE": ""}},
        {"budget_minutes": -5},
        {"budget_minutes": True},
        {"candidate": []},
    ],
)
def test_a_wrong_tune_block_is_exit_2(node: dict[str, Any]) -> None:
    with pytest.raises(KitError) as error:
        cand.parse_section(node, "config.yaml")
    assert error.value.code == 2 and "config.yaml" in str(error.value)


def test_the_kits_own_tune_block_is_valid_and_names_known_settings() -> None:
    from perfkit.config import read_yaml

    root = Path(__file__).resolve().parents[2]
    section = cand.parse_section(read_yaml(root / "config.yaml")["tune"], "config.yaml")
    assert section.candidates and section.budget_minutes
    assert {"CACHE_TYPE=redis", "WEB_CONCURRENCY=2"} <= set(section.candidates)


# --- verdicts ---------------------------------------------------------------------------------


def effect_of(values: list[float]) -> rank.Effect:
    found = rank.effect(values)
    assert found is not None
    return found


def test_the_effect_is_the_geometric_mean_with_an_interval_over_the_tests() -> None:
    found = effect_of([1.2, 1.2, 1.2])
    assert found.change_pct == pytest.approx(20.0)
    assert found.ci_pct == pytest.approx((20.0, 20.0))
    spread = effect_of([1.1, 1.3, 0.9, 1.2])
    assert (
        spread.ci_pct is not None
        and spread.ci_pct[0] < spread.change_pct < spread.ci_pct[1]
    )
    assert effect_of([2.0]).ci_pct is None
    assert rank.effect([0.0, float("nan")]) is None


@pytest.mark.parametrize(
    ("tally", "rps", "p50", "expected"),
    [
        ({"regression": 1}, (5, 10), None, "worse"),
        ({"failed": 1, "improvement": 3}, (5, 10), None, "worse"),
        ({"improvement": 2, "inconclusive": 3}, (2, 9), None, "better"),
        ({"improvement": 2, "inconclusive": 3}, None, (-9, -2), "better"),
        ({"improvement": 2, "inconclusive": 3}, (-1, 9), (-9, 1), "inconclusive"),
        ({"inconclusive": 5}, (2, 9), None, "inconclusive"),
        # every test a little faster, each too noisy alone: the workload decides
        ({"inconclusive": 15}, (28, 49), (-42, -31), "better"),
        ({"inconclusive": 15}, (1, 8), (-7, 0.1), "inconclusive"),
        ({"inconclusive": 15}, (-14, -3), (6, 22), "worse"),
        ({"improvement": 1, "inconclusive": 4}, (-14, -3), (6, 22), "worse"),
        ({"unchanged": 5}, (-1, 1), None, "no effect"),
    ],
)
def test_a_candidates_verdict(
    tally: dict[str, int],
    rps: tuple[float, float] | None,
    p50: tuple[float, float] | None,
    expected: str,
) -> None:
    full = {
        k: 0
        for k in ("improvement", "regression", "unchanged", "inconclusive", "failed")
    }
    found = {}
    if rps:
        found["rps"] = rank.Effect(sum(rps) / 2, rps, 5)
    if p50:
        found["p50"] = rank.Effect(sum(p50) / 2, p50, 5)
    assert rank.verdict(full | tally, found) == expected


def fixture_record(
    tmp_path: Path, name: str, label: str, settings: dict[str, str]
) -> dict[str, Any]:
    run = tmp_path / name
    shutil.copytree(AB / name, run)
    slug = cand.parse_candidate(label, "x").slug
    return {"label": label, "slug": slug, "settings": settings, "trade_off": None,
            "status": "measured", "exit_code": 1, "seconds": 300.0, "run": str(run),
            "log_tail": []}  # fmt: skip


def test_the_costly_setting_measured_on_the_real_gateway_is_worse(
    tmp_path: Path,
) -> None:
    record = fixture_record(
        tmp_path, "slow-setting", "LOG_LEVEL=DEBUG,LOG_REQUESTS=true",
        {"LOG_LEVEL": "DEBUG", "LOG_REQUESTS": "true"},
    )  # fmt: skip
    row = rank.judge(record)
    assert row["verdict"] == "worse"
    assert row["counts"]["regression"] == 3 and row["tests"] == 9
    assert set(row["regressed"]) == {
        "gateway-core/ready", "gateway-core/rest_list_gateways_limit_100", "gateway-core/rpc_ping",
    }  # fmt: skip
    # every metric's effect is measured, over all nine tests
    assert set(row["effects"]) == {"rps", "p50", "p95"}
    assert all(e["tests"] == 9 for e in row["effects"].values())


def test_an_aa_pair_is_never_better_or_worse(tmp_path: Path) -> None:
    row = rank.judge(
        fixture_record(tmp_path, "aa", "CACHE_TYPE=memory", {"CACHE_TYPE": "memory"})
    )
    assert row["verdict"] in ("inconclusive", "no effect")
    assert rank.recommended([row]) == {}


def test_a_candidate_that_was_not_measured_keeps_why() -> None:
    for status, said in rank.UNMEASURED_VERDICT.items():
        row = rank.judge(
            {"label": "X=1", "slug": "X=1", "settings": {"X": "1"}, "status": status}
        )
        assert row["verdict"] == said and row["counts"] is None


def better(label: str, rps: float, settings: dict[str, str]) -> dict[str, Any]:
    return {"label": label, "slug": label, "settings": settings, "status": "measured",
            "verdict": "better", "effects": {"rps": {"change_pct": rps}}, "trade_off": None,
            "log_tail": []}  # fmt: skip


def test_ranking_and_one_value_per_name_in_the_recommendation() -> None:
    rows = [
        better("CACHE_TYPE=database", 3.0, {"CACHE_TYPE": "database"}),
        {"label": "B=1", "slug": "B=1", "settings": {"B": "1"}, "status": "broke",
         "verdict": "broke the gateway", "effects": {}},
        better("CACHE_TYPE=redis", 9.0, {"CACHE_TYPE": "redis"}),
        better("W=2", 5.0, {"W": "2"}),
        {**better("L=1", 20.0, {"L": "1"}), "verdict": "worse"},
    ]  # fmt: skip
    assert [r["label"] for r in rank.ranked(rows)] == [
        "L=1", "CACHE_TYPE=redis", "W=2", "CACHE_TYPE=database", "B=1",
    ]  # fmt: skip
    assert rank.recommended(rows) == {"CACHE_TYPE": "redis", "W": "2"}


# --- a sweep folder through the command line -----------------------------------------------


def make_sweep(tmp_path: Path, budget: float | None = None) -> Path:
    folder = tmp_path / "tune_1"
    folder.mkdir(parents=True)
    plan = {
        "release": "1.0.7.post20260921",
        "workload": {"profile": "light", "scenarios": "gateway-core", "tests": "",
                     "test_count": 9, "rounds": 5},
        "budget_minutes": budget, "estimate_seconds": 400.0, "estimate_source": "a guess",
        "started_at": "2026-12-06T08:00:00+00:00",
        "candidates": [
            {"label": "LOG_LEVEL=DEBUG,LOG_REQUESTS=true", "slug": "LOG_LEVEL=DEBUG_LOG_REQUESTS=true",
             "settings": {"LOG_LEVEL": "DEBUG", "LOG_REQUESTS": "true"}, "trade_off": None},
            {"label": "CACHE_TYPE=memory", "slug": "CACHE_TYPE=memory",
             "settings": {"CACHE_TYPE": "memory"}, "trade_off": "per process"},
            {"label": "WEB_CONCURRENCY=2", "slug": "WEB_CONCURRENCY=2",
             "settings": {"WEB_CONCURRENCY": "2"}, "trade_off": None},
        ],
        "trade_offs": {},
    }  # fmt: skip
    sweep.write_plan(folder, plan)
    return folder


def record(
    folder: Path,
    slug: str,
    status: str,
    run: Path | None = None,
    log: Path | None = None,
) -> None:
    argv = ["record", str(folder), "--slug", slug, "--status", status, "--exit", "1",
            "--seconds", "300", "--run", str(run or "")]  # fmt: skip
    if log:
        argv += ["--log", str(log)]
    assert cli.cli(argv) == 0


def test_a_sweep_is_recorded_ranked_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_sweep(tmp_path)
    shutil.copytree(AB / "slow-setting", folder / "slow")
    shutil.copytree(AB / "aa", folder / "aa")
    log = tmp_path / "gateway.log"
    log.write_text(
        "starting\nTraceback (most recent call last):\nValueError: workers\n"
    )
    record(folder, "LOG_LEVEL=DEBUG_LOG_REQUESTS=true", "measured", folder / "slow")
    record(folder, "CACHE_TYPE=memory", "measured", folder / "aa")
    record(folder, "WEB_CONCURRENCY=2", "broke", log=log)
    assert cli.cli(["winners", str(folder), "--output", str(tmp_path / "c.env")]) == 1
    stack_env = tmp_path / "gateway.env"
    stack_env.write_text(
        "JWT_SECRET_KEY=abc\nDATABASE_URL=sqlite:////x/mcp.db\nLOG_LEVEL=ERROR\n"
    )
    example = tmp_path / ".env.example"
    capsys.readouterr()
    assert cli.cli(["report", str(folder), "--stack-env", str(stack_env),
                    "--env-example", str(example)]) == 0  # fmt: skip
    table = capsys.readouterr().out
    data = json.loads((folder / sweep.TUNE_FILE).read_text())
    verdicts = {r["label"]: r["verdict"] for r in data["candidates"]}
    assert verdicts["LOG_LEVEL=DEBUG,LOG_REQUESTS=true"] == "worse"
    assert verdicts["WEB_CONCURRENCY=2"] == "broke the gateway"
    assert data["candidates"][-1]["label"] == "WEB_CONCURRENCY=2"
    assert "ValueError: workers" in data["candidates"][-1]["log_tail"]
    assert data["recommended"] == {} and data["partial"] is None
    assert "LOG_LEVEL=DEBUG,LOG_REQUESTS=true  worse" in table
    assert "WEB_CONCURRENCY=2 broke the gateway; the log's end:" in table
    assert "No setting measured better beyond noise" in table
    fragment = (folder / sweep.ENV_FILE).read_text()
    assert (
        "no setting measured better" in fragment
        and "=" not in fragment.splitlines()[-1].split("#")[0]
    )
    text = example.read_text()
    assert "JWT_SECRET_KEY=  # a secret" in text and "abc" not in text
    assert "# DATABASE_URL=sqlite" in text and "\nLOG_LEVEL=ERROR\n" in text
    assert "# LOG_LEVEL=DEBUG\n" in text  # measured worse: commented out
    page = (folder / sweep.PAGE_FILE).read_text()
    assert 'data-table="tune"' in page and 'data-chart="tune"' in page
    assert "ValueError: workers" in page


def test_better_settings_are_recommended_and_combined(tmp_path: Path) -> None:
    data = {
        "release": "1.0.7", "finished_at": "2026-12-06T09:00:00+00:00", "partial": None,
        "workload": {"profile": "light", "scenarios": "tools", "tests": "", "test_count": 6, "rounds": 5},
        "measured_on": {"host": "h", "cores": 2},
        "candidates": [
            {**better("CACHE_TYPE=redis", 9.0, {"CACHE_TYPE": "redis"}),
             "effects": {"rps": {"change_pct": 9.0, "ci_pct": [3.0, 15.0], "tests": 6}},
             "trade_off": "shared cache", "counts": None, "seconds": 60},
        ],
        "combination": None, "recommended": {"CACHE_TYPE": "redis"},
    }  # fmt: skip
    fragment = env_fragment(data)
    assert fragment.endswith("CACHE_TYPE=redis\n")
    assert (
        "# CACHE_TYPE=redis: better: req/s +9.0% [+3.0, +15.0] over 6 tests" in fragment
    )
    assert "#   gives up: shared cache" in fragment
    assert "\nCACHE_TYPE=redis\n" in env_example(data, None)
    assert (
        "Recommended (measured better beyond noise): CACHE_TYPE=redis"
        in render_table(data)
    )
    assert "CACHE_TYPE=redis" in render_page(data)


def test_the_budget_stops_the_sweep_before_an_ab_that_would_not_fit(
    tmp_path: Path,
) -> None:
    folder = make_sweep(tmp_path, budget=10)
    # the plan's guess: 400 s an A/B
    assert cli.cli(["fits", str(folder), "--elapsed", "100"]) == 0
    assert cli.cli(["fits", str(folder), "--elapsed", "300"]) == 1
    # measured: 300 s an A/B
    shutil.copytree(AB / "aa", folder / "aa")
    record(folder, "CACHE_TYPE=memory", "measured", folder / "aa")
    assert cli.cli(["fits", str(folder), "--elapsed", "300"]) == 0
    no_budget = make_sweep(tmp_path / "x")
    assert cli.cli(["fits", str(no_budget), "--elapsed", "99999"]) == 0


def test_an_interrupted_sweep_is_labelled_partial_and_lists_what_was_not_run(
    tmp_path: Path,
) -> None:
    folder = make_sweep(tmp_path)
    shutil.copytree(AB / "aa", folder / "aa")
    record(folder, "CACHE_TYPE=memory", "measured", folder / "aa")
    assert cli.cli(["report", str(folder), "--partial", "interrupted (Ctrl+C)"]) == 0
    data = json.loads((folder / sweep.TUNE_FILE).read_text())
    assert data["partial"] == "interrupted (Ctrl+C)"
    assert {r["label"]: r["verdict"] for r in data["candidates"]} == {
        "CACHE_TYPE=memory": rank.judge(sweep.load_records(folder)[0])["verdict"],
        "LOG_LEVEL=DEBUG,LOG_REQUESTS=true": "interrupted",
        "WEB_CONCURRENCY=2": "interrupted",
    }
    assert "PARTIAL" in (folder / sweep.ENV_FILE).read_text()


def test_earlier_sweeps_of_the_same_workload_set_the_estimate(tmp_path: Path) -> None:
    workload = {
        "profile": "light",
        "scenarios": "tools",
        "tests": "",
        "test_count": 6,
        "rounds": 5,
    }
    for name, seconds, load in (
        ("tune_a", 200, workload),
        ("tune_b", 900, {**workload, "rounds": 9}),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / sweep.TUNE_FILE).write_text(json.dumps({
            "schema_version": 1, "workload": load, "candidates": [{"status": "measured", "seconds": seconds},
                                             {"status": "broke", "seconds": 5}],
            "combination": None}))  # fmt: skip
    assert sweep.earlier_seconds(tmp_path, workload) == [200.0]
