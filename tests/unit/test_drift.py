"""Against a stored baseline, a verdict weighs the run-to-run history: the statistics of a job's
median against earlier jobs' (perfkit.compare.drift), the decision table, and the whole path
through `perfkit baseline save/record` and `perfkit compare --baseline` on controlled runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from compare_data import BASE_P50, scaled, summary_doc, write_run
from perfkit.cli import main
from perfkit.compare.drift import MIN_DF, across_jobs, drift_stats
from perfkit.compare.verdict import Gates, metric_stats
from scipy import stats  # type: ignore[import-untyped]

GATES = Gates(
    alpha=0.05, threshold=0.10, improvement=0.05, size_gate_factor=0.7, min_rounds=3
)


def test_prediction_for_one_new_job_by_hand() -> None:
    history = [("e1", 100.0), ("e1", 104.0), ("e1", 98.0), ("e1", 102.0)]
    found = drift_stats(history, "e1", 110.0, "lower")
    logs = [math.log(v) for _, v in history]
    mean = sum(logs) / 4
    sd = math.sqrt(sum((y - mean) ** 2 for y in logs) / 3)
    t = (math.log(110.0) - mean) / (sd * math.sqrt(1 + 1 / 4))
    assert (found.jobs, found.df) == (4, 3)
    assert found.center == pytest.approx(math.exp(mean))
    assert found.p_worse == pytest.approx(stats.t.sf(t, 3))
    assert found.p_worse + found.p_better == pytest.approx(1)
    assert found.change == pytest.approx(1 - 110.0 / math.exp(mean))  # worse: negative
    assert found.bound == pytest.approx(
        math.exp(stats.t.ppf(0.95, 3) * sd * math.sqrt(1.25)) - 1
    )


def test_higher_is_better_metrics_are_worse_when_lower() -> None:
    history = [("e", 1000.0), ("e", 980.0), ("e", 1010.0), ("e", 995.0)]
    slower = drift_stats(history, "e", 800.0, "higher")
    assert slower.change is not None and slower.change < 0
    assert slower.p_worse is not None and slower.p_worse < 0.01


def test_spread_is_pooled_within_epochs() -> None:
    """A new baseline (an intended change) is not drift: two steady epochs far apart have
    the spread of each, not of the jump between them."""
    old = [("old", 200.0), ("old", 202.0), ("old", 198.0)]
    new = [("new", 100.0), ("new", 101.0), ("new", 99.0)]
    found = drift_stats(old + new, "new", 100.5, "lower")
    assert found.df == 4 and found.spread is not None and found.spread < 0.02
    assert found.center == pytest.approx(100.0, rel=0.01)  # the current epoch's


def test_too_little_history_is_not_usable() -> None:
    two = drift_stats([("e", 100.0), ("e", 101.0)], "e", 130.0, "lower")
    assert two.df == MIN_DF - 1 and not two.usable and two.p_worse is None
    assert two.change == pytest.approx(1 - 130.0 / math.sqrt(100.0 * 101.0))
    none = drift_stats([("other", 100.0)], "e", 130.0, "lower")
    assert none.center is None and none.change is None


def judge(
    verdict: str,
    change: float,
    history: list[float],
    value: float,
    why: str | None = None,
) -> tuple[str, str | None]:
    """A p50 metric whose within-job verdict is `verdict` (rounds changed by `change`; `why`
    the within-job note)."""
    base = [20.0, 20.1, 19.9, 20.0, 20.05]
    within = metric_stats(base, scaled(base, 1 - change), "lower")
    drift = drift_stats([("e", v) for v in history], "e", value, "lower")
    return across_jobs(
        verdict, why, within, drift, drift.p_worse, drift.p_better, GATES, 0.35
    )


STEADY = [20.0, 20.4, 19.8, 20.2, 20.1]  # jobs within 1% of each other
DRIFTING = [20.0, 24.0, 17.0, 22.5, 18.5]  # jobs up to 20% apart


@pytest.mark.parametrize(
    ("verdict", "change", "history", "value", "expected", "note"),
    [
        # a 20% slowdown: beyond a steady history, inside a drifting one
        ("regression", -0.20, STEADY, 24.0, "regression", None),
        ("regression", -0.20, DRIFTING, 24.0, "inconclusive", "job-to-job drift"),
        # unchanged: vouched for only by a history that could have seen a 10% change
        ("unchanged", 0.0, STEADY, 20.1, "unchanged", None),
        ("unchanged", 0.0, DRIFTING, 20.1, "inconclusive", "wider than the threshold"),
        # slower than the history though not than the baseline's rounds: not vouched for
        (
            "unchanged",
            0.0,
            STEADY,
            23.0,
            "inconclusive",
            "though not against the baseline",
        ),
        ("improvement", 0.20, STEADY, 16.0, "improvement", None),
        ("improvement", 0.20, DRIFTING, 17.0, "inconclusive", "job-to-job drift"),
        # a short, drifting history cannot vouch, but a change beyond the drift bound counts
        ("regression", -0.50, DRIFTING[:3], 31.0, "regression", None),
        # no history yet (the baseline's own job and one more): only the drift bound counts
        (
            "regression",
            -0.50,
            [20.0, 20.2],
            30.0,
            "regression",
            "beyond this machine's",
        ),
        (
            "regression",
            -0.20,
            [20.0, 20.2],
            24.0,
            "inconclusive",
            "within this machine's",
        ),
        ("unchanged", 0.0, [20.0], 20.0, "inconclusive", "cannot be vouched for"),
        # within-job verdicts the history cannot make better
        ("inconclusive", 0.0, STEADY, 20.0, "inconclusive", None),
    ],
)
def test_the_decision_table(
    verdict: str, change: float, history: list[float], value: float, expected: str,
    note: str | None,
) -> None:  # fmt: skip
    found, text = judge(verdict, change, history, value)
    assert found == expected, text
    if note is not None:
        assert note in (text or ""), text


NOISY = "too noisy (robust CV baseline 7.6% > 5.0%)"
UNCONFIRMED = "8.4% faster, but not significant with 5 and 5 rounds"


@pytest.mark.parametrize(
    ("why", "history", "value", "expected", "note"),
    [
        # rounds that cannot be set against the baseline's: the history judges alone
        (NOISY, STEADY, 20.1, "unchanged", "judged against the history"),
        (UNCONFIRMED, STEADY, 20.0, "unchanged", "judged against the history"),
        (NOISY, DRIFTING, 20.1, "inconclusive", "wider than the threshold"),
        (NOISY, STEADY, 23.0, "inconclusive", "worse than the median of 5"),
        # never more than unchanged: a slowdown must hold within the run too
        (NOISY, STEADY, 40.0, "inconclusive", "too noisy"),
        # too little history, or a reason the history cannot mend: as the rounds said
        (NOISY, [20.0, 20.1], 20.0, "inconclusive", NOISY),
        ("too few rounds (2 baseline, 5 candidate; need 3)", STEADY, 20.0, "inconclusive",
         "too few rounds"),
    ],
)  # fmt: skip
def test_rounds_that_cannot_judge_leave_it_to_the_history(
    why: str, history: list[float], value: float, expected: str, note: str
) -> None:
    found, text = judge("inconclusive", 0.0, history, value, why)
    assert found == expected, text
    assert note in (text or ""), text


# --- the whole path: save, compare, record, compare again ----------------------------------


def job(tmp_path: Path, name: str, factor: float) -> Path:
    """A run whose two tests' rounds are BASE_P50 scaled by `factor` (a job-level offset)."""
    tests = {
        "tools/a": scaled(BASE_P50, factor),
        "tools/b": scaled(BASE_P50, 2 * factor),
    }
    return write_run(tmp_path / name, summary_doc(tests))


