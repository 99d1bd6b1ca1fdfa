"""Renderers of a Comparison: the stdout table, JUnit XML, GitHub annotations and the Markdown
step summary. Data in, text out; writing files is perfkit.compare.cli's job."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from perfkit.compare.model import Comparison, MetricResult, TestComparison
from perfkit.table import Column, render_table

MISSING = "-"
FAILING = {"failed", "regression"}


def change_text(m: MetricResult | None) -> str:
    """ "-12.3% [-15.0, -9.8]": the change (positive = better) and its confidence interval."""
    if m is None or m.change_pct is None:
        return MISSING
    text = f"{m.change_pct:+.1f}%"
    if m.ci_pct:
        text += f" [{m.ci_pct[0]:+.1f}, {m.ci_pct[1]:+.1f}]"
        if m.ci_level is not None and m.ci_level < 0.95:
            text += f"@{m.ci_level:.0%}"
    return text


def critical_metrics(c: Comparison) -> list[str]:
    return list(c.method["critical_metrics"])


def table_rows(c: Comparison) -> list[list[str]]:
    metrics = critical_metrics(c)
    rows = []
    for t in c.tests:
        verdict = t.verdict + (" +SLO" if t.slo_breaches else "")
        rows.append([t.id, verdict, *(change_text(t.metrics.get(m)) for m in metrics)])
    return rows


def regressed_lines(c: Comparison) -> list[str]:
    by_test: dict[str, list[str]] = {}
    for test, metric in c.regressions():
        by_test.setdefault(test, []).append(metric)
    lines = [f"  {test}: {', '.join(metrics)}" for test, metrics in by_test.items()]
    return ["regressed:", *lines] if lines else []


def failed_lines(c: Comparison) -> list[str]:
    lines = [
        f"  {t.id}: {'; '.join(t.notes)}" for t in c.tests if t.verdict == "failed"
    ]
    return ["failed:", *lines] if lines else []


def inconclusive_lines(c: Comparison) -> list[str]:
    """Why tests are inconclusive, one line per reason (the first note of each test)."""
    reasons: dict[str, list[str]] = {}
    for t in c.tests:
        if t.verdict == "inconclusive":
            reasons.setdefault(t.notes[0] if t.notes else "-", []).append(t.id)
    lines = [
        f"  {len(ids)} test{'s' if len(ids) > 1 else ''}: {reason}"
        + (f" ({ids[0]})" if len(ids) == 1 else "")
        for reason, ids in reasons.items()
    ]
    return ["inconclusive:", *lines] if lines else []


def render_text(c: Comparison, table: bool = True) -> str:
    """The table, then environment differences, failures, regressions, SLO breaches."""
    columns = [Column("test", "<"), Column("verdict", "<")]
    columns += [Column(f"{m} change [95% CI]", ">") for m in critical_metrics(c)]
    parts = [render_table(table_rows(c), columns), ""] if table else []
    source = c.baseline["source"] if c.baseline else "none (SLOs only)"
    parts.append(f"baseline: {source}")
    if c.environment_differences:
        how = "judged anyway (--force)" if c.forced else "verdicts at most inconclusive"
        parts.append(f"environment differs ({how}):")
        parts += [f"  {d}" for d in c.environment_differences]
    parts += inconclusive_lines(c) + failed_lines(c) + regressed_lines(c)
    if c.slo_breaches:
        parts.append("SLO breaches:")
        parts += [f"  {line}" for t in c.tests for line in t.slo_breaches]
    parts += [f"note: {n}" for n in c.notes]
    counts = ", ".join(f"{v} {k}" for k, v in c.summary.items() if v and k != "tests")
    parts.append(f"verdict: {c.verdict.upper()} (exit {c.exit_code}; {counts})")
    return "\n".join(parts)


def metric_lines(t: TestComparison) -> str:
    lines = []
    for name, m in t.metrics.items():
        p = "-" if m.p_adjusted is None else f"{m.p_adjusted:.4g}"
        lines.append(
            f"{name}: {m.verdict} {change_text(m)} base {m.base_median} cand"
            f" {m.cand_median} (n {m.n_base}/{m.n_cand}, p_adj {p})"
        )
    return "\n".join([*t.notes, *t.slo_breaches, *lines])


def regressed_metrics(t: TestComparison) -> list[str]:
    return [
        f"{name} regression {change_text(m)}"
        for name, m in t.metrics.items()
        if m.critical and m.verdict == "regression"
    ]


def junit_xml(c: Comparison) -> str:
    """One testcase per test: failure for failed/regression/SLO breach, skipped for
    inconclusive (and for a new test, which has nothing to compare)."""
    suite = ET.Element("testsuite", name="perfkit.compare.cli", tests=str(len(c.tests)))
    failures = skipped = 0
    for t in c.tests:
        case = ET.SubElement(
            suite, "testcase", classname=t.id.split("/")[0], name=t.id, time="0"
        )
        if t.verdict in FAILING or t.slo_breaches:
            failures += 1
            what = t.verdict if t.verdict in FAILING else "slo breach"
            reasons = t.notes + t.slo_breaches + regressed_metrics(t)
            message = f"{what}: {'; '.join(reasons)}" if reasons else what
            ET.SubElement(
                case, "failure", message=message, type=what
            ).text = metric_lines(t)
        elif t.verdict in {"inconclusive", "new"}:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"{t.verdict}: {'; '.join(t.notes)}")
        ET.SubElement(case, "system-out").text = metric_lines(t)
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", "0")
    root = ET.Element("testsuites", name="perfkit", tests=str(len(c.tests)))
    root.append(suite)
    ET.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
    )


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    return f"::{level} title={escape_property(title)}::{escape_data(message)}"


def github_annotations(c: Comparison) -> list[str]:
    """::error per regression, failure and SLO breach; ::warning per inconclusive test."""
    lines = []
    for t in c.tests:
        if t.verdict == "failed":
            lines.append(annotation("error", f"failed: {t.id}", "; ".join(t.notes)))
        for name, m in t.metrics.items():
            if m.critical and m.verdict == "regression":
                message = (
                    f"{name} {change_text(m)} ({m.base_median} -> {m.cand_median})"
                )
                lines.append(annotation("error", f"regression: {t.id}", message))
        for breach in t.slo_breaches:
            lines.append(annotation("error", f"SLO breach: {t.id}", breach))
        if t.verdict == "inconclusive":
            lines.append(
                annotation("warning", f"inconclusive: {t.id}", "; ".join(t.notes))
            )
    if c.verdict == "failed" and not any(t.verdict == "failed" for t in c.tests):
        lines.append(annotation("error", "perfkit compare", "; ".join(c.notes)))
    return lines


def markdown_summary(c: Comparison) -> str:
    metrics = critical_metrics(c)
    icon = "x" if c.exit_code else "white_check_mark"
    lines = [f"## :{icon}: Performance: {c.verdict}", ""]
    source = c.baseline["source"] if c.baseline else "none (SLOs only)"
    lines += [f"Baseline `{source}`, candidate `{c.candidate['source']}`.", ""]
    if c.environment_differences:
        lines.append("**Environment differs:** " + "; ".join(c.environment_differences))
        lines.append("")
    lines.append(
        "| test | verdict | "
        + " | ".join(f"{m} change [95% CI]" for m in metrics)
        + " |"
    )
    lines.append("|---|---|" + "---:|" * len(metrics))
    for row in table_rows(c):
        cells = [f"`{row[0]}`", *row[1:]]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    breaches = [line for t in c.tests for line in t.slo_breaches]
    if breaches:
        lines += ["", "**SLO breaches:**", *(f"- {b}" for b in breaches)]
    lines += ["", *(f"> {n}" for n in c.notes)]
    return "\n".join(lines).rstrip() + "\n"
