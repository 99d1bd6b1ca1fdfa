"""Absolute service-level objectives (like k6 thresholds), checked on a run with or without a
baseline: config.yaml `slos:` maps a test id or an fnmatch glob ("tools/*") to limits.

Latency and throughput limits are checked on the candidate's median over rounds, the error
limit on the test's error rate over all measured rounds.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from perfkit.results.samples import SampleSet, TestSamples

# SLO key -> (round metric, kind): "max" limits must not be exceeded, "min" must be reached
LIMITS: dict[str, tuple[str, str]] = {
    "p95_ms": ("p95", "max"),
    "p99_ms": ("p99", "max"),
    "min_rps": ("rps", "min"),
    "max_error_rate": ("error_rate", "max"),
}


@dataclass(frozen=True)
class SloRule:
    pattern: str  # test id or fnmatch glob
    limits: tuple[tuple[str, float], ...]  # (SLO key, limit), keys from LIMITS

    def matches(self, test_id: str) -> bool:
        return fnmatchcase(test_id, self.pattern)


@dataclass
class SloBreach:
    test: str
    pattern: str
    slo: str  # key of LIMITS
    limit: float
    value: float | None  # None: nothing measured to check it on

    def describe(self) -> str:
        if self.value is None:
            return (
                f"{self.test}: {self.slo} {self.limit:g} cannot be checked (no rounds)"
            )
        sign = ">=" if LIMITS[self.slo][1] == "min" else "<="
        return (
            f"{self.test}: {self.slo} {self.value:.4g} breaks {sign} {self.limit:g}"
            f" (slos.{self.pattern})"
        )


def _limit(pattern: str, key: str, value: Any) -> float:
    number = (
        value
        if isinstance(value, int | float) and not isinstance(value, bool)
        else None
    )
    if number is None or not math.isfinite(number) or number < 0:
        raise ValueError(
            f"slos.{pattern}.{key}={value!r} is not a number >= 0: use e.g. 250"
        )
    if key == "max_error_rate" and number >= 1:
        raise ValueError(
            f"slos.{pattern}.{key}={value!r} is not a fraction 0 <= x < 1: use e.g. 0.01"
        )
    return float(number)


def parse_slos(document: Any) -> tuple[SloRule, ...]:
    """The `slos:` section of config.yaml; ValueError (TypeError: not a mapping) naming the
    key, the value and the fix."""
    if document is None:
        return ()
    if not isinstance(document, dict):
        raise TypeError(
            f"slos must map a test id or glob to limits, not {document!r}:"
            ' e.g. slos: {"tools/*": {p95_ms: 250}}'
        )
    rules = []
    for pattern, limits in document.items():
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError(f"slos: {pattern!r} is not a test id or glob")
        if not isinstance(limits, dict) or not limits:
            raise ValueError(
                f"slos.{pattern} must map limits ({', '.join(LIMITS)}) to numbers,"
                f" not {limits!r}"
            )
        unknown = [key for key in limits if key not in LIMITS]
        if unknown:
            raise ValueError(
                f"slos.{pattern}: unknown limit {unknown[0]!r} (known: {', '.join(LIMITS)})"
            )
        rules.append(
            SloRule(
                pattern, tuple((k, _limit(pattern, k, v)) for k, v in limits.items())
            )
        )
    return tuple(rules)


def observed(test: TestSamples, slo: str) -> float | None:
    metric = LIMITS[slo][0]
    if metric == "error_rate":
        return test.error_rate
    values = test.rounds.get(metric, [])
    return float(statistics.median(values)) if values else None


def breaches_of(test: TestSamples, rules: tuple[SloRule, ...]) -> list[SloBreach]:
    found = []
    for rule in rules:
        if not rule.matches(test.id):
            continue
        for slo, limit in rule.limits:
            value = observed(test, slo)
            kind = LIMITS[slo][1]
            broken = value is None or (
                value > limit if kind == "max" else value < limit
            )
            if broken and not (value is None and test.status != "ok"):
                found.append(SloBreach(test.id, rule.pattern, slo, limit, value))
    return found


def check_slos(
    candidate: SampleSet, rules: tuple[SloRule, ...]
) -> tuple[list[SloBreach], list[str]]:
    """Every breach in the run (a test that failed outright is reported as failed, not as a
    breach of what it could not measure), and the patterns that matched no test (typos)."""
    breaches = [b for t in candidate.tests.values() for b in breaches_of(t, rules)]
    unmatched = [
        r.pattern
        for r in rules
        if not any(r.matches(test_id) for test_id in candidate.tests)
    ]
    return breaches, unmatched
