"""An A/B whose sides ran on different databases (compare-versions.sh --base-database and
--candidate-database; ./scenarios/database-benchmark.sh --database both): how the candidate's
database fared against the base's over the tests, and which one to use at the data size the
runs had - a note of the comparison (its text, comparison.json, the report).

The figures: each test's p50 ratio candidate/base (medians over rounds), their median and
range, and how many tests the verdicts judged slower, faster or neither. The advice follows
the measurement: SQLite faster on one machine says keep it for one gateway process; what
SQLite cannot do (several workers or gateways writing one database) is PostgreSQL's either way.
"""

from __future__ import annotations

import statistics

from perfkit.compare.model import Comparison
from perfkit.results.summary import Summary

SHARED = (
    "several gateway workers or hosts sharing one database need PostgreSQL whatever this "
    "says: SQLite takes one writer at a time"
)


def backends_note(base: Summary, cand: Summary, comparison: Comparison) -> str | None:
    """The note, or None when both sides ran on the same database (or nothing compares)."""
    b = str(base.settings.get("db_backend") or "")
    c = str(cand.settings.get("db_backend") or "")
    if not b or not c or b == c:
        return None
    ratios = []
    for t in comparison.tests:
        m = t.metrics.get("p50")
        if m is not None and m.base_median and m.cand_median:
            ratios.append(m.cand_median / m.base_median)
    if not ratios:
        return None
    slower = sum(t.verdict == "regression" for t in comparison.tests)
    faster = sum(t.verdict == "improvement" for t in comparison.tests)
    judged = len(comparison.tests)
    middle = statistics.median(ratios)
    dataset = cand.settings.get("dataset") or base.settings.get("dataset")
    where = f"the `{dataset}` dataset" if dataset else "an empty database"
    figures = (
        f"{c} against {b} on {where}: p50 {middle:.2f}x {b}'s (median of {len(ratios)} "
        f"tests, {min(ratios):.2f}x to {max(ratios):.2f}x); judged slower on {slower}, "
        f"faster on {faster}, neither on {judged - slower - faster} of {judged}"
    )
    if slower > judged / 2 and middle > 1:
        advice = f"{b} serves one gateway process faster at this data size"
    elif faster > judged / 2 and middle < 1:
        advice = f"{c} is faster already at this data size: use it"
    else:
        advice = (
            "no clear winner at this data size: choose by how the gateway is deployed"
        )
    return f"{figures}. Recommendation: {advice}; {SHARED}"
