"""The data of a comparison: its options, and per test and metric what was found and decided.
Plain dataclasses, saved as comparison.json (docs/verdicts.md describes every field)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from perfkit.compare.slo import SloRule
from perfkit.compare.verdict import Gates
from perfkit.names import JUDGED_METRICS

SCHEMA_VERSION = 1
# worst first; a test's verdict is the worst of its critical metrics
RANK = ("failed", "regression", "inconclusive", "improvement", "unchanged")
MIN_CI_LEVEL = 0.8  # below (1 or 2 rounds a side) no interval is reported
TESTED = tuple(
    m for m in JUDGED_METRICS if m != "error_rate"
)  # error rate: errors-first rule


@dataclass(frozen=True)
class CompareOptions:
    thresholds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(TESTED, 0.10)
    )
    critical_metrics: tuple[str, ...] = ("p50", "rps")
    # performance.metrics: the metrics judged and reported (critical ones always are; the
    # errors-first rule applies whatever this lists)
    metrics: tuple[str, ...] = tuple(JUDGED_METRICS)
    improvement_threshold: float = 0.05
    alpha: float = 0.05
    size_gate_factor: float = 0.7
    min_rounds: int = 3
    error_rate_tolerance: float = 0.0
    force: bool = False  # judge across mismatched environments anyway
    strict: bool = False  # inconclusive fails the run too
    slos: tuple[SloRule, ...] = ()

    def gates(self, metric: str) -> Gates:
        return Gates(
            self.alpha,
            self.thresholds[metric],
            self.improvement_threshold,
            self.size_gate_factor,
            self.min_rounds,
        )

    def method(self) -> dict[str, Any]:
        return {
            "unit": "per-round values (one hey round = one sample)",
            "test": "one-sided Mann-Whitney U (exact; permutation when tied)",
            "ci": "Hodges-Lehmann/Moses interval of log(candidate/baseline), 95%",
            "alpha": self.alpha,
            "correction": "benjamini-hochberg",
            "families": "critical metrics of all tests; other metrics of all tests",
            "size_gate_factor": self.size_gate_factor,
            "thresholds": self.thresholds,
            "improvement_threshold": self.improvement_threshold,
            "critical_metrics": list(self.critical_metrics),
            "min_rounds": self.min_rounds,
            "noise_gate": "robust CV (1.4826 x MAD / median) > threshold / 2",
            "error_rate_tolerance": self.error_rate_tolerance,
        }


@dataclass
class MetricResult:
    n_base: int
    n_cand: int
    base_median: float | None
    cand_median: float | None
    change_pct: float | None  # positive = better
    ci_pct: list[float] | None  # 95% CI of change_pct (lower level when n is tiny)
    ci_level: float | None
    p_worse: float | None
    p_better: float | None
    p_adjusted: float | None  # p_worse after Benjamini-Hochberg
    p_better_adjusted: float | None
    noise_cv_base: float | None
    noise_cv_cand: float | None
    threshold: float | None  # regression threshold, fraction
    critical: bool
    verdict: str
    note: str | None = None


@dataclass
class TestComparison:
    __test__ = False  # not a pytest test class

    id: str
    verdict: str  # one of RANK, or "new" (no baseline for it)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    slo_breaches: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    verdict: str
    exit_code: int
    baseline: dict[str, Any] | None
    candidate: dict[str, Any]
    environment_differences: list[str]
    forced: bool
    strict: bool
    method: dict[str, Any]
    tests: list[TestComparison]
    slo_breaches: list[dict[str, Any]]
    slo_unmatched: list[str]
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    def regressions(self) -> list[tuple[str, str]]:
        """(test, metric) of every critical regression."""
        return [
            (t.id, name)
            for t in self.tests
            for name, m in t.metrics.items()
            if m.critical and m.verdict == "regression"
        ]
