"""perfkit calibrate: planning trials, recording verdicts, rates and their intervals."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from compare_data import comparison_doc, full_summary
from perfkit.calibration import target as calibrate
from perfkit.exitcodes import ExitCode, KitError


def test_kinds_parse_and_name_the_candidate_delay() -> None:
    kinds = calibrate.parse_kinds("aa, 10,20%,30")
    assert [k.name for k in kinds] == ["aa", "10", "20", "30"]
    assert [k.candidate_ms(20) for k in kinds] == [20, 22, 24, 26]
    assert [k.label for k in kinds] == ["A/A", "A/B +10%", "A/B +20%", "A/B +30%"]


@pytest.mark.parametrize("text", ["ab", "0", "-10", "aa,aa", "10,,20"])
def test_bad_kinds_are_usage_errors(text: str) -> None:
    with pytest.raises(KitError) as caught:
        calibrate.parse_kinds(text)
    assert caught.value.code == ExitCode.USAGE


def test_plan_lists_every_trial(capsys: pytest.CaptureFixture[str]) -> None:
    assert calibrate.cli(["plan", "--kinds", "aa,30", "--trials", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["aa\t1\t20\t20", "aa\t2\t20\t20", "30\t1\t20\t26", "30\t2\t20\t26"]


def test_wilson_interval_is_honest_at_the_edges() -> None:
    low, high = calibrate.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.278, abs=0.002)
    low, high = calibrate.wilson_interval(10, 10)
    assert low == pytest.approx(0.722, abs=0.002) and high == 1.0
    low, high = calibrate.wilson_interval(5, 10)
    assert low < 0.5 < high
    assert calibrate.wilson_interval(0, 0) == (0.0, 1.0)


def write_run(path: Path, p50s: list[float], verdict: str | None = None) -> Path:
    path.mkdir(parents=True)
    rounds = [{"latency_ms": {"p50": v}, "complete": True} for v in p50s]
    summary = full_summary(tests=[{"id": "adhoc/get_delay", "rounds": rounds}])
    (path / "summary.json").write_text(json.dumps(summary))
    if verdict is not None:
        (path / "comparison.json").write_text(json.dumps(comparison_doc(verdict)))
    return path


def record(trials: Path, kind: str, run_a: Path, run_b: Path, code: int | None) -> None:
    argv = ["record", str(trials), "--kind", kind, "--trial", "1", "--base-ms", "20"]
    argv += ["--candidate-ms", "22" if kind != "aa" else "20", "--quiet"]
    argv += ["--run-a", str(run_a), "--run-b", str(run_b)]
    argv += ["--trial-started", str(time.time() - 7)]
    if code is not None:
        argv += ["--compare-exit", str(code)]
    assert calibrate.cli(argv) == 0


def test_record_reads_the_verdict_and_the_medians(tmp_path: Path) -> None:
    trials = tmp_path / "trials.jsonl"
    a = write_run(tmp_path / "a", [20.0, 21.0, 20.5])
    b = write_run(tmp_path / "b", [22.0, 22.4, 30.0], verdict="regression")
    record(trials, "10", a, b, 1)
    (trial,) = calibrate.load_trials(trials)
    assert trial.verdict == "regression" and trial.reported
    assert (trial.p50_a_ms, trial.p50_b_ms) == (20.5, 22.4)
    assert trial.seconds == pytest.approx(7, abs=1)
    assert trial.note is None


def test_record_flags_broken_comparisons(tmp_path: Path) -> None:
    trials = tmp_path / "trials.jsonl"
    a = write_run(tmp_path / "a", [20.0])
    no_json = write_run(tmp_path / "b1", [20.0])
    record(trials, "aa", a, no_json, 0)
    crashed = write_run(tmp_path / "b2", [20.0], verdict="unchanged")
    record(trials, "aa", a, crashed, 2)
    mismatch = write_run(tmp_path / "b3", [20.0], verdict="regression")
    record(trials, "aa", a, mismatch, 0)
    record(trials, "aa", a, tmp_path / "missing", None)  # run B never finished
    first, second, third, fourth = calibrate.load_trials(trials)
    assert first.verdict == "error" and "comparison.json" in (first.note or "")
    assert second.verdict == "error" and second.note == "compare exited 2"
    assert third.verdict == "regression" and "exited 0" in (third.note or "")
    assert fourth.verdict == "error" and fourth.p50_b_ms is None


def trial(kind: str, verdict: str, a: float = 20.0, b: float = 20.0) -> calibrate.Trial:
    return calibrate.Trial(kind, 1, 20, 20, verdict, 0, 7.0, a, b)


def test_summary_counts_reports_and_keeps_errors_apart() -> None:
    kind = calibrate.parse_kinds("aa")[0]
    trials = [trial("aa", "unchanged")] * 7 + [trial("aa", "regression")]
    trials += [trial("aa", "inconclusive"), trial("aa", "error")]
    result = calibrate.summarize_kind(kind, 20, trials)
    assert (result.trials, result.reported, result.errors) == (9, 1, 1)
    assert result.rate_name == "false_alarm_rate"
    assert result.rate == pytest.approx(1 / 9)
    assert result.ci95 is not None and result.ci95[0] < 1 / 9 < result.ci95[1]
    assert result.verdicts == {
        "unchanged": 7,
        "regression": 1,
        "inconclusive": 1,
        "error": 1,
    }


def test_summary_of_a_slowdown_is_a_detection_rate() -> None:
    kind = calibrate.parse_kinds("20")[0]
    trials = [trial("20", "regression", 20, 24), trial("20", "unchanged", 20, 23)]
    result = calibrate.summarize_kind(kind, 20, trials)
    assert result.rate_name == "detection_rate" and result.rate == 0.5
    assert result.candidate_ms == 24
    assert result.observed_change_pct == pytest.approx(17.5)


def write_trials(path: Path, trials: list[calibrate.Trial]) -> None:
    path.write_text("".join(json.dumps(asdict(t)) + "\n" for t in trials))


def test_report_prints_the_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials = tmp_path / "trials.jsonl"
    write_trials(
        trials, [trial("aa", "unchanged")] * 2 + [trial("30", "regression")] * 2
    )
    output = tmp_path / "out" / "calibration.json"
    argv = ["report", str(trials), "--kinds", "aa,30", "--output", str(output)]
    argv += [
        "--started-at",
        str(time.time() - 65),
        "--rounds",
        "5",
        "--setting",
        "rounds=5",
    ]
    assert calibrate.cli(argv) == 0
    out = capsys.readouterr().out
    assert "A/A" in out and "0% false alarm" in out
    assert "A/B +30%" in out and "100% detected" in out
    assert "wall time 1m05s, 5 rounds per run" in out
    saved = json.loads(output.read_text())
    assert saved["settings"] == {"rounds": "5"}
    assert [k["reported"] for k in saved["kinds"]] == [0, 2]
    assert len(saved["trials"]) == 4 and saved["wall_s"] >= 65
    with pytest.raises(KitError, match="not overwriting"):
        calibrate.cli(argv)


def test_report_exits_4_when_a_trial_gave_no_verdict(tmp_path: Path) -> None:
    trials = tmp_path / "trials.jsonl"
    write_trials(trials, [trial("aa", "unchanged"), trial("aa", "error")])
    argv = [
        "report",
        str(trials),
        "--kinds",
        "aa",
        "--output",
        str(tmp_path / "o.json"),
    ]
    argv += ["--started-at", str(time.time())]
    assert calibrate.cli(argv) == ExitCode.BENCHMARK_FAILED
