"""The data of a comparison: its options, and per test and metric what was found and decided.
Plain dataclasses, saved as comparison.json (docs/verdicts.md describes every field). This
module owns comparison.json: its name, its schema versions and its one loader.

Schema versions of comparison.json:
  1 - verdict, exit_code, baseline, candidate, environment_differences, forced, strict, method,
      tests (per test: verdict, notes, metrics, slo_breaches), slo_breaches, slo_unmatched,
      summary, notes; per metric `across_jobs` when judged against a stored baseline's
      run-to-run history (added 2026-12-02 as an optional key: older files still read)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.compare.slo import SloRule
from perfkit.compare.verdict import Gates
from perfkit.jsonfile import check_version, malformed, read_object
from perfkit.names import JUDGED_METRICS

COMPARISON_FILE = "comparison.json"
JUNIT_FILE = "comparison.junit.xml"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
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
    # against a stored baseline: the change that counts while there is no run-to-run history
    # yet (docs/verdicts.md, "Across jobs"), and how many earlier jobs the history keeps
    drift_bound: float = 0.35
    history_jobs: int = 30
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
            "across_jobs": {
                "when": "against a stored baseline (not a run of the same job)",
                "test": "the job's median against earlier jobs' medians: Student's t "
                "prediction, spread pooled within baselines, Benjamini-Hochberg",
                "min_jobs": "3 (df >= 2)",
                "drift_bound": self.drift_bound,
                "history_jobs": self.history_jobs,
            },
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
    # against a stored baseline: the job's median against earlier jobs' (perfkit.compare.drift)
    across_jobs: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricResult:
        ci = data.get("ci_pct")
        return cls(**{**data, "ci_pct": [float(v) for v in ci] if ci else None})


@dataclass
class TestComparison:
    __test__ = False  # not a pytest test class

    id: str
    verdict: str  # one of RANK, or "new" (no baseline for it)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, MetricResult] = field(default_factory=dict)
    slo_breaches: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestComparison:
        return cls(
            id=str(data["id"]),
            verdict=str(data["verdict"]),
            notes=[str(n) for n in data.get("notes") or []],
            metrics={
                str(name): MetricResult.from_dict(m)
                for name, m in (data.get("metrics") or {}).items()
            },
            slo_breaches=[str(b) for b in data.get("slo_breaches") or []],
        )


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        fields = {k: v for k, v in data.items() if k != "tests"}
        return cls(**fields, tests=[TestComparison.from_dict(t) for t in data["tests"]])

    def test(self, test_id: str) -> TestComparison | None:
        return next((t for t in self.tests if t.id == test_id), None)

    def regressions(self) -> list[tuple[str, str]]:
        """(test, metric) of every critical regression."""
        return [
            (t.id, name)
            for t in self.tests
            for name, m in t.metrics.items()
            if m.critical and m.verdict == "regression"
        ]


def comparison_path(run_dir: Path) -> Path:
    return run_dir / COMPARISON_FILE


def load_comparison(run_dir: Path) -> Comparison | None:
    """RUN_DIR/comparison.json as the model, None when the run was never compared."""
    path = comparison_path(run_dir)
    return load_comparison_file(path) if path.is_file() else None


def load_comparison_file(path: Path) -> Comparison:
    """A comparison.json as the model; a missing file, corrupt JSON, an unknown schema version
    or malformed content is exit 2 with the file named."""
    data = read_object(path, COMPARISON_FILE, "perfkit compare writes it")
    check_version(path, data, READABLE_VERSIONS)
    try:
        return Comparison.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed(path, COMPARISON_FILE, exc) from None
