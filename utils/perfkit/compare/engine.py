"""Baseline against candidate: per test and metric a verdict, then one verdict for the run.

Errors first (a failed, skipped or missing test, a rising error rate), then the statistics of
perfkit.compare.verdict with Benjamini-Hochberg across every test, then the environment check, then the
absolute SLOs. The method and its reasons: docs/verdicts.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from perfkit.compare.drift import DriftStats, History, across_jobs, drift_stats
from perfkit.compare.model import (
    MIN_CI_LEVEL,
    RANK,
    TESTED,
    CompareOptions,
    Comparison,
    MetricResult,
    TestComparison,
)
from perfkit.compare.slo import SloBreach, SloRule, check_slos
from perfkit.compare.verdict import (
    MetricStats,
    benjamini_hochberg,
    decide,
    metric_stats,
)
from perfkit.exitcodes import ExitCode
from perfkit.names import JUDGED_METRICS
from perfkit.results.samples import SampleSet, TestSamples, fingerprint_differences


def as_percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 3)


def metric_result(
    s: MetricStats, adjusted: tuple[float, float] | None, threshold: float | None,
    critical: bool,
) -> MetricResult:  # fmt: skip
    shown = s.ci is not None and (s.ci_level or 0) >= MIN_CI_LEVEL
    return MetricResult(
        n_base=s.n_base,
        n_cand=s.n_cand,
        base_median=s.base_median,
        cand_median=s.cand_median,
        change_pct=as_percent(s.change),
        ci_pct=[round(v * 100, 3) for v in s.ci] if shown and s.ci else None,
        ci_level=round(s.ci_level, 4) if shown and s.ci_level is not None else None,
        p_worse=s.p_worse,
        p_better=s.p_better,
        p_adjusted=adjusted[0] if adjusted else None,
        p_better_adjusted=adjusted[1] if adjusted else None,
        noise_cv_base=s.noise_base,
        noise_cv_cand=s.noise_cand,
        threshold=threshold,
        critical=critical,
        verdict="unchanged",
    )


def error_rate_rise(
    base: TestSamples, cand: TestSamples, tolerance: float
) -> str | None:
    """Errors first: any rise above the baseline's rate + tolerance fails (also from 0%)."""
    before = base.error_rate or 0.0
    after = cand.error_rate
    if after is None or after <= before + tolerance:
        return None
    return (
        f"error rate rose from {before:.2%} to {after:.2%} (tolerance {tolerance:.2%})"
    )


def status_failure(cand: TestSamples) -> str | None:
    """Why the candidate's test failed; None when it ran, or was skipped (not measured, with
    its reason: e.g. a transport the gateway does not serve as configured)."""
    if cand.status in ("ok", "skipped"):
        return None
    return f"candidate test {cand.status}: {cand.reason or 'no reason given'}"


def skipped_note(cand: TestSamples) -> str:
    return f"not measured: the test was skipped: {cand.reason or 'no reason given'}"


@dataclass
class Pending:
    """A test on both sides, its errors judged, its metrics measured but not yet decided;
    against a stored baseline also each metric's standing across earlier jobs."""

    result: TestComparison
    stats: dict[str, MetricStats]
    drift: dict[str, DriftStats] = field(default_factory=dict)
    skipped: bool = (
        False  # the candidate's test was not measured: inconclusive, said why
    )


def measure_drift(item: Pending, history: History) -> None:
    for metric, s in item.stats.items():
        if metric in TESTED and s.p_worse is not None:
            direction = JUDGED_METRICS[metric]
            found = history.of(item.result.id, metric)
            item.drift[metric] = drift_stats(
                found, history.epoch, s.cand_median, direction
            )


def measure(base: TestSamples, cand: TestSamples, options: CompareOptions) -> Pending:
    if cand.status == "skipped":
        return Pending(
            TestComparison(cand.id, "inconclusive", [skipped_note(cand)]),
            {},
            skipped=True,
        )
    failure = status_failure(cand) or error_rate_rise(
        base, cand, options.error_rate_tolerance
    )
    result = TestComparison(cand.id, "failed" if failure else "unchanged")
    result.notes += [failure] if failure else []
    if base.status != "ok":
        result.notes.append(f"baseline test was {base.status}: {base.reason or '-'}")
    stats = {}
    if cand.status == "ok":
        for metric, direction in JUDGED_METRICS.items():
            if metric not in options.metrics and metric not in options.critical_metrics:
                continue
            b, c = base.rounds.get(metric, []), cand.rounds.get(metric, [])
            enough = min(len(b), len(c)) >= options.min_rounds
            tested = not failure and metric in TESTED and enough
            stats[metric] = metric_stats(b, c, direction, tested)
    return Pending(result, stats)


