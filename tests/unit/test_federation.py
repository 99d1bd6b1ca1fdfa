"""Federation (perfkit.protocol.federation): a tool call through a federated peer gateway beside
the same call made directly, on the summary of a recorded real run
(tests/fixtures/summaries/mcp-peer-smoke.json: the mcp scenario with PERF_MCP_PEER=bench-peer,
smoke profile, 3 rounds of 20 requests at concurrency 2, a local stack with its peer,
2026-12-03)."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

import pytest
from perfkit.cli import main
from perfkit.protocol.federation import federation
from perfkit.results.summary import Summary
from perfkit.table import render_federation, render_summary

RECORDED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "summaries"
    / "mcp-peer-smoke.json"
)
PEER = "mcp/peer_tools_call_get_system_time"
DIRECT = "mcp/global_tools_call_get_system_time"


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text())
    return data


def medians(test: dict[str, Any]) -> tuple[float, float]:
    rounds = test["rounds"]
    return (
        statistics.median(r["latency_ms"]["p50"] for r in rounds),
        statistics.median(r["rps"] for r in rounds),
    )


def test_the_peer_call_is_paired_with_the_direct_one() -> None:
    data = recorded()
    tests = {t["id"]: t for t in data["tests"]}
    [row] = federation(Summary.from_dict(data))
    assert row.operation == "tools/call get_system_time"
    assert (row.direct.test_id, row.federated.test_id) == (DIRECT, PEER)
    assert row.direct.p50_ratio is None and row.direct.rps_ratio is None
    direct_p50, direct_rps = medians(tests[DIRECT])
    peer_p50, peer_rps = medians(tests[PEER])
    assert (row.federated.p50_ms, row.federated.rps) == (peer_p50, peer_rps)
    ratio = row.federated.p50_ratio
    assert ratio is not None and ratio.value == pytest.approx(peer_p50 / direct_p50)
    assert ratio.low is not None and ratio.high is not None
    assert ratio.low <= ratio.value <= ratio.high
    rps_ratio = row.federated.rps_ratio
    assert rps_ratio is not None
    assert rps_ratio.value == pytest.approx(peer_rps / direct_rps)


@pytest.mark.parametrize("gone", [PEER, DIRECT])
def test_without_both_ways_measured_there_is_no_row(gone: str) -> None:
    data = recorded()
    for test in data["tests"]:
        if test["id"] == gone:
            test["status"] = "failed"
    assert federation(Summary.from_dict(data)) == []
    data["tests"] = [t for t in data["tests"] if t["id"] != gone]
    assert federation(Summary.from_dict(data)) == []
    assert render_federation([]) == ""
    assert "Federation" not in render_summary(Summary.from_dict(data))


def test_the_table_and_the_report_show_it(tmp_path: Path) -> None:
    text = render_summary(Summary.from_dict(recorded()))
    section = text[text.index("Federation on /mcp") :].splitlines()
    assert section[1].split()[:2] == ["operation", "way"]
    assert section[2].startswith("tools/call get_system_time  direct")
    assert section[3].split()[:3] == ["through", "the", "peer"]
    # p50 and req/s vs direct, each with its interval: x2.92 (2.91-3.04, 90%)
    [row] = federation(Summary.from_dict(recorded()))
    ratios = [row.federated.p50_ratio, row.federated.rps_ratio]
    assert [word for word in section[3].split() if word.startswith("x")] == [
        f"x{r.value:.2f}" for r in ratios if r is not None
    ]
    shutil.copy(RECORDED, tmp_path / "summary.json")
    assert main(["report", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    table = html[html.index('data-table="federation"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 2  # header, direct and through the peer
    assert "through the peer" in table and "direct" in table
    assert '<a href="#federation">Federation</a>' in html
