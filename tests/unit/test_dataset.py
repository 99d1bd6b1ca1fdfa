"""Datasets (perfkit.dataset): the files under datasets/, their checks, the rows a seed makes
and the estimate of --dry-run. The writer itself runs in the gateway's venv against a real
database: tests/integration/test_populate.py."""

from __future__ import annotations

import itertools
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from perfkit.cli import main
from perfkit.dataset import estimate, plan, spec
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import KIT_ROOT


def load(name: str) -> spec.Dataset:
    return spec.load(KIT_ROOT, name)


def test_every_dataset_file_loads_and_grows_tenfold_in_tools() -> None:
    names = spec.available(KIT_ROOT)
    assert names == [
        "history-100k", "history-10k", "history-1m",
        "large", "massive", "medium", "small", "tiny",
    ]  # fmt: skip
    # the call-history datasets: tiny's entities, ten times the metrics rows each
    history = [load(f"history-{n}").counts for n in ("10k", "100k", "1m")]
    assert [h["tool_metrics"] for h in history] == [10**4, 10**5, 10**6]
    assert all(h["tools"] == load("tiny").counts["tools"] for h in history)
    tools = [load(n).counts["tools"] for n in ("small", "medium", "large", "massive")]
    assert [b / a for a, b in itertools.pairwise(tools)] == [10, 10, 10]
    # the small: about 100 users, 10 teams, 1,000 tools, 100 servers, 500 prompts
    small = load("small").counts
    assert (small["users"], small["teams"], small["tools"], small["servers"]) == (
        100,
        10,
        1000,
        100,
    )
    assert (small["prompts"], small["resources"]) == (500, 500)


def test_large_datasets_are_made_for_postgresql_only() -> None:
    assert load("large").backends == ("postgresql",)
    assert load("massive").backends == ("postgresql",)
    assert "sqlite" in load("small").backends


def test_unknown_dataset_names_the_ones_there_are() -> None:
    with pytest.raises(KitError) as err:
        load("smal")
    assert err.value.code == ExitCode.USAGE
    assert (
        "dataset 'smal' not found (have: history-100k, history-10k, history-1m, large, "
        "massive, medium, small, tiny)" in str(err.value)
    )


@pytest.mark.parametrize(
    ("counts", "words"),
    [
        ({"users": -1}, "counts.users must be a whole number >= 0, got -1"),
        ({"users": 1.5}, "counts.users must be a whole number >= 0"),
        (
            {"users": 2, "login_users": 3},
            "login_users (3) is more than counts.users (2)",
        ),
        ({"users": 0, "tools": 3, "gateways": 1}, "counts.users is 0"),
        ({"users": 1, "tools": 3}, "needs at least 1 gateway"),
        ({"users": 1, "tool_metrics": 3}, "counts.tool_metrics needs counts.tools > 0"),
        ({"user": 1}, "unknown count(s) user"),
    ],
)
def test_bad_counts_are_refused_naming_the_key(
    counts: dict[str, Any], words: str
) -> None:
    with pytest.raises(KitError) as err:
        spec.parse("x", {"counts": counts}, "datasets/x.yaml")
    assert err.value.code == ExitCode.USAGE
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("shape", "words"),
    [
        ({"tools_per_server": [9, 2]}, "shape.tools_per_server must be [low, high]"),
        ({"visibility": {"public": 0, "team": 0}}, "shape.visibility must give shares"),
        ({"visibility": {"secret": 1}}, "shape.visibility"),
        ({"gateway_skew": -1}, "shape.gateway_skew must be a number >= 0"),
        ({"colour": 1}, "unknown shape key(s) colour"),
    ],
)
def test_bad_shapes_are_refused(shape: dict[str, Any], words: str) -> None:
    with pytest.raises(KitError) as err:
        spec.parse("x", {"counts": {"users": 1}, "shape": shape}, "datasets/x.yaml")
    assert words in str(err.value)


def test_a_seed_makes_the_same_rows_and_another_seed_other_rows() -> None:
    tiny = load("tiny")
    now = plan.datetime(2026, 12, 3, tzinfo=plan.UTC)
    first, again, other = (plan.build(tiny, s, 1, now) for s in (7, 7, 8))
    assert first.tables == again.tables
    assert list(first.lazy["tool_metrics"]) == list(again.lazy["tool_metrics"])
    assert first.tables["tools"] != other.tables["tools"]


