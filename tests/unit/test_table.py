"""The text table and the error descriptions people read after a run."""

from __future__ import annotations

from typing import Any

import pytest
from perfkit.results.summary import Summary, TestResult, Totals
from perfkit.table import describe_errors, render_summary, render_table, row_cells


def a_test(test_id: str, status: str = "ok", **overrides: Any) -> TestResult:
    test: dict[str, Any] = {
        "id": test_id,
        "scenario": test_id.split("/")[0],
        "method": "GET",
        "path": "/health",
        "concurrency": 2,
        "status": status,
        "reason": None,
        "error_rate": 0.0,
        "rounds": [{}, {}, {}],
        "aggregate": {"rounds": 3, "rps": 1234.567, "p50_ms": 4.2, "p95_ms": 12.345,
                      "p99_ms": 20.0},
    }  # fmt: skip
    test.update(overrides)
    return TestResult.from_dict(test)


def test_row_cells_format_numbers_and_missing_values() -> None:
    assert row_cells(a_test("core/health", error_rate=0.0123)) == [
        "core/health", "ok", "3", "1234.6", "4.20", "12.35", "20.00", "1.23%",
    ]  # fmt: skip
    skipped = a_test(
        "core/ready", "skipped", rounds=[], aggregate=None, error_rate=None
    )
    assert row_cells(skipped)[2:] == ["0", "-", "-", "-", "-", "-"]
    some = a_test("core/x", aggregate={"rounds": 2, "rps": None, "p50_ms": None,
                                       "p95_ms": None, "p99_ms": None})  # fmt: skip
    assert row_cells(some)[2] == "2/3"  # one round left out of the medians


def test_render_table_aligns_columns() -> None:
    rows = [
        row_cells(a_test("core/health")),
        row_cells(a_test("tools/a_much_longer_name")),
    ]
    header, first, second = render_table(rows).splitlines()
    assert header.startswith("test".ljust(len("tools/a_much_longer_name")) + "  status")
    assert first.index("ok") == second.index("ok") == header.index("status")
    assert first.endswith("0.00%") and header.endswith("errors")
    assert (
        len(first) == len(second) == len(header)
    )  # numbers right-aligned to the title


def test_render_summary_lists_reasons_then_warnings() -> None:
    summary = Summary(
        profile="smoke",
        status="partial",
        started_at="",
        finished_at="",
        target={},
        environment={},
        settings={},
        tests=[
            a_test("core/health"),
            a_test("tools/list", "failed", reason="30 x 401"),
            a_test(
                "core/late",
                "skipped",
                reason="run interrupted before this test finished",
            ),
        ],
        totals=Totals(tests=3, ok=1, failed=1, skipped=1),
        warnings=["hey used 0.91 cores during core/health round 2"],
    )
    lines = render_summary(summary).splitlines()
    assert "3 tests: 1 ok, 1 failed, 1 skipped (partial run)" in lines
    failed = lines.index("failed: tools/list: 30 x 401")
    skipped = lines.index(
        "skipped: core/late: run interrupted before this test finished"
    )
    assert failed < skipped < len(lines) - 1
    assert lines[-1] == "warning: hey used 0.91 cores during core/health round 2"


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (429, "rate limiter is on: start it with RATE_LIMITING_ENABLED=false"),
        (401, "token was missing or rejected"),
        (403, "token was missing or rejected"),
        (404, "not found"),
        (502, "server error: check the gateway log"),
    ],
)
def test_describe_errors_hints(code: int, hint: str) -> None:
    text = describe_errors({200: 5, code: 1905}, transport=0)
    assert text.startswith(f"1905 x {code} (") and hint in text
    assert "200" not in text


def test_describe_errors_order_transport_and_nothing() -> None:
    text = describe_errors({503: 2, 418: 1}, transport=7)
    assert text == (
        "1 x 418; 2 x 503 (server error: check the gateway log); "
        "7 transport errors (timeouts or refused connections)"
    )
    assert describe_errors({200: 10}, transport=0) == "no errors counted"
