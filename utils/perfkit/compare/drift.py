"""Across jobs: is a job's median beyond what unchanged jobs do on this machine?

The rounds of one job share its conditions - the host's other load, the CPU's clock, the
gateway process's warm state - so against a baseline saved by another job, a test on rounds
sees a job-level offset as a change: on this machine two unchanged jobs a minute apart differed
by up to 31% on a test's p50. Bencher's answer, followed here: judge the job's median against
the medians of earlier jobs (perfkit.baseline.jobs keeps them per baseline).

Per test and metric, the log medians of the history's jobs are grouped by epoch (the baseline
they were judged against: a new baseline - saved, accepted, promoted - is an intended change,
not drift). Their spread is pooled within epochs, as in a one-way ANOVA:
s^2 = sum over epochs of sum (y - epoch mean)^2 / (N - E), df = N - E. The current epoch's
mean is the center; a new job's log median y is a prediction problem for one new observation:
t = (y - center) / (s x sqrt(1 + 1/k)), k jobs in the current epoch, Student's t with df
degrees of freedom. Below MIN_DF there is no history to speak of (docs/verdicts.md says what
the verdict does then).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perfkit.compare.verdict import Gates, MetricStats, change_from_ratio

MIN_DF = 2  # 3 jobs in one epoch, or 4 over two
BOUND_LEVEL = 0.95  # the one-sided prediction bound reported as the drift
SPREAD_FLOOR = 1e-4  # identical medians (a fake history) must not divide by zero


@dataclass
class History:
    """Earlier jobs' medians: test id -> metric -> (epoch, median); `epoch` is the current
    baseline's (perfkit.baseline.jobs builds it)."""

    epoch: str
    medians: dict[str, dict[str, list[tuple[str, float]]]]

    def of(self, test_id: str, metric: str) -> list[tuple[str, float]]:
        return self.medians.get(test_id, {}).get(metric, [])


@dataclass
class DriftStats:
    """One metric of one test against the run-to-run history of its medians."""

    jobs: int  # N, the current job not included
    df: int  # N - epochs
    center: float | None  # the current epoch's expected median (geometric mean)
    spread: float | None  # sd of log medians within epochs
    change: (
        float | None
    )  # the job's median against the center, fraction, positive = better
    bound: float | None  # one-sided 95% prediction bound of an unchanged job, fraction
    p_worse: float | None
    p_better: float | None

    @property
    def usable(self) -> bool:
        return self.df >= MIN_DF and self.change is not None


def drift_stats(
    history: Sequence[tuple[str, float]],
    epoch: str,
    value: float | None,
    direction: str,
) -> DriftStats:
    """`history`: (epoch, median) of earlier jobs, the current baseline's among them;
    `epoch`: the current baseline's; `value`: this job's median."""
    logs = [(e, math.log(v)) for e, v in history if v > 0]
    groups: dict[str, list[float]] = {}
    for e, y in logs:
        groups.setdefault(e, []).append(y)
    n, df = len(logs), len(logs) - len(groups)
    current = groups.get(epoch, [])
    if not current or value is None or value <= 0:
        return DriftStats(n, df, None, None, None, None, None, None)
    center = sum(current) / len(current)
    y = math.log(value)
    change = change_from_ratio(math.exp(y - center), direction)
    if df < MIN_DF:
        return DriftStats(n, df, math.exp(center), None, change, None, None, None)
    squares = sum((v - sum(g) / len(g)) ** 2 for g in groups.values() for v in g)
    spread = max(math.sqrt(squares / df), SPREAD_FLOOR)
    scale = spread * math.sqrt(1 + 1 / len(current))
    worse = (y - center) / scale if direction == "lower" else (center - y) / scale
    from scipy import stats  # type: ignore[import-untyped]  # (loaded only to judge: ~1 s)

    bound = math.exp(float(stats.t.ppf(BOUND_LEVEL, df)) * scale) - 1
    return DriftStats(
        jobs=n,
        df=df,
        center=math.exp(center),
        spread=spread,
        change=change,
        bound=bound,
        p_worse=float(stats.t.sf(worse, df)),
        p_better=float(stats.t.cdf(worse, df)),
    )


