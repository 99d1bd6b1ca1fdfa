"""The report's verdict banner and its list of what needs attention (data only).

Banner kinds, worst first: failed > regression > inconclusive > pass. The worst of what the
summary says (failed tests; partial, skipped or empty runs are inconclusive) and what
comparison.json says (its run verdict) wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from perfkit.compare.model import Comparison, MetricResult
from perfkit.results.summary import Summary

SEVERITY = {"failed": 3, "regression": 2, "inconclusive": 1, "pass": 0}
# comparison.json run verdict -> banner kind
COMPARISON_KIND = {
    "failed": "failed",
    "slo_breach": "failed",
    "regression": "regression",
    "inconclusive": "inconclusive",
    "improvement": "pass",
    "unchanged": "pass",
}


@dataclass
class Banner:
    kind: str  # pass | regression | failed | inconclusive
    title: str
    lines: list[str]


@dataclass
class Attention:
    kind: str  # failed | regression | slo | inconclusive | stall | warning
    subject: str  # a test id, or "run"
    text: str


def summary_kind(summary: Summary) -> tuple[str, list[str]]:
    """Banner kind from the summary alone: failed tests, else partial/skipped/empty runs are
    inconclusive, else pass."""
    tests = summary.tests
    failed = [t.id for t in tests if t.status == "failed"]
    skipped = [t.id for t in tests if t.status == "skipped"]
    lines = []
    if summary.status == "partial":
        lines.append(
            "the run is partial: it was interrupted before every test finished"
        )
    if failed:
        return "failed", [f"{len(failed)} of {len(tests)} tests failed", *lines]
    if skipped:
        lines.append(f"{len(skipped)} of {len(tests)} tests skipped")
    if not any(t.status == "ok" for t in tests):
        lines.append("no test was measured")
    return ("inconclusive" if lines else "pass"), lines


def banner(summary: Summary, comparison: Comparison | None) -> Banner:
    kind, lines = summary_kind(summary)
    if comparison is not None and comparison.verdict in COMPARISON_KIND:
        verdict = comparison.verdict
        counts = comparison.summary
        parts = [f"{counts[k]} {k}" for k in SUMMARY_KEYS if counts.get(k)]
        lines.append(
            f"against the baseline: {verdict} ({', '.join(parts) or 'no tests'})"
        )
        other = COMPARISON_KIND[verdict]
        if SEVERITY[other] > SEVERITY[kind]:
            kind = other
    elif comparison is not None:
        lines.append(f"no baseline comparison ({comparison.verdict})")
    else:
        lines.append("not compared with a baseline (no comparison.json)")
    totals = asdict(summary.totals)
    counted = ", ".join(
        f"{totals[k]} {k}" for k in ("ok", "failed", "skipped") if totals.get(k)
    )
    lines.insert(0, f"{summary.totals.tests} tests: {counted or 'none run'}")
    titles = {
        "pass": "Pass",
        "regression": "Regression",
        "failed": "Failed",
        "inconclusive": "Inconclusive",
    }
    return Banner(kind, titles[kind], lines)


SUMMARY_KEYS = (
    "failed",
    "regression",
    "inconclusive",
    "improvement",
    "unchanged",
    "new",
)


def _fmt_change(metric: str, m: MetricResult) -> str:
    unit = {"rps": " req/s", "error_rate": "", "total_time": " s"}.get(metric, " ms")
    text = f"{metric}: {m.base_median}{unit} -> {m.cand_median}{unit}"
    if m.change_pct is not None:
        text += f" ({m.change_pct:+.1f}%"
        ci = m.ci_pct
        if ci and m.ci_level is not None:
            text += f", CI [{ci[0]:+.1f}%, {ci[1]:+.1f}%] @{round(100 * m.ci_level)}%"
        text += ")"
    return text


def attention(summary: Summary, comparison: Comparison | None) -> list[Attention]:
    """What needs a look, worst first: failed tests, regressions, SLO breaches,
    inconclusive tests, tests whose requests were held in stalls, then measurement warnings."""
    items: list[Attention] = []
    for test in summary.tests:
        if test.status in {"failed", "skipped"}:
            reason = test.reason or "no reason recorded"
            items.append(Attention("failed", test.id, f"{test.status}: {reason}"))
    compared = comparison.tests if comparison else []
    for compared_test in compared:
        if compared_test.verdict == "failed" and not any(
            i.subject == compared_test.id for i in items
        ):
            notes = "; ".join(compared_test.notes) or "failed against the baseline"
            items.append(Attention("failed", compared_test.id, notes))
    for compared_test in compared:
        for metric, m in compared_test.metrics.items():
            if m.verdict == "regression":
                change = _fmt_change(metric, m)
                items.append(Attention("regression", compared_test.id, change))
    for breach in comparison.slo_breaches if comparison else []:
        text = f"SLO {breach.get('slo')}: {breach.get('value')} (limit {breach.get('limit')})"
        items.append(Attention("slo", str(breach.get("test")), text))
    for compared_test in compared:
        if compared_test.verdict == "inconclusive":
            notes = "; ".join(compared_test.notes) or "inconclusive"
            items.append(Attention("inconclusive", compared_test.id, notes))
    items += [
        Attention("stall", test.id, str(test.stalls["text"]))
        for test in summary.tests
        if test.stalls and test.stalls.get("found")
    ]
    items += [
        Attention("warning", "run", w)
        for w in measurement_warnings(summary, comparison)
    ]
    return items


def measurement_warnings(summary: Summary, comparison: Comparison | None) -> list[str]:
    warnings = list(summary.warnings)
    if summary.status == "partial":
        warnings.append(
            "partial run: interrupted, some tests have fewer rounds or none"
        )
    for diff in comparison.environment_differences if comparison else []:
        warnings.append(f"environment differs from the baseline's: {diff}")
    return warnings
