"""Text for people: fixed-width tables (the commands' stdout), the table of a run's summary
(one row per test, then the reasons of failed and skipped tests, then the warnings), and the
description of a test's errors with a hint per status code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from perfkit.results.summary import Summary, TestResult
from perfkit.results.upstream import rows as upstream_rows

if TYPE_CHECKING:  # sizes needs scipy: loaded only where its table is shown
    from perfkit.protocol.federation import FederationRow
    from perfkit.protocol.sizes import SizeRow

MISSING = "-"
RATE_LIMIT_HINT = (
    "the gateway's rate limiter is on: start it with RATE_LIMITING_ENABLED=false"
)
AUTH_HINT = "the token was missing or rejected: refresh it with utils/setup-auth.sh"
NOT_FOUND_HINT = (
    "not found: check the path and that the tool, resource or prompt is registered"
)
SERVER_HINT = "server error: check the gateway log"
ACCEPT_HINT = (
    "the endpoint refused the Accept header: an MCP endpoint wants application/json, and"
    " text/event-stream too when it answers as an event stream"
)
CONTENT_TYPE_HINT = "the endpoint wants Content-Type: application/json"
TRANSPORT_TEXT = "transport errors (timeouts or refused connections)"


@dataclass(frozen=True)
class Column:
    title: str
    align: str  # "<" or ">"


COLUMNS = (
    Column("test", "<"),
    Column("status", "<"),
    Column("rounds", ">"),
    Column("rps", ">"),
    Column("p50 ms", ">"),
    Column("p95 ms", ">"),
    Column("p99 ms", ">"),
    Column("errors", ">"),
)


def number_text(value: float | None, decimals: int) -> str:
    return MISSING if value is None else f"{value:.{decimals}f}"


def percent_text(fraction: float | None) -> str:
    return MISSING if fraction is None else f"{fraction * 100:.2f}%"


def _rounds(test: TestResult) -> str:
    """Rounds measured; 'used/measured' when some did not finish and are left out."""
    measured = len(test.rounds)
    used = (test.aggregate or {}).get("rounds", 0)
    return str(measured) if used == measured else f"{used}/{measured}"


def row_cells(test: TestResult) -> list[str]:
    agg = test.aggregate or {}
    return [
        test.id,
        test.status,
        _rounds(test),
        number_text(agg.get("rps"), 1),
        number_text(agg.get("p50_ms"), 2),
        number_text(agg.get("p95_ms"), 2),
        number_text(agg.get("p99_ms"), 2),
        percent_text(test.error_rate),
    ]


def render_table(
    rows: Sequence[Sequence[str]], columns: Sequence[Column] = COLUMNS
) -> str:
    """Columns as wide as their widest cell, two spaces apart, no trailing blanks."""
    cells = [[c.title for c in columns], *[list(row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for row in cells:
        parts = [
            f"{cell:{col.align}{width}}"
            for cell, col, width in zip(row, columns, widths)
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _reasons(tests: list[TestResult]) -> list[str]:
    lines = []
    for status in ("failed", "skipped"):
        for test in tests:
            if test.status == status and test.reason:
                lines.append(f"{status}: {test.id}: {test.reason}")
    # an ok test with a reason stopped its rounds early (perfkit.compare.sequential)
    early = Counter(len(t.rounds) for t in tests if t.status == "ok" and t.reason)
    if early:
        counts = ", ".join(f"{n} after {k} rounds" for k, n in sorted(early.items()))
        lines.append(
            f"stopped early, settled: {sum(early.values())} of {len(tests)} tests ({counts})"
        )
    return lines


def status_hint(code: int) -> str:
    """What a non-2xx status usually means for a gateway benchmark, and the fix."""
    if code == 429:
        return RATE_LIMIT_HINT
    if code in (401, 403):
        return AUTH_HINT
    if code == 404:
        return NOT_FOUND_HINT
    if code == 406:
        return ACCEPT_HINT
    if code == 415:
        return CONTENT_TYPE_HINT
    return SERVER_HINT if code >= 500 else ""


def describe_errors(status_codes: dict[int, int], transport: int) -> str:
    """Non-2xx counts with a hint each, then transport errors, e.g. '1905 x 429 (the
    gateway's rate limiter is on: ...); 3 transport errors (timeouts or refused connections)'."""
    parts = [
        f"{n} x {code}" + (f" ({status_hint(code)})" if status_hint(code) else "")
        for code, n in sorted(status_codes.items())
        if not 200 <= code < 300
    ]
    if transport:
        parts.append(f"{transport} {TRANSPORT_TEXT}")
    return "; ".join(parts) or "no errors counted"


def render_summary(summary: Summary) -> str:
    totals = summary.totals
    lines = [render_table([row_cells(t) for t in summary.tests]), ""]
    lines.append(
        f"{totals.tests} tests: {totals.ok} ok, "
        f"{totals.failed} failed, {totals.skipped} skipped"
        + (" (partial run)" if summary.status == "partial" else "")
    )
    reasons = _reasons(summary.tests)
    if reasons:
        lines += ["", *reasons]
    # imported here: the paths' intervals need scipy, which a quick command (validate) must not load
    from perfkit.protocol.federation import federation
    from perfkit.protocol.overhead import overhead, render
    from perfkit.protocol.sizes import payload_sizes
    from perfkit.results.dbpool import render as render_pool
    from perfkit.results.dbqueries import render as render_queries

    paths = render(overhead(summary))
    if paths:
        lines += ["", paths]
    sizes = render_sizes(payload_sizes(summary))
    if sizes:
        lines += ["", sizes]
    federated = render_federation(federation(summary))
    if federated:
        lines += ["", federated]
    upstream = render_upstream(summary.tests)
    if upstream:
        lines += ["", upstream]
    stalled = [
        f"stalls: {test.id}: {test.stalls['text']}"
        for test in summary.tests
        if test.stalls and test.stalls.get("found")
    ]
    if stalled:
        lines += ["", *stalled]
    queries = render_queries((summary.database or {}).get("queries"))
    if queries:
        lines += ["", queries]
    pool = render_pool((summary.database or {}).get("pool"))
    if pool:
        lines += ["", pool]
    if summary.warnings:
        lines += ["", *(f"warning: {text}" for text in summary.warnings)]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def render_upstream(tests: list[TestResult]) -> str:
    """The text table after a run's table; empty when no test did work upstream."""
    found, unknown = upstream_rows(tests)
    if not found and not unknown:
        return ""
    lines = [
        "Where the time goes (the benchmark MCP servers' own account, per answered request):",
    ]
    if found:
        columns = [Column("test", "<")] + [
            Column(title, ">")
            for title in (
                "mean ms",
                "server ms",
                "gateway ms",
                "gateway %",
                "calls",
                "initialize",
                "other",
            )
        ]
        table = [
            (
                r.test_id,
                _ms(r.latency_mean_ms),
                _ms(r.server_ms),
                _ms(r.gateway_ms),
                "-" if r.gateway_share is None else f"{100 * r.gateway_share:.0f}%",
                f"{r.work_per_request:.2f}",
                f"{r.initialize_per_request:.2f}",
                f"{r.other_per_request:.2f}",
            )
            for r in found
        ]
        lines += ["  " + line for line in render_table(table, columns).splitlines()]
        lines.append(
            "  calls / initialize / other: requests the servers received per answer (initialize:"
            " the upstream sessions the gateway opened per call)"
        )
    lines += [f"  unknown: {text}" for text in unknown]
    return "\n".join(lines)


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


