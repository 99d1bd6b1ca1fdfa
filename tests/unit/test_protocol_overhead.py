"""The protocol comparison (perfkit.protocol.overhead): the same operation over /rpc,
/servers/<id>/mcp and /mcp in one run, on a recorded real run of the mcp scenario
(tests/fixtures/runs/smoke_mcp/: smoke profile, 5 rounds of 20 requests at
concurrency 2, the local stack, 2026-12-02)."""

from __future__ import annotations

import copy
import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest
from perfkit.protocol.overhead import overhead, render
from perfkit.results.summary import Summary
from perfkit.table import render_summary

RECORDED = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "runs"
    / "smoke_mcp"
    / "summary.json"
)


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text())
    return data


def p50s(data: dict[str, Any], test_id: str) -> list[float]:
    [test] = [t for t in data["tests"] if t["id"] == test_id]
    return [r["latency_ms"]["p50"] for r in test["rounds"]]


def test_operations_on_rpc_and_an_mcp_path_are_paired_in_plan_order() -> None:
    rows = overhead(Summary.from_dict(recorded()))
    assert (
        [row.operation for row in rows]
        == [
            "tools/list",
            "tools/call get_system_time",
            "resources/read world_times",
            "prompts/get compare_timezones",
        ]
    )  # convert_time, resources/list and prompts/list ran on one path only: nothing to pair
    assert [f.path for f in rows[0].paths] == ["/rpc", "/servers/<id>/mcp", "/mcp"]
    assert [f.path for f in rows[2].paths] == ["/rpc", "/servers/<id>/mcp"]


def test_figures_are_medians_over_rounds_and_ratios_to_rpc_with_their_interval() -> (
    None
):
    data = recorded()
    [call] = [
        r
        for r in overhead(Summary.from_dict(data))
        if r.operation.startswith("tools/call")
    ]
    rpc, server, _ = call.paths
    rpc_p50 = p50s(data, "mcp/rpc_tools_call_get_system_time")
    server_p50 = p50s(data, "mcp/server_tools_call_get_system_time")
    assert rpc.p50_ms == statistics.median(rpc_p50)
    assert rpc.p50_ratio is None and rpc.rps_ratio is None
    ratio = server.p50_ratio
    assert ratio is not None
    assert ratio.value == pytest.approx(
        statistics.median(server_p50) / statistics.median(rpc_p50)
    )
    # the interval of the per-round shift holds the ratio of the rounds' pairwise middle
    assert ratio.low is not None and ratio.high is not None and ratio.level is not None
    assert ratio.low <= ratio.value <= ratio.high
    diffs = sorted(math.log(b) - math.log(a) for a in rpc_p50 for b in server_p50)
    assert ratio.low == pytest.approx(math.exp(diffs[2]))  # 5 x 5 rounds: k = 3 at 95%
    assert ratio.high == pytest.approx(math.exp(diffs[-3]))
    assert ratio.level >= 0.95


def test_a_failed_path_and_one_round_runs() -> None:
    data = recorded()
    failed = copy.deepcopy(data)
    for test in failed["tests"]:
        if test["id"].startswith("mcp/server_") or test["id"].startswith("mcp/global_"):
            test["status"] = "failed"
    assert overhead(Summary.from_dict(failed)) == []  # /rpc alone compares with nothing
    assert render([]) == ""
    single = copy.deepcopy(data)
    for test in single["tests"]:
        test["rounds"] = test["rounds"][:1]
    text = render(overhead(Summary.from_dict(single)))
    assert (
        "x" in text and "(" not in text.splitlines()[2]
    )  # one round: a ratio, no interval


def test_the_run_table_ends_with_the_comparison() -> None:
    text = render_summary(Summary.from_dict(recorded()))
    lines = text.splitlines()
    title = lines.index(
        next(line for line in lines if line.startswith("MCP protocol paths"))
    )
    assert lines[title + 1].split() == [
        "operation", "path", "req/s", "p50", "ms", "p95", "ms", "p50", "vs", "/rpc", "req/s", "vs", "/rpc",
    ]  # fmt: skip
    assert lines[title + 2].startswith("tools/list") and "/rpc" in lines[title + 2]
    assert lines[title + 3].split()[0] == "/servers/<id>/mcp"


def test_runs_without_the_mcp_scenario_print_no_comparison() -> None:
    data = recorded()
    data["tests"] = [t for t in data["tests"] if not t["id"].startswith("mcp/")]
    assert "MCP protocol paths" not in render_summary(Summary.from_dict(data))
