"""Federation: a tool call through a federated peer gateway, beside the same call made directly.

With mcp.peer (PERF_MCP_PEER=NAME) the mcp scenario calls the benchmark server's tool through
the peer gateway registered under NAME (`peer_tools_call_get_system_time`: the gateway under
test forwards it to the peer, which forwards it to the MCP server) and the same tool of the
gateway's own registration of that server (`global_tools_call_get_system_time`), both on the
global /mcp at the same concurrency in the same run. Per operation: each way's req/s, p50 and
p95 (medians over rounds), and the federated call's p50 and req/s as a ratio to the direct
one's with the per-round interval (perfkit.protocol.overhead.ratio) - what the second hop
costs. The two tests' rounds are not interleaved: a drift within the run lands in the ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfkit.protocol.overhead import (
    PathFigures,
    ok_tests,
    operation_name,
    path_figures,
)
from perfkit.results.summary import Summary, TestResult

TEST_NAME = re.compile(r"^(peer|global)_(tools_call)_(\w+)$")
WAYS = {"global": "direct", "peer": "through the peer"}


@dataclass(frozen=True)
class FederationRow:
    operation: str  # "tools/call get_system_time"
    direct: PathFigures
    federated: PathFigures  # its ratios: to the direct call's


def federation(summary: Summary) -> list[FederationRow]:
    """One row per operation measured both through a peer and directly (ok tests)."""
    found: dict[str, dict[str, TestResult]] = {}
    for match, test in ok_tests(summary, TEST_NAME):
        way, kind, target = match.groups()
        found.setdefault(operation_name(kind, target), {})[way] = test
    return [
        FederationRow(
            operation,
            path_figures(tests["global"], WAYS["global"], None),
            path_figures(tests["peer"], WAYS["peer"], tests["global"]),
        )
        for operation, tests in found.items()
        if {"global", "peer"} <= set(tests)
    ]