SIZE_COLUMNS = (
    Column("operation", "<"),
    Column("size", "<"),
    Column("req/s", "<"),
    Column("p50 ms", "<"),
    Column("p95 ms", "<"),
    Column("MiB/s", "<"),
    Column("p50 vs smallest", "<"),
)


def render_sizes(rows: list[SizeRow]) -> str:
    """The text table printed after a run's own table; empty without rows."""
    from perfkit.protocol.overhead import format_ratio

    if not rows:
        return ""
    lines = [
        (
            row.operation if index == 0 else "",
            figures.size,
            _cell(figures.rps),
            _cell(figures.p50_ms),
            _cell(figures.p95_ms),
            _cell(figures.mib_per_s, 2),
            format_ratio(figures.p50_ratio),
        )
        for row in rows
        for index, figures in enumerate(row.sizes)
    ]
    title = (
        "Large answers through /servers/<id>/mcp, by size (medians over rounds; MiB/s: the"
        " payload's bytes a second; p50 as a ratio to the smallest size's):"
    )
    return "\n".join([title, render_table(lines, SIZE_COLUMNS)])


FEDERATION_COLUMNS = (
    Column("operation", "<"),
    Column("way", "<"),
    Column("req/s", "<"),
    Column("p50 ms", "<"),
    Column("p95 ms", "<"),
    Column("p50 vs direct", "<"),
    Column("req/s vs direct", "<"),
)


def render_federation(rows: list[FederationRow]) -> str:
    """The text table printed after a run's own table; empty without rows."""
    from perfkit.protocol.overhead import format_ratio

    if not rows:
        return ""
    lines = [
        (
            row.operation if index == 0 else "",
            figures.path,
            _cell(figures.rps),
            _cell(figures.p50_ms),
            _cell(figures.p95_ms),
            format_ratio(figures.p50_ratio),
            format_ratio(figures.rps_ratio),
        )
        for row in rows
        for index, figures in enumerate((row.direct, row.federated))
    ]
    title = (
        "Federation on /mcp: through the peer gateway (two gateways) vs direct (medians over"
        " rounds; ratios to the direct call's):"
    )
    return "\n".join([title, render_table(lines, FEDERATION_COLUMNS)])