def adjust(
    pending: list[Pending],
    critical: bool,
    options: CompareOptions,
    across: bool = False,
) -> dict[tuple[int, str], tuple[float, float]]:
    """Benjamini-Hochberg over one family (critical metrics of every test, or the others),
    each direction on its own: (test index, metric) -> (adjusted p_worse, p_better). The
    p-values of the rounds' test, or (`across`) of the jobs' history."""
    keys, worse, better = [], [], []
    for index, item in enumerate(pending):
        found = item.drift if across else item.stats
        for metric, s in found.items():
            if (metric in options.critical_metrics) != critical:
                continue
            if s.p_worse is not None and s.p_better is not None:
                keys.append((index, metric))
                worse.append(s.p_worse)
                better.append(s.p_better)
    pairs = zip(benjamini_hochberg(worse), benjamini_hochberg(better))
    return dict(zip(keys, pairs))


def decide_test(
    item: Pending,
    adjusted: dict[str, tuple[float, float]],
    options: CompareOptions,
    mismatch: bool,
    across: dict[str, tuple[float, float]] | None = None,
) -> TestComparison:
    """The test's verdict; `across` (against a stored baseline) holds the adjusted p-values
    of each metric against earlier jobs, and the verdict must hold across jobs too."""
    result = item.result
    if item.skipped:
        return result
    for metric, s in item.stats.items():
        critical = metric in options.critical_metrics
        m = metric_result(
            s, adjusted.get(metric), options.thresholds.get(metric), critical
        )
        result.metrics[metric] = m
        if metric == "error_rate":
            m.verdict = (
                "failed" if "error rate" in " ".join(result.notes) else "unchanged"
            )
            continue
        if result.verdict == "failed":
            m.verdict, m.note = "inconclusive", "not judged: the test failed"
            continue
        q_worse, q_better = adjusted.get(metric, (None, None))
        m.verdict, m.note = decide(s, q_worse, q_better, options.gates(metric))
        if across is not None and metric in item.drift:
            drift = item.drift[metric]
            h_worse, h_better = across.get(metric, (None, None))
            m.verdict, m.note = across_jobs(
                m.verdict, m.note, s, drift, h_worse, h_better,
                options.gates(metric), options.drift_bound,
            )  # fmt: skip
            m.across_jobs = across_record(drift, h_worse, h_better)
        if (
            mismatch
            and not options.force
            and m.verdict in {"regression", "improvement"}
        ):
            m.note = (
                f"would be {m.verdict}, but the environments differ (--force judges)"
            )
            m.verdict = "inconclusive"
        if m.note and critical:
            result.notes.append(f"{metric}: {m.note}")
    if result.verdict != "failed":
        result.verdict = worst(
            [m.verdict for m in result.metrics.values() if m.critical]
        )
    return result


def worst(verdicts: list[str]) -> str:
    return min(verdicts, key=RANK.index) if verdicts else "unchanged"


def new_test(cand: TestSamples, note: str) -> TestComparison:
    failure = status_failure(cand)
    if cand.status == "skipped":
        note = skipped_note(cand)
    return TestComparison(cand.id, "failed" if failure else "new", [failure or note])


def across_record(
    drift: DriftStats, q_worse: float | None, q_better: float | None
) -> dict[str, Any]:
    """comparison.json's `across_jobs` of one metric; changes and bounds in percent."""
    return {
        "jobs": drift.jobs,
        "df": drift.df,
        "center": drift.center,
        "change_pct": as_percent(drift.change),
        "bound_pct": as_percent(drift.bound),
        "p_worse": drift.p_worse,
        "p_better": drift.p_better,
        "p_adjusted": q_worse,
        "p_better_adjusted": q_better,
    }


