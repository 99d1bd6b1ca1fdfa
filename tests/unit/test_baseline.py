"""The baseline manager (perfkit.baseline.manager*): file format, history, atomic writes, rollback,
delete, accept, promotion and the `perfkit baseline` CLI.

Fixtures: tests/fixtures/summaries/baseline-*.json are real summary.json files of recorded runs
(results/smoke_20261121-120757, results/smoke_20261121-114713, results/adhoc_20261121-115724).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from perfkit.baseline import store as baseline_store
from perfkit.baseline.file import RunNaming, default_name, naming_of
from perfkit.baseline.manager import (
    accept,
    baseline_path,
    delete,
    history,
    history_files,
    list_baselines,
    load_baseline,
    rollback,
    save_baseline,
    save_run,
)
from perfkit.baseline.promotion import load_pending, record
from perfkit.cli import main
from perfkit.compare.model import Comparison, TestComparison
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results import events
from perfkit.results.samples import fingerprint, from_summary
from perfkit.results.summary import Summary

SUMMARIES = Path(__file__).resolve().parents[1] / "fixtures" / "summaries"
SMOKE = "baseline-smoke.json"  # 15 tests, 1 round each
SMOKE_27 = "baseline-smoke-27.json"  # 27 tests
ADHOC = "baseline-adhoc-get-health.json"  # one test: adhoc/get_health, profile smoke
LIMIT_10 = "tools/rest_list_tools_limit_10"
LIMIT_50 = "tools/rest_list_tools_limit_50"


def summary(name: str = SMOKE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SUMMARIES / name).read_text())
    return data


def with_p50s(data: dict[str, Any], p50s: dict[str, list[float]]) -> dict[str, Any]:
    """The summary with the named tests measured in len(values) rounds of those p50s."""
    data = copy.deepcopy(data)
    for test in data["tests"]:
        if test["id"] in p50s:
            first = test["rounds"][0]
            rounds = []
            for index, p50 in enumerate(p50s[test["id"]], start=1):
                measured = copy.deepcopy(first)
                measured["index"] = index
                measured["latency_ms"]["p50"] = p50
                rounds.append(measured)
            test["rounds"] = rounds
    return data


def run_dir(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    folder = tmp_path / "results" / name
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(data))
    return folder


@pytest.fixture
def bdir(tmp_path: Path) -> Path:
    folder = tmp_path / "baselines"
    folder.mkdir()
    return folder


def perfkit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["baseline", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def history_json(bdir: Path, name: str = "smoke") -> list[Path]:
    return sorted((bdir / "history" / name).glob("*.json"))


# --- file format -------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path, bdir: Path) -> None:
    data = with_p50s(summary(), {LIMIT_10: [10.0, 30.0, 20.0]})
    run = run_dir(tmp_path, "smoke_1", data)
    path = save_baseline(bdir, "smoke", run / "summary.json")
    assert path == bdir / "baseline_smoke.json"
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == 1 and raw["kind"] == "perfkit-baseline"
    loaded = load_baseline(path)
    assert loaded.name == "smoke"
    assert loaded.source.how == "save"
    assert loaded.source.run_dir == str(run.resolve())
    assert loaded.source.runs == [str(run.resolve())]
    assert loaded.source.kit_commit == data["environment"]["kit_commit"]
    assert loaded.source.started_at == data["started_at"]
    assert loaded.fingerprint == fingerprint(Summary.from_dict(data))
    expected = from_summary(Summary.from_dict(data), "x")
    assert set(loaded.samples.tests) == set(expected.tests)
    for test_id, test in expected.tests.items():
        assert loaded.samples.tests[test_id].rounds == test.rounds
        assert loaded.samples.tests[test_id].status == test.status
    assert loaded.samples.tests[LIMIT_10].rounds["p50"] == [10.0, 30.0, 20.0]
    assert loaded.aggregates[LIMIT_10]["p50"] == 20.0
    p95 = data["tests"][0]["rounds"][0]["latency_ms"]["p95"]
    assert loaded.aggregates[LIMIT_10]["p95"] == p95
    assert loaded.samples.source == str(path)


def test_run_outside_the_kit_is_stored_absolute_inside_relative(tmp_path: Path) -> None:
    assert baseline_store.run_label(tmp_path) == str(tmp_path.resolve())
    inside = baseline_store.KIT_ROOT / "results" / "smoke_x"
    assert baseline_store.run_label(inside) == "results/smoke_x"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "is not valid JSON"),
        ("[1, 2]", "holds a JSON list, not an object"),
        ('{"kind": "something-else", "schema_version": 1}', "kind is 'something-else'"),
        (
            '{"kind": "perfkit-baseline", "schema_version": 2}',
            "schema_version 2 unknown",
        ),
        ('{"kind": "perfkit-baseline", "schema_version": "1"}', "schema_version '1'"),
        ('{"kind": "perfkit-baseline"}', "schema_version None unknown"),
    ],
)
def test_unreadable_baseline_is_refused_with_the_fix(
    bdir: Path, content: str, problem: str
) -> None:
    path = bdir / "baseline_light.json"
    path.write_text(content)
    with pytest.raises(KitError) as caught:
        load_baseline(path)
    assert caught.value.code == ExitCode.USAGE
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "make baseline-rollback PROFILE=light" in message
    assert "make baseline-delete PROFILE=light" in message


def test_newer_schema_version_says_update_the_kit(bdir: Path) -> None:
    path = bdir / "baseline_light.json"
    path.write_text('{"kind": "perfkit-baseline", "schema_version": 7}')
    with pytest.raises(KitError, match="newer kit"):
        load_baseline(path)


def test_missing_keys_are_named(tmp_path: Path, bdir: Path) -> None:
    path = save_baseline(
        bdir, "smoke", run_dir(tmp_path, "r", summary()) / "summary.json"
    )
    data = json.loads(path.read_text())
    del data["samples"]
    del data["source"]["how"]
    path.write_text(json.dumps(data))
    with pytest.raises(KitError, match=r"missing keys: samples, source\.how"):
        load_baseline(path)


def test_malformed_samples_are_refused(tmp_path: Path, bdir: Path) -> None:
    path = save_baseline(
        bdir, "smoke", run_dir(tmp_path, "r", summary()) / "summary.json"
    )
    data = json.loads(path.read_text())
    data["samples"]["tests"][LIMIT_10]["rounds"]["p50"] = ["fast"]
    path.write_text(json.dumps(data))
    with pytest.raises(KitError, match="malformed content"):
        load_baseline(path)


def test_corrupt_file_exits_2_on_the_command_line(
    bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (bdir / "baseline_smoke.json").write_text("{not json")
    code, out, err = perfkit(capsys, "show", "smoke", "--dir", str(bdir))
    assert code == 2
    assert out == ""
    assert "perfkit baseline: error: baseline" in err
    assert "baseline_smoke.json: is not valid JSON" in err
    assert "make baseline-rollback PROFILE=smoke" in err


# --- refusing runs -----------------------------------------------------------------------


def test_partial_summary_is_refused(tmp_path: Path, bdir: Path) -> None:
    data = summary()
    data["status"] = "partial"
    run = run_dir(tmp_path, "r", data)
    with pytest.raises(KitError, match="status is 'partial', not 'complete'") as caught:
        save_baseline(bdir, "smoke", run / "summary.json")
    assert caught.value.code == ExitCode.USAGE
    assert not (bdir / "baseline_smoke.json").exists()


def test_summary_without_a_measured_round_is_refused(
    tmp_path: Path, bdir: Path
) -> None:
    data = summary()
    for test in data["tests"]:
        test["status"], test["rounds"] = "failed", []
    run = run_dir(tmp_path, "r", data)
    with pytest.raises(KitError, match="no test has a measured round"):
        save_baseline(bdir, "smoke", run / "summary.json")
    assert list(bdir.glob("baseline_*.json")) == []


def test_missing_summary_names_the_fix(tmp_path: Path, bdir: Path) -> None:
    with pytest.raises(KitError, match="perfkit summarize"):
        save_run(bdir, "smoke", tmp_path)


@pytest.mark.parametrize("name", ["../x", ".hidden", "a b", "", "light/x"])
def test_bad_names_are_refused(tmp_path: Path, bdir: Path, name: str) -> None:
    run = run_dir(tmp_path, "r", summary())
    with pytest.raises(KitError, match="baseline name"):
        save_run(bdir, name, run)
    assert list(tmp_path.rglob("baseline_*.json")) == []


# --- history and atomic writes ---------------------------------------------------------


def test_every_save_appends_the_previous_file_to_history(
    tmp_path: Path, bdir: Path
) -> None:
    runs = [run_dir(tmp_path, f"r{k}", summary(name)) for k, name in
            enumerate((SMOKE, SMOKE_27, SMOKE))]  # fmt: skip
    current = bdir / "baseline_smoke.json"
    contents = []
    for run in runs:
        if current.exists():
            contents.append(current.read_bytes())
        save_run(bdir, "smoke", run)
    kept = history_json(bdir)
    assert [p.read_bytes() for p in kept] == contents
    assert all(p.name.endswith("-save.json") for p in kept)
    log = history(bdir, "smoke")
    assert [e.action for e in log] == ["save", "save", "save"]
    assert [e.from_run for e in log] == [str(r.resolve()) for r in runs]
    assert [e.file for e in log] == [None, kept[0].name, kept[1].name]


def test_history_is_never_overwritten(
    tmp_path: Path, bdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline_store, "_stamp", lambda: "20260101T000000.000000")
    runs = [run_dir(tmp_path, f"r{k}", summary()) for k in range(4)]
    saved = []
    for run in runs:
        path = save_run(bdir, "smoke", run).path
        saved.append(path.read_bytes())
    kept = history_json(bdir)
    assert [p.name for p in kept] == [
        "20260101T000000.000000-save.json",
        "20260101T000000.000000.1-save.json",
        "20260101T000000.000000.2-save.json",
    ]
    assert [p.read_bytes() for p in kept] == saved[:3]


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_write_keeps_the_old_baseline_and_no_temp_file(
    tmp_path: Path, bdir: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "old", summary()))
    before = (bdir / "baseline_smoke.json").read_bytes()
    real_dump = json.dump

    def half_then_fail(obj: Any, stream: Any, **kwargs: Any) -> None:
        stream.write(json.dumps(obj)[:100])
        raise failure

    monkeypatch.setattr(events.json, "dump", half_then_fail)
    with pytest.raises(type(failure)):
        save_run(bdir, "smoke", run_dir(tmp_path, "new", summary(SMOKE_27)))
    monkeypatch.setattr(events.json, "dump", real_dump)
    assert (bdir / "baseline_smoke.json").read_bytes() == before
    assert load_baseline(bdir / "baseline_smoke.json").source.run_dir.endswith("old")
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")] == []
    assert [e.action for e in history(bdir, "smoke")] == [
        "save"
    ]  # the failure is not logged


def test_failed_rename_keeps_the_old_baseline(
    tmp_path: Path, bdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "old", summary()))
    before = (bdir / "baseline_smoke.json").read_bytes()

    def refuse(*args: Any) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="rename failed"):
        save_run(bdir, "smoke", run_dir(tmp_path, "new", summary(SMOKE_27)))
    monkeypatch.undo()
    assert (bdir / "baseline_smoke.json").read_bytes() == before
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")] == []


def test_save_refuses_to_replace_a_corrupt_baseline(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bdir / "baseline_smoke.json"
    path.write_text('{"half": ')
    run = run_dir(tmp_path, "r", summary(SMOKE_27))
    code, _, err = perfkit(capsys, "save", str(run), "--dir", str(bdir))
    assert code == 2
    assert "is not valid JSON" in err and "pass --force" in err
    assert path.read_text() == '{"half": '
    assert history_json(bdir) == []


def test_forced_save_keeps_the_corrupt_file_in_history(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bdir / "baseline_smoke.json"
    path.write_text('{"half": ')
    run = run_dir(tmp_path, "r", summary(SMOKE_27))
    code, _, err = perfkit(capsys, "save", str(run), "--dir", str(bdir), "--force")
    assert code == 0
    (kept,) = history_json(bdir)
    assert kept.name.startswith("corrupt-")
    assert kept.read_text() == '{"half": '
    assert load_baseline(path).source.run_dir == str(run.resolve())
    assert f"previous kept as {kept}" in err


# --- rollback, delete, accept ------------------------------------------------------------


def three_saves(tmp_path: Path, bdir: Path) -> list[Path]:
    runs = [run_dir(tmp_path, f"run_{c}", summary()) for c in "abc"]
    for run in runs:
        save_run(bdir, "smoke", run)
    return runs


def test_rollback_restores_the_previous_baseline(tmp_path: Path, bdir: Path) -> None:
    a, b, _ = three_saves(tmp_path, bdir)
    current = bdir / "baseline_smoke.json"
    c_bytes = current.read_bytes()
    change = rollback(bdir, "smoke")
    restored = load_baseline(current)
    assert restored.source.run_dir == str(b.resolve())
    assert restored.source.how == "rollback"
    assert change.archived is not None
    assert change.archived.name.endswith("-rollback.json")
    assert change.archived.read_bytes() == c_bytes
    assert restored.source.restored_from == history_json(bdir)[1].name
    # a second rollback goes further back, not back to c
    rollback(bdir, "smoke")
    assert load_baseline(current).source.run_dir == str(a.resolve())
    assert [e.action for e in history(bdir, "smoke")][-2:] == ["rollback", "rollback"]


def test_rollback_to_a_named_entry(tmp_path: Path, bdir: Path) -> None:
    a, _, _ = three_saves(tmp_path, bdir)
    first = history_json(bdir)[0]
    rollback(bdir, "smoke", first.name)
    assert load_baseline(bdir / "baseline_smoke.json").source.run_dir == str(
        a.resolve()
    )
    with pytest.raises(KitError, match="history entry 'nope.json' .* not found"):
        rollback(bdir, "smoke", "nope.json")


def test_rollback_repairs_a_corrupt_baseline(tmp_path: Path, bdir: Path) -> None:
    a = run_dir(tmp_path, "run_a", summary())
    save_run(bdir, "smoke", a)
    save_run(bdir, "smoke", run_dir(tmp_path, "run_b", summary()))
    (bdir / "baseline_smoke.json").write_text("garbage")
    rollback(bdir, "smoke")
    assert load_baseline(bdir / "baseline_smoke.json").source.run_dir == str(
        a.resolve()
    )
    corrupt = [p for p in history_json(bdir) if p.name.startswith("corrupt-")]
    assert [p.read_text() for p in corrupt] == ["garbage"]


def test_rollback_without_history_is_an_error(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "r", summary()))
    with pytest.raises(KitError, match="no earlier readable baseline"):
        rollback(bdir, "smoke")


def test_delete_moves_the_baseline_into_history(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "r", summary()))
    current = bdir / "baseline_smoke.json"
    content = current.read_bytes()
    change = delete(bdir, "smoke")
    assert not current.exists()
    assert change.archived is not None and change.archived.read_bytes() == content
    assert change.archived.name.endswith("-delete.json")
    assert history(bdir, "smoke")[-1].action == "delete"
    assert history(bdir, "smoke")[-1].file == change.archived.name
    with pytest.raises(KitError, match="no baseline 'smoke'"):
        delete(bdir, "smoke")
    # and it can be brought back
    rollback(bdir, "smoke")
    assert current.read_bytes() != b"" and load_baseline(current).name == "smoke"


def test_accept_is_logged_with_its_reason(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "before", summary()))
    slower = run_dir(tmp_path, "slower", summary(SMOKE_27))
    change = accept(bdir, "smoke", slower, "  auth now checks RBAC on every call ")
    assert change.baseline is not None and change.baseline.source.how == "accept"
    last = history(bdir, "smoke")[-1]
    assert last.action == "accept"
    assert last.reason == "auth now checks RBAC on every call"
    assert last.from_run == str(slower.resolve())
    with pytest.raises(KitError, match="--reason"):
        accept(bdir, "smoke", slower, "   ")


# --- promotion -----------------------------------------------------------------------------


def a_comparison(verdict: str, tests: dict[str, str]) -> Comparison:
    """A comparison with that run verdict and these test verdicts (nothing else matters here)."""
    return Comparison(
        verdict=verdict, exit_code=0, baseline=None, candidate={},
        environment_differences=[], forced=False, strict=False, method={},
        tests=[TestComparison(test_id, v) for test_id, v in tests.items()],
        slo_breaches=[], slo_unmatched=[], summary={},
    )  # fmt: skip


IMPROVED = a_comparison("improvement", {LIMIT_10: "improvement", LIMIT_50: "unchanged"})


def improved_runs(tmp_path: Path) -> list[Path]:
    """Three runs: limit_10's median run is r2 (p50 20), limit_50's is r0 (p50 50)."""
    p50s = [
        {LIMIT_10: [10.0, 11.0], LIMIT_50: [50.0, 50.0]},
        {LIMIT_10: [30.0, 31.0], LIMIT_50: [40.0, 40.0]},
        {LIMIT_10: [20.0, 21.0], LIMIT_50: [60.0, 60.0]},
    ]
    return [run_dir(tmp_path, f"smoke_r{k}", with_p50s(summary(), p)) for k, p in
            enumerate(p50s)]  # fmt: skip


def test_promotion_after_exactly_n_confirming_runs(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path)
    assert record(bdir, "smoke", runs[0], IMPROVED, promote_after=3).message is None
    assert record(bdir, "smoke", runs[1], IMPROVED, promote_after=3).message is None
    assert [c.run_dir for c in load_pending(bdir, "smoke")] == [
        str(r.resolve()) for r in runs[:2]
    ]
    assert load_baseline(bdir / "baseline_smoke.json").source.how == "save"
    message = record(bdir, "smoke", runs[2], IMPROVED, promote_after=3).message
    assert message is not None and "promoted" in message
    promoted = load_baseline(bdir / "baseline_smoke.json")
    assert promoted.source.how == "promotion"
    assert promoted.source.runs == [str(r.resolve()) for r in runs]
    assert load_pending(bdir, "smoke") == []
    last = history(bdir, "smoke")[-1]
    assert last.action == "promotion" and last.runs == promoted.source.runs


def test_promotion_uses_the_median_run_per_test_not_the_best(
    tmp_path: Path, bdir: Path
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path)
    for run in runs:
        record(bdir, "smoke", run, IMPROVED, promote_after=3)
    promoted = load_baseline(bdir / "baseline_smoke.json")
    assert promoted.samples.tests[LIMIT_10].rounds["p50"] == [20.0, 21.0]  # r2, not r0
    assert promoted.aggregates[LIMIT_10]["p50"] == 20.5
    assert promoted.samples.tests[LIMIT_50].rounds["p50"] == [50.0, 50.0]  # r0, not r1
    assert promoted.source.picked[LIMIT_10] == str(runs[2].resolve())
    assert promoted.source.picked[LIMIT_50] == str(runs[0].resolve())


def test_a_non_confirming_run_resets_the_streak(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path) + [
        run_dir(tmp_path, f"smoke_more{k}", summary()) for k in range(2)
    ]
    unchanged = a_comparison("unchanged", {LIMIT_10: "unchanged"})
    record(bdir, "smoke", runs[0], IMPROVED)
    record(bdir, "smoke", runs[1], IMPROVED)
    outcome = record(bdir, "smoke", runs[2], unchanged)
    assert (outcome.confirmed, outcome.reset_from, outcome.streak) == (False, 2, 0)
    assert load_pending(bdir, "smoke") == []
    assert record(bdir, "smoke", runs[3], IMPROVED).streak == 1
    assert record(bdir, "smoke", runs[4], IMPROVED).promoted is None
    assert load_baseline(bdir / "baseline_smoke.json").source.how == "save"
    assert record(bdir, "smoke", runs[2], IMPROVED).promoted is not None


@pytest.mark.parametrize(
    "comparison",
    [
        a_comparison("improvement", {"a": "improvement", "b": "inconclusive"}),
        a_comparison("improvement", {"a": "improvement", "b": "regression"}),
        a_comparison("improvement", {"a": "failed", "b": "improvement"}),
        a_comparison("improvement", {"a": "unchanged"}),
        a_comparison("regression", {"a": "improvement"}),
    ],
)  # fmt: skip
def test_doubtful_improvements_do_not_confirm(
    tmp_path: Path, bdir: Path, comparison: Comparison
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path)
    record(bdir, "smoke", runs[0], IMPROVED)
    outcome = record(bdir, "smoke", runs[1], comparison)
    assert not outcome.confirmed and outcome.reset_from == 1


def test_recording_the_same_run_twice_counts_once(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    run = improved_runs(tmp_path)[0]
    outcomes = [record(bdir, "smoke", run, IMPROVED, promote_after=2) for _ in range(3)]
    assert [(o.streak, o.promoted) for o in outcomes] == [(1, None)] * 3
    assert load_baseline(bdir / "baseline_smoke.json").source.how == "save"


def test_any_baseline_change_clears_the_streak(tmp_path: Path, bdir: Path) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path)
    record(bdir, "smoke", runs[0], IMPROVED)
    assert len(load_pending(bdir, "smoke")) == 1
    save_run(bdir, "smoke", run_dir(tmp_path, "manual", summary()))
    assert load_pending(bdir, "smoke") == []


def test_record_on_the_command_line(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "start", summary()))
    runs = improved_runs(tmp_path)
    comparison = tmp_path / "comparison.json"
    comparison.write_text(json.dumps(IMPROVED.to_dict()))
    args = [
        "--comparison",
        str(comparison),
        "--dir",
        str(bdir),
        "--promote-after",
        "2",
        "--name",
        "smoke",
    ]
    code, _, err = perfkit(capsys, "record", str(runs[0]), *args)
    assert code == 0 and "improvement 1 of 2" in err
    code, _, err = perfkit(capsys, "record", str(runs[1]), *args)
    assert code == 0 and "promoted" in err
    assert load_baseline(bdir / "baseline_smoke.json").source.how == "promotion"


# --- naming, list and show ---------------------------------------------------------------


def naming(data: dict[str, Any]) -> RunNaming:
    return naming_of(Summary.from_dict(data))


def test_adhoc_runs_keep_their_own_baseline(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert default_name(naming(summary(ADHOC))) == "adhoc_get_health"
    assert default_name(naming(summary(SMOKE_27))) == "smoke"
    save_run(bdir, "smoke", run_dir(tmp_path, "suite", summary()))
    suite = (bdir / "baseline_smoke.json").read_bytes()
    code, _, err = perfkit(capsys, "save", str(run_dir(tmp_path, "adhoc", summary(ADHOC))),
                           "--dir", str(bdir))  # fmt: skip
    assert code == 0, err
    assert (bdir / "baseline_adhoc_get_health.json").is_file()
    assert (bdir / "baseline_smoke.json").read_bytes() == suite
    assert "saved" in err and "(1 test, 1 round each)" in err


def test_save_message_names_what_was_done(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = (
        run_dir(tmp_path, "a", summary(SMOKE_27)),
        run_dir(tmp_path, "b", summary(SMOKE_27)),
    )
    perfkit(capsys, "save", str(first), "--dir", str(bdir))
    code, out, err = perfkit(capsys, "save", str(second), "--dir", str(bdir))
    assert code == 0 and out == ""
    assert f"from {second.resolve()} (27 tests, 1 round each)" in err
    assert f"previous kept as {history_json(bdir)[0]}" in err


def test_a_run_of_some_scenarios_has_a_baseline_of_its_own() -> None:
    """make test-tools must never be judged against the whole suite's baseline."""
    assert default_name(naming(summary(SMOKE))) == "smoke_tools-gateway-core"
    assert default_name(naming(summary(SMOKE_27))) == "smoke"
    assert (
        default_name(naming(summary(SMOKE)), profile="light")
        == "light_tools-gateway-core"
    )
    assert default_name(naming(summary(SMOKE_27)), profile="light") == "light"


