"""events.jsonl (perfkit record and load_events) and the plan.tsv / run.json readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import RunFolder
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.events import cli, load_events
from perfkit.results.plan import read_plan
from perfkit.results.run import load_run


def lines(folder: Path) -> list[dict[str, object]]:
    text = (folder / "events.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_record_appends_one_line_with_a_probe_excerpt(tmp_path: Path) -> None:
    body = tmp_path / "probe.body"
    body.write_text("é" + "x" * 999)
    assert cli([str(tmp_path), "--id", "tools/list", "--status", "ok",
                "--probe-status", "200", "--probe-body", str(body)]) == 0  # fmt: skip
    assert cli([str(tmp_path), "--id", "core/health", "--status", "failed",
                "--reason", "expect status~healthy: got 'down'"]) == 0  # fmt: skip
    first, second = lines(tmp_path)
    assert set(first) == {"id", "status", "reason", "probe"}
    assert first["probe"] == {"status": 200, "body": "é" + "x" * 499}
    assert first["reason"] is None
    assert second == {
        "id": "core/health",
        "status": "failed",
        "reason": "expect status~healthy: got 'down'",
        "probe": None,
    }


def test_missing_probe_body_is_no_body(tmp_path: Path) -> None:
    cli([str(tmp_path), "--id", "a/b", "--status", "skipped", "--reason", "no server",
         "--probe-status", "0", "--probe-body", str(tmp_path / "absent.body")])  # fmt: skip
    assert lines(tmp_path)[0]["probe"] == {"status": 0, "body": None}


def test_record_refuses_a_missing_run_folder(tmp_path: Path) -> None:
    with pytest.raises(KitError) as caught:
        cli([str(tmp_path / "nope"), "--id", "a/b", "--status", "ok"])
    assert caught.value.code == ExitCode.USAGE and "nope" in str(caught.value)


def test_record_refuses_an_unknown_status(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        cli([str(tmp_path), "--id", "a/b", "--status", "passed"])
    assert caught.value.code == 2
    assert not (tmp_path / "events.jsonl").exists()


def test_last_event_for_an_id_wins(tmp_path: Path) -> None:
    cli([str(tmp_path), "--id", "a/b", "--status", "failed", "--reason", "first try"])
    cli([str(tmp_path), "--id", "c/d", "--status", "ok"])
    cli([str(tmp_path), "--id", "a/b", "--status", "ok", "--probe-status", "200"])
    events = load_events(tmp_path)
    assert set(events) == {"a/b", "c/d"}
    assert events["a/b"].status == "ok" and events["a/b"].reason is None
    assert events["a/b"].probe is not None and events["a/b"].probe.status == 200


def test_load_events_without_a_file_is_empty(tmp_path: Path) -> None:
    assert load_events(tmp_path) == {}


def test_corrupt_event_line_is_named(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(
        '{"id": "a/b", "status": "ok"}\n{"id": "c/d", "sta\n'
    )
    with pytest.raises(KitError, match=r"events.jsonl:2: not an event"):
        load_events(tmp_path)
    (tmp_path / "events.jsonl").write_text('{"id": "a/b", "status": "done"}\n')
    with pytest.raises(KitError, match=r"events.jsonl:1: .*'done'"):
        load_events(tmp_path)


def test_read_plan_rows(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health", requests=100, concurrency=5)
    run_folder.add_test("core/soak", requests=0, duration="30s", auth="yes")
    run_folder.add_test("mixed/a", kind="component", group="mixed/mix")
    health, soak, part = read_plan(run_folder.path)
    assert (health.requests, health.duration, health.auth, health.group) == (
        100,
        None,
        False,
        None,
    )
    assert (soak.requests, soak.duration, soak.auth) == (None, "30s", True)
    assert (part.kind, part.group, part.component_name) == (
        "component",
        "mixed/mix",
        "a",
    )


def test_read_plan_names_a_bad_row(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.plan[0]["concurrency"] = "ten"
    run_folder.write_plan()
    with pytest.raises(KitError, match=r"plan.tsv:2: bad plan row"):
        read_plan(run_folder.path)


def test_read_plan_refuses_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "plan.tsv").write_text("id\tscenario\tkind\nx/y\tx\tsingle\n")
    with pytest.raises(KitError, match="missing columns: group, method"):
        read_plan(tmp_path)


def test_read_run_refuses_unknown_schema_and_missing_settings(
    run_folder: RunFolder,
) -> None:
    assert load_run(run_folder.path)["profile"] == "smoke"
    run_folder.write_run_json(schema_version=2)
    with pytest.raises(KitError, match="schema_version 2 unknown"):
        load_run(run_folder.path)
    del run_folder.settings["error_threshold"]
    run_folder.write_run_json()
    with pytest.raises(KitError, match="settings.error_threshold"):
        load_run(run_folder.path)
