"""The gateway's database around a run (perfkit database-rows): rows counted read-only in a
real SQLite file, the summary's `database` block, and what the run and the report say of it."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.results.database import describe, for_summary, warnings
from perfkit.results.samples import fingerprint_differences


def gateway_db(path: Path, tool_metrics: int) -> str:
    """An SQLite file shaped like a gateway's, with that many tool_metrics rows."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE IF NOT EXISTS tools (id TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS tool_metrics (id INTEGER)")
        db.execute("DELETE FROM tool_metrics")
        db.executemany(
            "INSERT INTO tool_metrics VALUES (?)", [(i,) for i in range(tool_metrics)]
        )
        db.execute("INSERT INTO tools VALUES ('t')") if tool_metrics == 0 else None
        db.commit()
    return f"sqlite:///{path}"


def rows(run: Path, phase: str, state: str, url: str | None) -> int:
    args = ["database-rows", str(run), "--phase", phase, "--state", state]
    return main([*args, "--database-url", url] if url else args)


def test_rows_before_and_after_name_what_grew(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    url = gateway_db(tmp_path / "mcp.db", 0)
    assert rows(run, "before", "fresh", url) == 0
    gateway_db(tmp_path / "mcp.db", 620)
    assert rows(run, "after", "fresh", url) == 0
    block = for_summary(run)
    assert block is not None
    assert (block["state"], block["backend"]) == ("fresh", "sqlite")
    assert block["before"] == {"tool_metrics": 0, "tools": 1}
    assert block["grew"] == {"tool_metrics": [0, 620]}
    assert (
        describe(block) == "fresh (sqlite): grew during the run: tool_metrics 0 -> 620"
    )
    assert warnings(block) == []  # a fresh start needs no warning


def test_a_run_on_what_earlier_runs_left_says_so(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    url = gateway_db(tmp_path / "mcp.db", 3132)
    rows(run, "before", "as-found", url)
    rows(run, "after", "as-found", url)
    block = for_summary(run)
    assert block is not None and block["grew"] == {}
    (text,) = warnings(block)
    assert "not fresh (as-found)" in text and "tool_metrics 3,132" in text
    assert describe(block).endswith("no table changed during the run")


def test_another_gateway_is_unknown_and_a_missing_file_is_an_error(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    assert rows(run, "before", "unknown", None) == 0
    block = for_summary(run)
    assert block is not None and block["state"] == "unknown"
    assert (
        "no snapshot after" in block["error"] or "not the kit's stack" in block["error"]
    )
    gone = tmp_path / "gone"
    gone.mkdir()
    rows(gone, "before", "fresh", f"sqlite:///{tmp_path / 'nope.db'}")
    data = json.loads((gone / "database-before.json").read_text())
    assert "no such database file" in data["error"] and "tables" not in data


def test_no_snapshot_no_block_and_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert for_summary(tmp_path) is None
    assert rows(tmp_path / "nowhere", "before", "fresh", None) == 2
    assert "run folder" in capsys.readouterr().err
    assert rows(tmp_path, "before", "fresh", "mysql://x/y") == 2
    assert "not a database the kit can count" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("base", "other", "differs"),
    [
        ("fresh", "fresh", False),
        ("fresh", "kept", True),
        ("fresh", "as-found", True),
        ("kept", "unknown", True),
        ("as-found", "unknown", False),  # neither run chose where the database started
        ("unknown", "as-found", False),
        (None, "kept", False),  # a baseline from before the kit recorded it
    ],
)
def test_the_starting_state_counts_only_when_a_run_chose_it(
    base: str | None, other: str, differs: bool
) -> None:
    found = fingerprint_differences({"db_state": base}, {"db_state": other})
    assert found == ([f"db_state: {base} -> {other}"] if differs else [])


def test_mcp_sessions_are_part_of_the_fingerprint_and_a_baseline_without_them_was_stateless() -> (
    None
):
    from perfkit.results.samples import fingerprint_differences

    older = {
        "profile": "smoke",
        "settings": {"requests": 20},
    }  # saved before the setting existed
    stateless = {
        "profile": "smoke",
        "settings": {"requests": 20, "mcp_sessions": "stateless"},
    }
    stateful = {
        "profile": "smoke",
        "settings": {"requests": 20, "mcp_sessions": "stateful"},
    }
    assert fingerprint_differences(older, stateless) == []
    assert fingerprint_differences(older, stateful) == [
        "settings.mcp_sessions: stateless -> stateful"
    ]
    assert fingerprint_differences(stateful, stateless) == [
        "settings.mcp_sessions: stateful -> stateless"
    ]


def test_the_dataset_is_part_of_the_fingerprint_and_a_baseline_without_it_was_empty() -> (
    None
):
    from perfkit.results.samples import fingerprint_differences

    older = {"profile": "smoke", "settings": {"requests": 20}}
    empty = {"profile": "smoke", "settings": {"requests": 20, "dataset": ""}}
    small = {"profile": "smoke", "settings": {"requests": 20, "dataset": "small"}}
    assert fingerprint_differences(older, empty) == []
    assert fingerprint_differences(small, empty) == ["settings.dataset: small -> "]
    assert fingerprint_differences(older, small) == ["settings.dataset:  -> small"]
