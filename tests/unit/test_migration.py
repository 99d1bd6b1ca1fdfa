"""What the schema migration costs (perfkit migration), on recorded real measurements in
tests/fixtures/migration/: `utils/migration-cost.sh --dataset small` - 1.0.6's SQLite database,
empty and written `small`, migrated by 1.0.7.post20260921's bootstrap_db
(perfkit.dbbench.migrate)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import KitError
from perfkit.migration import collect, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "migration"


def test_the_recorded_migration_and_what_the_data_adds() -> None:
    empty, small = collect(FIXTURES, ["empty", "small"])
    assert (
        empty["revision_before"] == small["revision_before"] != small["revision_after"]
    )
    assert small["rows_before"] == small["rows_after"] > 20_000  # no row lost or added
    assert small["seconds_at_head"] < small["seconds"]  # the fast path at the head
    text = render("1.0.6", "1.0.7.post20260921", [empty, small])
    assert text.splitlines()[0] == (
        "Schema migration 1.0.6 -> 1.0.7.post20260921 (bootstrap_db of 1.0.7.post20260921"
        " on 1.0.6's database):"
    )
    added = small["seconds"] - empty["seconds"]
    assert (
        f"the data ({small['rows_before']:,} rows of small) adds {added:+.2f} s" in text
    )
    assert "nothing migrated" not in text and "rows\n" not in text


def test_changed_rows_tables_and_a_database_at_the_head_are_named(
    tmp_path: Path,
) -> None:
    data = json.loads((FIXTURES / "small.json").read_text())
    data |= {
        "revision_before": data["revision_after"],
        "tables_added": ["tool_metrics_hourly"],
        "rows_changed": {"roles": [5, 7]},
    }
    text = render("a", "b", [{"dataset": "small"} | data])
    assert f"small: already at {data['revision_after']}, nothing migrated" in text
    assert "small: tables added tool_metrics_hourly; dropped -" in text
    assert "small: roles 5 -> 7 rows" in text


def test_the_command_writes_migration_json_and_refuses_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    shutil.copytree(FIXTURES, out)
    args = ["migration", str(out), "--from", "1.0.6", "--to", "1.0.7"]
    assert main([*args, "--datasets", "empty,small"]) == 0
    assert capsys.readouterr().out.startswith("Schema migration 1.0.6 -> 1.0.7")
    summary = json.loads((out / "migration.json").read_text())
    assert [d["dataset"] for d in summary["databases"]] == ["empty", "small"]
    with pytest.raises(KitError, match="medium.json: no measurement"):
        collect(out, ["empty", "medium"])