def test_rows_have_the_shape_of_a_real_gateway() -> None:
    small = load("small")
    made = plan.build(small, 1, 1)
    rows = made.tables
    counts = made.rows()
    for table in (
        "email_users",
        "gateways",
        "tools",
        "servers",
        "prompts",
        "resources",
    ):
        key = table if table != "email_users" else "users"
        assert counts[table] == small.counts[key]
    # every user has a personal team they own, and the shared teams have members
    personal = [t for t in rows["email_teams"] if t["is_personal"]]
    assert len(personal) == small.counts["users"]
    shared = [t["id"] for t in rows["email_teams"] if not t["is_personal"]]
    members = Counter(m["team_id"] for m in rows["email_team_members"])
    assert all(3 <= members[t] <= 25 for t in shared)
    # visibility mixed as the shape says (0.4 / 0.4 / 0.2), each with a real team and owner
    seen = Counter(t["visibility"] for t in rows["tools"])
    assert 0.33 < seen["public"] / 1000 < 0.47 and 0.13 < seen["private"] / 1000 < 0.27
    teams_of: dict[str, set[str]] = {}
    for m in rows["email_team_members"]:
        teams_of.setdefault(m["user_email"], set()).add(m["team_id"])
    assert all(t["team_id"] in teams_of[t["owner_email"]] for t in rows["tools"])
    # private items live in their owner's personal team
    personal_of = {t["created_by"]: t["id"] for t in personal}
    assert all(
        t["team_id"] == personal_of[t["owner_email"]]
        for t in rows["tools"]
        if t["visibility"] == "private"
    )
    # a few gateways carry most tools (Zipf): the busiest has several times the median's
    per_gateway = sorted(Counter(t["gateway_id"] for t in rows["tools"]).values())
    assert per_gateway[-1] > 4 * statistics.median(per_gateway)
    # servers hold 5-50 tools; tool names unique per gateway (the gateway's constraint)
    per_server = Counter(a["server_id"] for a in rows["server_tool_association"])
    assert min(per_server.values()) >= 5 and max(per_server.values()) <= 50
    names = [(t["gateway_id"], t["original_name"]) for t in rows["tools"]]
    assert len(set(names)) == len(names)
    # descriptions of realistic lengths, not fixed ones
    lengths = [len(t["description"].split()) for t in rows["tools"]]
    assert min(lengths) >= 8 and max(lengths) <= 40 and len(set(lengths)) > 20


def test_everything_made_carries_the_kits_marks() -> None:
    made = plan.build(load("tiny"), 3, 2)
    assert made.marks.batch_id == "perfkit-tiny-s3-g2"
    assert len(made.marks.batch_id) <= 36
    assert all(
        u["email"].endswith("@" + plan.MARK_DOMAIN) for u in made.tables["email_users"]
    )
    assert all(".g2." in u["email"] for u in made.tables["email_users"])
    assert all(t["slug"].startswith(plan.MARK_SLUG) for t in made.tables["email_teams"])
    for table in ("gateways", "tools", "servers", "prompts", "resources"):
        assert {r["import_batch_id"] for r in made.tables[table]} == {
            made.marks.batch_id
        }
    assert made.login_emails == [u["email"] for u in made.tables["email_users"][:2]]


def test_metric_rows_fall_in_the_last_hour_and_point_to_made_items() -> None:
    now = plan.datetime(2026, 12, 3, 12, tzinfo=plan.UTC)
    made = plan.build(load("tiny"), 1, 1, now)
    tools = {t["id"] for t in made.tables["tools"]}
    rows = list(made.lazy["tool_metrics"])
    assert len(rows) == 200
    assert {r["tool_id"] for r in rows} <= tools
    assert all(now - plan.timedelta(hours=1) <= r["timestamp"] <= now for r in rows)
    failed = sum(not r["is_success"] for r in rows)
    assert 0 < failed < 20


def test_estimate_matches_what_the_seed_makes_within_a_tenth() -> None:
    small = load("small")
    guess = estimate.expected_rows(small)
    made = plan.build(small, 1, 1).rows()
    for table, rows in made.items():
        assert abs(guess[table] - rows) <= 0.1 * rows + 5, table


def test_plan_refuses_a_dataset_made_for_postgresql_on_sqlite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dataset", "plan", "large", "--backend", "sqlite"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "dataset 'large' is too large for sqlite" in err
    assert "PERF_DB_BACKEND=postgresql" in err and "--force" in err


def test_dry_run_prints_rows_size_and_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "plan", "small", "--backend", "sqlite", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dataset small:" in out
    assert "tools" in out and "1,000" in out
    total = sum(estimate.expected_rows(load("small")).values())
    assert f"{total:,}" in out
    assert "estimate on sqlite: about" in out and "rows/s" in out


