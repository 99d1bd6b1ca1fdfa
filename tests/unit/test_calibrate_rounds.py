"""The A/B jobs of a calibration judged again on fewer rounds (perfkit.calibration.rounds).

Fixtures: tests/fixtures/ab/ holds both sides' summary.json and the candidate's comparison.json
of two real A/B jobs recorded by `utils/calibrate-jobs.sh --mode ab --keep` on 2026-12-02
(light over gateway-core, 50 requests a round, 5 rounds): `aa` (the release against itself)
and `slow-setting` (the candidate with LOG_LEVEL=DEBUG LOG_REQUESTS=true).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from perfkit.calibration import jobs, rounds
from perfkit.cli import main

AB_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ab"
KINDS = {"aa": "aa", "slow-setting": "gw:LOG_LEVEL=DEBUG,LOG_REQUESTS=true"}


@pytest.fixture()
def trials(tmp_path: Path) -> Path:
    """A trials file of the two recorded jobs, their run folders copied beside it."""
    path = tmp_path / "trials.jsonl"
    for job, (folder, kind) in enumerate(KINDS.items(), start=1):
        shutil.copytree(AB_FIXTURES / folder, tmp_path / folder)
        run = tmp_path / folder / "candidate"
        verdict = json.loads((run / "comparison.json").read_text())["verdict"]
        argv = ["calibrate-jobs", "record", str(path), "--mode", "ab", "--kind", kind,
                "--job", str(job), "--run", str(run), "--exit",
                "1" if verdict == "regression" else "0", "--quiet"]  # fmt: skip
        assert main(argv) == 0
    return path


def by_plan(found: list[rounds.Replayed], kind: str) -> dict[str, rounds.Replayed]:
    return {r.plan: r for r in found if r.kind == KINDS[kind]}


def test_every_round_gives_the_recorded_verdict_fewer_cost_time_less(
    trials: Path,
) -> None:
    found = rounds.replay(jobs.load_trials(trials))
    for kind in KINDS:
        plans = by_plan(found, kind)
        assert set(plans) == {"3 rounds", "4 rounds", "5 rounds", rounds.SEQUENTIAL}
        recorded = json.loads(
            (trials.parent / kind / "candidate" / "comparison.json").read_text()
        )
        full = plans["5 rounds"]
        assert full.verdict == recorded["verdict"]
        counts: dict[str, int] = {}
        for test in recorded["tests"]:
            counts[test["verdict"]] = counts.get(test["verdict"], 0) + 1
        assert full.tests == counts
        assert full.time_share == pytest.approx(1.0)
        assert 0.45 < plans["3 rounds"].time_share < 0.75
        assert plans["3 rounds"].time_share < plans["4 rounds"].time_share < 1.0
        assert plans[rounds.SEQUENTIAL].looks == [(3, 0.05), (4, 0.05)]
    slow = by_plan(found, "slow-setting")
    assert slow["5 rounds"].verdict == "regression"
    # 3 rounds a side cannot reach significance across 9 tests: the slowdown goes unseen
    assert slow["3 rounds"].verdict != "regression"
    # no test that regressed with every round was stopped early
    assert slow[rounds.SEQUENTIAL].verdict == "regression"


def test_the_report_carries_the_table_and_the_cli_says_when_there_is_nothing(
    trials: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    argv = ["calibrate-jobs", "report", str(trials), "--output", str(out),
            "--started-at", str(time.time() - 5)]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(out.read_text())["fewer_rounds"]
    assert {(r["kind"], r["plan"]) for r in rows} >= {
        ("aa", "3 rounds"),
        (KINDS["slow-setting"], rounds.SEQUENTIAL),
    }
    text = capsys.readouterr().out
    assert "judged again on fewer rounds" in text and "round time" in text
    assert main(["calibrate-jobs", "rounds", str(trials)]) == 0
    assert "sequential" in capsys.readouterr().out
    for folder in KINDS:
        shutil.rmtree(tmp_path / folder)
    assert main(["calibrate-jobs", "rounds", str(trials)]) == 2
    assert "--keep keeps them" in capsys.readouterr().err