def across_jobs(
    verdict: str,
    note: str | None,
    within: MetricStats,
    drift: DriftStats,
    q_worse: float | None,
    q_better: float | None,
    gates: Gates,
    drift_bound: float,
) -> tuple[str, str | None]:
    """The stored-baseline verdict: the within-job verdict (rounds against the baseline's
    rounds) must hold across jobs too. A regression or improvement must also be beyond the
    run-to-run history (Benjamini-Hochberg across tests, and the size gate against the
    history's center) or beyond the machine's drift bound (a change no unchanged job showed
    here: it counts however short the history); `unchanged` needs a history that could have
    seen a threshold-sized change. With no history yet, only the drift bound counts.

    A test whose rounds cannot be set against the baseline's (too noisy on either side, or a
    change the rounds cannot confirm) is judged against the history alone once there is one:
    `unchanged` when its median is not significantly worse than the earlier jobs' by the size
    gate and the history could have seen a threshold-sized change; never a regression or an
    improvement (those must hold within the run too)."""
    if verdict == "inconclusive" and drift.usable and note and history_judges(note):
        return _by_history(note, drift, q_worse, gates)
    if verdict not in ("regression", "improvement", "unchanged"):
        return verdict, note
    if not drift.usable:
        return _without_history(verdict, within, drift, drift_bound)
    assert drift.change is not None and drift.bound is not None
    where = _where(drift)
    beyond_bound = abs(drift.change) >= drift_bound  # beyond any drift seen here
    if verdict == "regression":
        worse = q_worse is not None and q_worse <= gates.alpha
        if (worse and -drift.change >= gates.size_gate) or (
            beyond_bound and drift.change < 0
        ):
            return "regression", None
        why = f"worse than the baseline's rounds, but {where}: job-to-job drift"
        return "inconclusive", why
    if verdict == "improvement":
        better = q_better is not None and q_better <= gates.alpha
        if (better and drift.change >= gates.improvement) or (
            beyond_bound and drift.change > 0
        ):
            return "improvement", None
        why = f"better than the baseline's rounds, but {where}: job-to-job drift"
        return "inconclusive", why
    if _worse_than_history(drift, q_worse, gates):
        return "inconclusive", f"{where}, though not against the baseline's rounds"
    if drift.bound > gates.threshold:
        return "inconclusive", _too_wide(drift, gates)
    return "unchanged", None


def history_judges(note: str) -> bool:
    """Whether decide()'s inconclusive `note` says the rounds cannot be set against the
    baseline's - too noisy, or a change they cannot confirm - rather than that there are too
    few of them or nothing to compare: the history then judges (across_jobs)."""
    return note.startswith("too noisy") or ", but not significant with " in note


def _where(drift: DriftStats) -> str:
    assert drift.change is not None and drift.bound is not None
    off = f"{abs(drift.change):.1%} {'worse' if drift.change < 0 else 'better'}"
    return (
        f"{off} than the median of {drift.jobs} earlier jobs' (an unchanged job stays within "
        f"{drift.bound:.1%} with 95% confidence)"
    )


def _worse_than_history(drift: DriftStats, q_worse: float | None, gates: Gates) -> bool:
    assert drift.change is not None
    return (
        q_worse is not None
        and q_worse <= gates.alpha
        and -drift.change >= gates.size_gate
    )


def _too_wide(drift: DriftStats, gates: Gates) -> str:
    assert drift.bound is not None
    return (
        f"the job-to-job drift here ({drift.bound:.1%} over {drift.jobs} jobs) is wider "
        f"than the threshold {gates.threshold:.0%}: a slowdown that size could hide in it"
    )


def _by_history(
    note: str, drift: DriftStats, q_worse: float | None, gates: Gates
) -> tuple[str, str | None]:
    """A test the rounds could not judge (`note` says why), against the history alone."""
    assert drift.bound is not None
    if _worse_than_history(drift, q_worse, gates):
        return "inconclusive", f"{note}; and {_where(drift)}"
    if drift.bound > gates.threshold:
        return "inconclusive", f"{note}; and {_too_wide(drift, gates)}"
    return "unchanged", (
        f"{note} against the baseline's rounds; judged against the history: {_where(drift)}"
    )


def _without_history(
    verdict: str, within: MetricStats, drift: DriftStats, drift_bound: float
) -> tuple[str, str | None]:
    history = (
        f"no run-to-run history yet ({drift.jobs} earlier job(s); {MIN_DF + 1} needed)"
    )
    change = within.change
    if verdict in ("regression", "improvement") and change is not None:
        if abs(change) >= drift_bound:
            return verdict, (
                f"{history}, but the change ({abs(change):.1%}) is beyond this machine's "
                f"job-to-job drift bound of {drift_bound:.0%}"
            )
        return "inconclusive", (
            f"{history}: a {abs(change):.1%} change is within this machine's job-to-job "
            f"drift bound of {drift_bound:.0%}"
        )
    return (
        "inconclusive",
        f"{history}: an unchanged job cannot be vouched for across jobs",
    )