@pytest.mark.parametrize(
    "scenarios",
    [
        ["tools", "resources", "prompts", "gateway-core", "mixed"],  # `all` before mcp
        [
            "tools",
            "resources",
            "prompts",
            "gateway-core",
            "mcp",
            "mixed",
        ],  # before database
        ["tools", "resources", "prompts", "gateway-core", "mcp", "mixed", "database"],
    ],
)
def test_what_all_meant_in_each_version_keeps_the_profiles_name(
    scenarios: list[str],
) -> None:
    """a light baseline saved before a scenario joined `all` stays the light baseline (its
    new scenario's tests are new tests); a set that never was `all` gets a name of its own."""
    assert default_name(RunNaming("light", scenarios, ["tools/health"])) == "light"
    assert (
        default_name(RunNaming("light", scenarios[1:], ["tools/health"]))
        == f"light_{'-'.join(scenarios[1:])}"
    )


def test_list_shows_every_baseline(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_run(bdir, "smoke", run_dir(tmp_path, "suite", summary()))
    save_run(bdir, "adhoc_get_health", run_dir(tmp_path, "adhoc", summary(ADHOC)))
    (bdir / "baseline_broken.json").write_text("[]")
    code, out, _ = perfkit(capsys, "list", "--dir", str(bdir))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "name",
        "created",
        "how",
        "source",
        "run",
        "tests",
        "rounds",
    ]
    by_name = {line.split()[0]: line for line in lines[1:4]}
    smoke = load_baseline(bdir / "baseline_smoke.json")
    assert smoke.created_at in by_name["smoke"]
    assert f"{tmp_path.resolve()}/results/suite" in by_name["smoke"]
    assert " 15 " in by_name["smoke"]
    assert " 1 " in by_name["adhoc_get_health"]
    assert "UNREADABLE" in by_name["broken"]
    assert "broken: baseline" in out and "holds a JSON list" in out
    assert [item.name for item in list_baselines(bdir)] == [
        "adhoc_get_health", "broken", "smoke"]  # fmt: skip