def compare_tests(
    base: SampleSet,
    cand: SampleSet,
    options: CompareOptions,
    mismatch: bool,
    history: History | None = None,
) -> list[TestComparison]:
    pending = [
        measure(b, cand.tests[test_id], options)
        for test_id, b in base.tests.items()
        if test_id in cand.tests
    ]
    adjusted: dict[tuple[int, str], tuple[float, float]] = {}
    across: dict[tuple[int, str], tuple[float, float]] = {}
    if history is not None:
        for item in pending:
            measure_drift(item, history)
    for critical in (True, False):
        adjusted |= adjust(pending, critical, options)
        across |= adjust(pending, critical, options, across=True)
    decided = {
        item.result.id: decide_test(
            item,
            {m: q for (i, m), q in adjusted.items() if i == index},
            options,
            mismatch,
            None
            if history is None
            else {m: q for (i, m), q in across.items() if i == index},
        )
        for index, item in enumerate(pending)
    }
    missing = ["missing from the candidate run"]
    results = [
        decided.get(test_id) or TestComparison(test_id, "failed", list(missing))
        for test_id in base.tests
    ]
    results += [
        new_test(t, "new: not in the baseline")
        for t in cand.tests.values()
        if t.id not in base.tests
    ]
    return results


def attach_slos(
    tests: list[TestComparison], cand: SampleSet, rules: tuple[SloRule, ...]
) -> tuple[list[SloBreach], list[str]]:
    breaches, unmatched = check_slos(cand, rules)
    by_id = {t.id: t for t in tests}
    for breach in breaches:
        by_id[breach.test].slo_breaches.append(breach.describe())
    return breaches, unmatched


def run_verdict(
    tests: list[TestComparison], breaches: list[SloBreach], compared: int | None
) -> str:
    verdicts = {t.verdict for t in tests}
    if "failed" in verdicts or compared == 0:
        return "failed"
    if "regression" in verdicts:
        return "regression"
    if breaches:
        return "slo_breach"
    if compared is None:
        return "no_baseline"
    return worst([v for v in verdicts if v in RANK])


def exit_code(verdict: str, strict: bool) -> int:
    failing = {"failed", "regression", "slo_breach"} | (
        {"inconclusive"} if strict else set()
    )
    return int(ExitCode.REGRESSION if verdict in failing else ExitCode.OK)


def summarize(
    tests: list[TestComparison], breaches: list[SloBreach], compared: int | None
) -> dict[str, Any]:
    counts = {v: sum(t.verdict == v for t in tests) for v in (*RANK, "new")}
    return {
        "tests": len(tests),
        "compared": compared,
        **counts,
        "slo_breaches": len(breaches),
    }


def build(
    tests: list[TestComparison],
    base: SampleSet | None,
    cand: SampleSet,
    options: CompareOptions,
    differences: list[str],
) -> Comparison:
    breaches, unmatched = attach_slos(tests, cand, options.slos)
    compared = (
        None
        if base is None
        else sum(t.id in cand.tests for t in tests if t.id in base.tests)
    )
    verdict = run_verdict(tests, breaches, compared)
    notes = (
        []
        if compared != 0
        else ["no test was compared: a run that compares nothing never passes"]
    )
    return Comparison(
        verdict=verdict,
        exit_code=exit_code(verdict, options.strict),
        baseline=None
        if base is None
        else {"source": base.source, "fingerprint": base.fingerprint},
        candidate={"source": cand.source, "fingerprint": cand.fingerprint},
        environment_differences=differences,
        forced=options.force,
        strict=options.strict,
        method=options.method(),
        tests=tests,
        slo_breaches=[asdict(b) for b in breaches],
        slo_unmatched=unmatched,
        summary=summarize(tests, breaches, compared),
        notes=notes + [f"slos.{p} matched no test" for p in unmatched],
    )


def compare_samples(
    base: SampleSet,
    cand: SampleSet,
    options: CompareOptions,
    history: History | None = None,
) -> Comparison:
    """The full comparison of a candidate run against a baseline: a run of the same job
    (`history` None), or a stored baseline with its run-to-run history."""
    differences = fingerprint_differences(base.fingerprint, cand.fingerprint)
    tests = compare_tests(base, cand, options, bool(differences), history)
    return build(tests, base, cand, options, differences)


def check_run_slos(cand: SampleSet, options: CompareOptions) -> Comparison:
    """No baseline: only errors (failed or skipped tests) and the absolute SLOs decide."""
    tests = [new_test(t, "no baseline") for t in cand.tests.values()]
    return build(tests, None, cand, options, [])
