"""perfkit calibrate-jobs: each whole job's verdict recorded from its comparison, and the report:
false-alarm and detection rates with Wilson intervals, the share of tests a job could vouch
for, and the job-to-job drift of unchanged stored jobs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from compare_data import comparison_doc
from perfkit.calibration import jobs
from perfkit.cli import main


def judged_run(
    tmp_path: Path, name: str, verdict: str, tests: dict[str, tuple[str, float]]
) -> Path:
    """A run folder whose comparison.json has these test verdicts and p50 changes (%)."""
    run = tmp_path / name
    run.mkdir()
    doc = comparison_doc(verdict)
    doc["tests"] = [
        {"id": test_id, "verdict": v, "notes": [], "slo_breaches": [],
         "metrics": {"p50": {"n_base": 5, "n_cand": 5, "base_median": 20.0, "cand_median": 20.0,
                             "change_pct": change, "ci_pct": None, "ci_level": None,
                             "p_worse": 0.5, "p_better": 0.5, "p_adjusted": 0.5,
                             "p_better_adjusted": 0.5, "noise_cv_base": 0.01,
                             "noise_cv_cand": 0.01, "threshold": 0.1, "critical": True,
                             "verdict": v}}}
        for test_id, (v, change) in tests.items()
    ]  # fmt: skip
    (run / "comparison.json").write_text(json.dumps(doc))
    return run


def record(trials: Path, kind: str, job: int, run: Path | str, exit_code: int) -> None:
    argv = ["calibrate-jobs", "record", str(trials), "--mode", "stored", "--kind", kind,
            "--job", str(job), "--run", str(run), "--exit", str(exit_code), "--quiet"]  # fmt: skip
    assert main(argv) == 0


def test_rates_shares_and_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials = tmp_path / "trials.jsonl"
    for n, change in enumerate((-10.0, 4.0, -22.0), start=1):
        run = judged_run(tmp_path, f"aa{n}", "inconclusive",
                         {"a": ("unchanged", change), "b": ("inconclusive", 2.0)})  # fmt: skip
        record(trials, "aa", n, run, 0)
    slow = judged_run(tmp_path, "slow1", "regression", {"a": ("regression", -40.0)})
    record(trials, "mcp+150ms", 1, slow, 1)
    record(
        trials, "mcp+150ms", 2, "", 3
    )  # a job that left no run: an error, not a miss
    out = tmp_path / "result.json"
    rc = main(["calibrate-jobs", "report", str(trials), "--output", str(out),
               "--started-at", str(time.time() - 60)])  # fmt: skip
    assert rc == 4  # a job gave no verdict
    result = json.loads(out.read_text())
    aa, slowed = result["kinds"]
    assert (aa["kind"], aa["jobs"], aa["reported"], aa["rate"]) == ("aa", 3, 0, 0.0)
    assert aa["ci95"][1] == pytest.approx(0.5615, abs=0.001)  # Wilson, 0 of 3
    assert (aa["unchanged_share"], aa["inconclusive_share"]) == (0.5, 0.5)
    assert aa["drift_p50_pct"] == {"median": 3.0, "p95": 22.0, "max": 22.0}
    assert (slowed["jobs"], slowed["reported"], slowed["errors"]) == (1, 1, 1)
    assert slowed["rate_name"] == "detection_rate" and slowed["drift_p50_pct"] is None
    text = capsys.readouterr().out
    assert "0% false alarm" in text and "100% detected" in text and "max 22.0%" in text


def test_an_exit_that_disagrees_with_the_verdict_is_noted(tmp_path: Path) -> None:
    trials = tmp_path / "trials.jsonl"
    run = judged_run(tmp_path, "r", "regression", {"a": ("regression", -30.0)})
    record(trials, "aa", 1, run, 0)
    record(trials, "aa", 2, run, 4)
    first, second = jobs.load_trials(trials)
    assert first.verdict == "regression" and "exited 0" in (first.note or "")
    assert second.verdict == "error" and "exited 4" in (second.note or "")


def test_report_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials = tmp_path / "trials.jsonl"
    trials.write_text("")
    out = tmp_path / "result.json"
    out.write_text("{}")
    rc = main(["calibrate-jobs", "report", str(trials), "--output", str(out),
               "--started-at", "0"])  # fmt: skip
    assert rc == 2 and "not overwriting" in capsys.readouterr().err
    assert out.read_text() == "{}"


def test_an_earlier_result_of_the_same_workload_counts_another_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = [
        "--setting",
        "profile=light",
        "--setting",
        "host=h",
        "--setting",
        "jobs=1",
    ]
    first = tmp_path / "first.jsonl"
    run = judged_run(tmp_path, "aa1", "inconclusive", {"a": ("inconclusive", 1.0)})
    record(first, "aa", 1, run, 0)
    earlier = tmp_path / "earlier.json"
    assert main(["calibrate-jobs", "report", str(first), "--output", str(earlier),
                 "--started-at", "0", *settings]) == 0  # fmt: skip
    second = tmp_path / "second.jsonl"
    record(second, "aa", 1, run, 0)
    both = tmp_path / "both.json"
    argv = ["calibrate-jobs", "report", str(second), "--output", str(both),
            "--started-at", "0", "--include", str(earlier)]  # fmt: skip
    assert main([*argv, *settings[:4], "--setting", "jobs=3"]) == 0
    result = json.loads(both.read_text())
    assert result["kinds"][0]["jobs"] == 2 and result["included"] == [str(earlier)]
    capsys.readouterr()
    other = tmp_path / "other.json"
    argv[4] = str(other)
    assert main([*argv, "--setting", "profile=medium", "--setting", "host=h"]) == 2
    err = capsys.readouterr().err
    assert f"--include {earlier}: its profile is 'light', this run's 'medium'" in err
    assert not other.exists()