def test_plan_writes_the_dataset_for_the_writer(tmp_path: Path) -> None:
    out = tmp_path / "dataset.json"
    assert (
        main(["dataset", "plan", "tiny", "--backend", "sqlite", "--output", str(out)])
        == 0
    )
    again = spec.Dataset.from_json(json.loads(out.read_text()))
    assert again == load("tiny")


def test_list_shows_every_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "list"]) == 0
    out = capsys.readouterr().out
    for name in spec.available(KIT_ROOT):
        assert name in out
    assert "1,000,000" in out  # massive's tools


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dataset"


def fixture(name: str) -> dict[str, Any]:
    """Recorded real reports: `make populate DATASET=small` on SQLite and `make populate-clean`
    after `medium` on PostgreSQL (local stack, 1.0.7.post20260921, 2026-12-03)."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def test_show_says_what_was_made_how_fast_and_what_the_checks_found() -> None:
    from perfkit.dataset.cli import report_text

    report = fixture("populate-small-sqlite.json")
    text = report_text(report)
    total = sum(report["written"].values())
    assert text.splitlines()[0].startswith(
        f"dataset small (seed 1, batch perfkit-small-s1-g1): {total:,} rows in 0.4 s"
    )
    assert f"({report['rows_per_s']:,.0f} rows/s)" in text
    assert "server_tool_association" in text
    assert "database checks: counts, keys and NOT NULLs as planned" in text
    tools = report["api"]["lists"]["tools"]["api_total"]
    assert f"the admin's lists count tools {tools}," in text and "logged in" in text


def test_show_names_each_failed_check() -> None:
    from perfkit.dataset.cli import report_text

    report = fixture("populate-small-sqlite.json")
    report["validation"] = {
        "ok": False,
        "problems": ["tools: 999 rows of this batch, 1000 planned"],
    }
    report["api"]["ok"] = False
    report["api"]["problems"] = ["GET /tools shows 3 rows where the database holds 806"]
    text = report_text(report)
    assert "database checks: tools: 999 rows of this batch, 1000 planned" in text
    assert "API: GET /tools shows 3 rows where the database holds 806" in text
    report.pop("validation")
    assert "database checks: skipped (--skip-validation)" in report_text(report)


def test_show_of_a_reset_lists_the_rows_removed() -> None:
    from perfkit.dataset.cli import report_text

    report = fixture("reset-medium-postgresql.json")
    text = report_text(report)
    assert text.startswith(
        f"removed {sum(report['deleted'].values()):,} rows the kit made:"
    )
    assert "tool_metrics" in text and "100,000" in text
    report["dry_run"] = True
    assert report_text(report).startswith("would remove")
    assert report_text({"action": "reset", "deleted": {}}) == (
        "the database holds none of the kit's data: nothing to remove"
    )


def test_the_estimate_scales_the_measured_rates() -> None:
    small = estimate.estimate(load("small"), "sqlite")
    medium = estimate.estimate(load("medium"), "sqlite")
    assert 9 < medium.seconds / small.seconds < 11  # 10x the rows
    rate, per_row = estimate.MEASURED["postgresql"]
    guess = estimate.estimate(load("medium"), "postgresql")
    assert guess.seconds == pytest.approx(guess.total / rate)
    assert guess.megabytes == pytest.approx(guess.total * per_row / 1e6)


def test_the_readme_table_of_datasets_says_what_the_files_say() -> None:
    readme = (KIT_ROOT / "README.md").read_text()
    for name in spec.available(KIT_ROOT):
        c = load(name).counts
        # the first table naming it: the datasets (the measured one comes after)
        row = next(
            line for line in readme.splitlines() if line.startswith(f"| `{name}` | ")
        )
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == f"{c['users']:,} ({c['login_users']:,})", name
        assert cells[2] == f"{c['teams']:,}" and cells[3] == f"{c['gateways']:,}", name
        tools = c["tools"]
        assert cells[4] == (f"{tools:,}" if tools < 10**6 else f"{tools // 10**6} M"), (
            name
        )


def test_an_append_takes_the_generation_after_every_batch_and_user_there() -> None:
    """The writer's own arithmetic (it imports its database parts lazily): a database holding
    only the kit's users (a dataset of users alone) still moves the next batch on."""
    from perfkit.dataset.writer import next_generation

    assert next_generation([], []) == 1
    assert next_generation(["perfkit-tiny-s1-g1", "perfkit-small-s7-g3"], []) == 4
    users = [f"ada.costa.g2.000001@{plan.MARK_DOMAIN}"]
    assert next_generation([], users) == 3
    assert next_generation(["perfkit-tiny-s1-g1"], users) == 3