def test_show_prints_source_fingerprint_and_medians(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = with_p50s(summary(), {LIMIT_10: [12.0, 14.0, 13.0]})
    save_run(bdir, "smoke", run_dir(tmp_path, "suite", data))
    code, out, _ = perfkit(capsys, "show", "smoke", "--dir", str(bdir))
    assert code == 0
    assert f"source run   {tmp_path.resolve()}/results/suite" in out
    assert f"kit {data['environment']['kit_commit']}" in out
    assert f"gateway {data['target']['gateway_version']}" in out
    assert "2 cores" in out and "concurrency=2" in out
    row = next(line for line in out.splitlines() if line.startswith(LIMIT_10 + " "))
    assert row.split()[1:3] == ["ok", "3"]
    assert row.split()[4] == "13.00"
    code, out, _ = perfkit(capsys, "load", "smoke", "--dir", str(bdir), "--json")
    assert json.loads(out)["aggregates"][LIMIT_10]["p50"] == 13.0


def test_history_on_the_command_line(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    three_saves(tmp_path, bdir)
    accept(bdir, "smoke", run_dir(tmp_path, "slow", summary()), "new TLS proxy")
    code, out, _ = perfkit(capsys, "history", "smoke", "--dir", str(bdir))
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == ["save", "save", "save", "accept"]
    assert lines[-1].endswith("reason: new TLS proxy")
    assert history_files(bdir, "smoke")[-1].name in lines[-1]


def test_default_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_BASELINES_DIR", str(tmp_path / "elsewhere"))
    assert baseline_store.default_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("PERF_BASELINES_DIR")
    assert baseline_store.default_dir() == baseline_store.KIT_ROOT / "baselines"


def test_path_of_a_name(bdir: Path) -> None:
    assert baseline_path(bdir, "adhoc_x.y-1") == bdir / "baseline_adhoc_x.y-1.json"


def test_a_run_that_measured_nothing_still_has_a_baseline_name(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed ad-hoc run gets compared (and fails); naming its baseline must not crash."""
    data = summary(ADHOC)
    for test in data["tests"]:
        test["rounds"] = []
        test["status"] = "failed"
    run = run_dir(tmp_path, "failed", data)
    code, out, _ = perfkit(capsys, "name", str(run), "--dir", str(bdir), "--path")
    assert code == 0 and out.strip() == str(bdir / "baseline_adhoc_get_health.json")
    code, _, err = perfkit(capsys, "save", str(run), "--dir", str(bdir))
    assert code == 2 and "no test has a measured round" in err


RECORDED_RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"


@pytest.mark.parametrize(
    ("recorded", "name"),
    [("smoke_tools_regression", "smoke_tools"), ("smoke_all", "smoke")],
)
def test_a_run_not_yet_summarized_is_named_from_its_plan(
    tmp_path: Path,
    bdir: Path,
    capsys: pytest.CaptureFixture[str],
    recorded: str,
    name: str,
) -> None:
    """Before sending load, run-configurable.sh has run.json and plan.tsv, no summary.json:
    the name must be the one the finished run will be judged against."""
    run = tmp_path / recorded
    shutil.copytree(RECORDED_RUNS / recorded, run)
    code, out, _ = perfkit(capsys, "name", str(run), "--dir", str(bdir))
    assert (code, out.strip()) == (0, name)
    (run / "summary.json").unlink()
    code, out, _ = perfkit(capsys, "name", str(run), "--dir", str(bdir))
    assert (code, out.strip()) == (0, name)
    (run / "plan.tsv").unlink()
    code, _, err = perfkit(capsys, "name", str(run), "--dir", str(bdir))
    assert code == 2 and "plan.tsv" in err


def test_check_refuses_an_unreadable_baseline_before_the_run(
    tmp_path: Path, bdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(RECORDED_RUNS / "smoke_tools_regression", run)
    (run / "summary.json").unlink()
    args = ["name", str(run), "--dir", str(bdir), "--check"]
    assert perfkit(capsys, *args)[0] == 0  # no baseline yet: the run will become it
    path = bdir / "baseline_smoke_tools.json"
    path.write_text('{"schema_version": 1, "tests": [')
    code, out, err = perfkit(capsys, *args)
    assert code == 2 and out == ""
    assert str(path) in err and "baseline-rollback" in err
    assert path.read_text() == '{"schema_version": 1, "tests": ['
    # a readable baseline passes the check
    other = tmp_path / "saved"
    shutil.copytree(RECORDED_RUNS / "smoke_tools_regression", other)
    path.unlink()
    assert perfkit(capsys, "save", str(other), "--dir", str(bdir))[0] == 0
    assert perfkit(capsys, *args)[0] == 0


def test_baseline_manager_script_is_the_baseline_command(
    tmp_path: Path, bdir: Path
) -> None:
    """utils/baseline_manager.py (the mission's name for it) saves and lists like the command."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "utils" / "baseline_manager.py"
    run = run_dir(tmp_path, "smoke_1", summary())

    def manager(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, str(script), *args, "--dir", str(bdir)]
        return subprocess.run(argv, capture_output=True, text=True, check=False)

    saved = manager("save", str(run))
    assert saved.returncode == 0, saved.stderr
    assert load_baseline(bdir / "baseline_smoke_tools-gateway-core.json").name == (
        "smoke_tools-gateway-core"
    )
    listed = manager("list")
    assert listed.returncode == 0 and "smoke_tools-gateway-core" in listed.stdout
    assert manager("show", "nope").returncode == 2
