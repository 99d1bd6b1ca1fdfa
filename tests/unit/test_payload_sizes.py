"""Large answers by size (perfkit.protocol.sizes): the mcp scenario's payload tests side by side,
on the summary of a recorded real run (tests/fixtures/summaries/mcp-sizes-smoke.json: the mcp
scenario, smoke profile, 3 rounds of 20 requests at concurrency 2, the local stack, 2026-12-03)."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

import pytest
from perfkit.cli import main
from perfkit.protocol.sizes import payload_sizes
from perfkit.results.summary import Summary
from perfkit.table import render_sizes, render_summary

RECORDED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "summaries"
    / "mcp-sizes-smoke.json"
)


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text())
    return data


def test_each_operation_by_size_smallest_first() -> None:
    rows = payload_sizes(Summary.from_dict(recorded()))
    assert [r.operation for r in rows] == ["resources/read", "tools/call"]
    for row in rows:
        assert [f.size for f in row.sizes] == ["1 KiB", "100 KiB", "1 MiB"]
        assert [f.size_bytes for f in row.sizes] == [1024, 102400, 1048576]
        assert row.sizes[0].p50_ratio is None


def test_figures_are_the_medians_of_the_rounds() -> None:
    data = recorded()
    tests = {t["id"]: t for t in data["tests"]}
    [row] = [
        r for r in payload_sizes(Summary.from_dict(data)) if r.operation == "tools/call"
    ]
    small, _, large = row.sizes
    rounds = tests[large.test_id]["rounds"]
    assert large.test_id == "mcp/server_tools_call_payload_1mib"
    assert large.rps == statistics.median(r["rps"] for r in rounds)
    assert large.p50_ms == statistics.median(r["latency_ms"]["p50"] for r in rounds)
    assert large.mib_per_s == pytest.approx(large.rps)  # 1 MiB a request
    small_p50 = statistics.median(
        r["latency_ms"]["p50"] for r in tests[small.test_id]["rounds"]
    )
    assert large.p50_ratio is not None
    assert large.p50_ratio.value == pytest.approx(large.p50_ms / small_p50)
    # 3 rounds a side: the widest interval they allow, at its own level
    assert large.p50_ratio.level is not None and large.p50_ratio.level < 0.95
    assert large.p50_ratio.low <= large.p50_ratio.value <= large.p50_ratio.high


def test_a_failed_size_or_a_single_size_is_left_out() -> None:
    data = recorded()
    for test in data["tests"]:
        if test["id"].startswith("mcp/server_tools_call_payload_") and not test[
            "id"
        ].endswith("1kib"):
            test["status"] = "failed"
    rows = payload_sizes(Summary.from_dict(data))
    assert [r.operation for r in rows] == ["resources/read"]
    data["tests"] = [t for t in data["tests"] if "payload" not in t["id"]]
    assert payload_sizes(Summary.from_dict(data)) == []
    assert render_sizes([]) == ""


def test_the_table_and_the_report_show_them(tmp_path: Path) -> None:
    text = render_summary(Summary.from_dict(recorded()))
    section = text[text.index("Large answers through /servers/<id>/mcp, by size") :]
    lines = section.splitlines()
    assert lines[1].split() == [
        "operation",
        "size",
        "req/s",
        "p50",
        "ms",
        "p95",
        "ms",
        "MiB/s",
        "p50",
        "vs",
        "smallest",
    ]
    assert lines[2].startswith("resources/read  1 KiB")
    assert lines[5].startswith("tools/call      1 KiB")
    shutil.copy(RECORDED, tmp_path / "summary.json")
    assert main(["report", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    table = html[html.index('data-table="sizes"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 6  # header, 2 operations x 3 sizes
    assert '<a href="#sizes">Large answers by size</a>' in html