def compare_and_record(tmp_path: Path, run: Path) -> dict:
    bdir = tmp_path / "baselines"
    baseline = bdir / "baseline_x.json"
    assert main(["compare", str(run), "--baseline", str(baseline), "--quiet"]) in (0, 1)
    comparison = run / "comparison.json"
    args = ["baseline", "record", str(run), "--comparison", str(comparison)]
    assert main([*args, "--dir", str(bdir), "--name", "x"]) == 0
    data: dict = json.loads(comparison.read_text())
    return data


def verdicts(data: dict) -> dict[str, str]:
    return {t["id"]: t["verdict"] for t in data["tests"]}


def test_history_grows_with_each_job_and_then_vouches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bdir = tmp_path / "baselines"
    first = job(tmp_path, "j0", 1.0)
    assert (
        main(["baseline", "save", str(first), "--dir", str(bdir), "--name", "x"]) == 0
    )
    # unchanged jobs, each a little off (as jobs are): too new to vouch for at first
    early = compare_and_record(tmp_path, job(tmp_path, "j1", 1.01))
    assert set(verdicts(early).values()) == {"inconclusive"}
    for n, factor in enumerate((0.99, 1.005, 0.995, 1.0), start=2):
        compare_and_record(tmp_path, job(tmp_path, f"j{n}", factor))
    steady = compare_and_record(tmp_path, job(tmp_path, "j6", 1.003))
    assert set(verdicts(steady).values()) == {"unchanged"}
    across = steady["tests"][0]["metrics"]["p50"]["across_jobs"]
    assert across["jobs"] == 6 and across["bound_pct"] < 5
    # a real 20% slowdown stands out of that history: regression, exit 1
    slow = job(tmp_path, "j7", 1.2)
    assert (
        main(["compare", str(slow), "--baseline", str(bdir / "baseline_x.json")]) == 1
    )
    assert set(
        verdicts(json.loads((slow / "comparison.json").read_text())).values()
    ) == {"regression"}
    lines = (bdir / "history" / "x" / "jobs.jsonl").read_text().splitlines()
    assert [json.loads(line)["role"] for line in lines] == ["baseline"] + [
        "compared"
    ] * 6


