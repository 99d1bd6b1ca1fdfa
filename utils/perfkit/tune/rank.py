"""The tuning advisor's verdicts and ranking: each candidate's interleaved A/B (the candidate's
comparison.json, judged by the kit's own statistics against the base side) made into one row.

Per candidate:
- the tests' verdicts, counted (improvement, regression, unchanged, inconclusive, failed);
- the effect on the workload as a whole, per metric (req/s, p50, p95): the geometric mean over
  the tests of candidate/base (each test's median over its rounds), with a 95% Student's t
  interval over the tests - the tests are the workload's sample. `change_pct` is the change of
  the metric itself: +12 for req/s is faster, +12 for p50 is slower;
- the verdict:
    worse         a test failed or regressed (the kit's per-test verdict), or the workload's
                  intervals of req/s and p50 both lie on the worse side of zero
    better        no test worse, and either at least one test improved with the workload's
                  req/s or p50 interval on the better side of zero, or both intervals on the
                  better side (a change every test shows a little, while each test's own
                  rounds are too noisy to call it) - only these are recommended
    no effect     every test unchanged
    inconclusive  anything else (noise, or gains on some tests the workload does not confirm)
  and, for a candidate that was not measured: broke the gateway (its A/B could not start or
  keep a gateway up: the log's tail is kept), interrupted (Ctrl+C), not measured (the budget
  ran out first) or failed (the A/B itself failed: its log says why).
Ranking: measured candidates by their req/s change, best first; the others after, as listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.compare.geomean import geometric_mean
from perfkit.compare.model import Comparison, load_comparison

METRICS = ("rps", "p50", "p95")
HIGHER_IS_BETTER = {"rps": True, "p50": False, "p95": False}
CONFIDENCE = 0.95
VERDICTS = (
    "better",
    "no effect",
    "inconclusive",
    "worse",
    "broke the gateway",
    "failed",
    "interrupted",
    "not measured",
)
STATUSES = ("measured", "broke", "failed", "interrupted", "budget")
UNMEASURED_VERDICT = {
    "broke": "broke the gateway",
    "failed": "failed",
    "interrupted": "interrupted",
    "budget": "not measured",
}


@dataclass(frozen=True)
class Effect:
    change_pct: float
    ci_pct: tuple[float, float] | None  # None with a single test
    tests: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "change_pct": round(self.change_pct, 2),
            "ci_pct": [round(v, 2) for v in self.ci_pct] if self.ci_pct else None,
            "tests": self.tests,
        }


def effect(ratios: list[float]) -> Effect | None:
    """The geometric mean of candidate/base ratios, with its t interval over the tests."""
    found = geometric_mean(ratios, CONFIDENCE)
    if found is None:
        return None
    mean, interval = found
    return Effect(
        _pct(mean),
        (_pct(interval[0]), _pct(interval[1])) if interval else None,
        sum(1 for r in ratios if r > 0 and math.isfinite(r)),
    )


def _pct(ratio: float) -> float:
    return (ratio - 1) * 100


def effects(comparison: Comparison) -> dict[str, Effect]:
    out = {}
    for metric in METRICS:
        ratios = []
        for test in comparison.tests:
            result = test.metrics.get(metric)
            if result is None or not result.base_median or result.cand_median is None:
                continue
            ratios.append(result.cand_median / result.base_median)
        if (found := effect(ratios)) is not None:
            out[metric] = found
    return out


def counts(comparison: Comparison) -> dict[str, int]:
    keys = ("improvement", "regression", "unchanged", "inconclusive", "failed")
    found = {key: 0 for key in keys}
    for test in comparison.tests:
        if test.verdict in found:
            found[test.verdict] += 1
    return found


def side(found: Effect | None, metric: str) -> int:
    """+1 when the workload's interval lies wholly on the better side of zero, -1 wholly on
    the worse side, 0 otherwise (or unmeasured)."""
    if found is None or found.ci_pct is None:
        return 0
    low, high = found.ci_pct
    if low > 0 or high < 0:
        return 1 if (low > 0) == HIGHER_IS_BETTER[metric] else -1
    return 0


def verdict(tally: dict[str, int], found: dict[str, Effect]) -> str:
    sides = (side(found.get("rps"), "rps"), side(found.get("p50"), "p50"))
    if tally["failed"] or tally["regression"] or sides == (-1, -1):
        return "worse"
    if sides == (1, 1) or (tally["improvement"] and 1 in sides):
        return "better"
    if sum(tally.values()) and tally["unchanged"] == sum(tally.values()):
        return "no effect"
    return "inconclusive"


def judge(record: dict[str, Any]) -> dict[str, Any]:
    """One candidate's row from its record (perfkit tune record) and its A/B's comparison."""
    row = dict(record)
    status = record["status"]
    row.update(counts=None, effects={}, tests=0)
    if status != "measured":
        row["verdict"] = UNMEASURED_VERDICT[status]
        return row
    comparison = load_comparison(Path(record["run"]) / "candidate")
    if comparison is None:
        row.update(
            status="failed",
            verdict="failed",
            note=f"no comparison.json in {record['run']}/candidate",
        )
        return row
    tally = counts(comparison)
    found = effects(comparison)
    row.update(
        counts=tally,
        effects={m: e.as_dict() for m, e in found.items()},
        tests=len(comparison.tests),
        verdict=verdict(tally, found),
        regressed=[
            t.id for t in comparison.tests if t.verdict in ("regression", "failed")
        ],
        improved=[t.id for t in comparison.tests if t.verdict == "improvement"],
    )
    return row


def rps_change(row: dict[str, Any]) -> float:
    found = row["effects"].get("rps")
    return found["change_pct"] if found else -math.inf


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    measured = [r for r in rows if r["status"] == "measured"]
    others = [r for r in rows if r["status"] != "measured"]
    return sorted(measured, key=rps_change, reverse=True) + others


def winners(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The better candidates, best first, one per setting name (the best value wins)."""
    chosen: list[dict[str, Any]] = []
    taken: set[str] = set()
    for row in ranked(rows):
        if row["verdict"] != "better":
            continue
        names = {name.upper() for name in row["settings"]}
        if names & taken:
            continue
        taken |= names
        chosen.append(row)
    return chosen


def recommended(rows: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in winners(rows):
        out.update(row["settings"])
    return out