def test_a_drifting_history_keeps_a_job_level_shift_inconclusive(
    tmp_path: Path,
) -> None:
    """Jobs that move by +-15% with nothing changed: a 20% slower job is within that drift -
    the within-job test alone (every round slower) would call it a regression."""
    bdir = tmp_path / "baselines"
    assert main(["baseline", "save", str(job(tmp_path, "j0", 1.0)), "--dir", str(bdir),
                 "--name", "x"]) == 0  # fmt: skip
    for n, factor in enumerate((1.15, 0.87, 1.12, 0.9), start=1):
        compare_and_record(tmp_path, job(tmp_path, f"j{n}", factor))
    shifted = compare_and_record(tmp_path, job(tmp_path, "j5", 1.2))
    assert set(verdicts(shifted).values()) == {"inconclusive"}
    p50 = shifted["tests"][0]["metrics"]["p50"]
    assert p50["p_adjusted"] < 0.05  # the rounds alone say "worse"
    assert "job-to-job drift" in p50["note"]


def test_regressions_do_not_join_the_history(tmp_path: Path) -> None:
    bdir = tmp_path / "baselines"
    assert main(["baseline", "save", str(job(tmp_path, "j0", 1.0)), "--dir", str(bdir),
                 "--name", "x"]) == 0  # fmt: skip
    data = compare_and_record(tmp_path, job(tmp_path, "j1", 1.6))
    assert data["verdict"] == "regression"
    from perfkit.baseline.file import load_baseline
    from perfkit.baseline.jobs import history_jobs, load_jobs

    jobs = load_jobs(bdir / "history" / "x")
    assert [j.verdict for j in jobs] == [None, "regression"]
    kept = history_jobs(jobs, load_baseline(bdir / "baseline_x.json"), 30)
    assert [j.role for j in kept] == ["baseline"]
