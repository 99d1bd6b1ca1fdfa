"""Where a test's time goes (perfkit.results.upstream): the benchmark MCP servers' own account of
the requests they received during a test's rounds, on a recorded real run of the mcp scenario
(tests/fixtures/runs/smoke_mcp_stateful/: smoke profile, 1 round of 20 requests at concurrency 2,
a gateway with stateful MCP sessions, the local stack, 2026-12-03), and the ways a snapshot can
be missing or wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from perfkit.report.run_data import build_report
from perfkit.results.csvstats import round_stats
from perfkit.results.summarize import summarize
from perfkit.results.summary import Summary
from perfkit.results.upstream import for_test, read_snapshot, rows
from perfkit.table import render_summary, render_upstream

RUN = Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "smoke_mcp_stateful"
RAW = RUN / "raw" / "mcp"


def rounds_of(raw_dir: Path, requests: int = 20) -> list:
    return [
        round_stats(p, p.with_suffix(".time"), requests)
        for p in sorted(raw_dir.glob("round-*.csv"))
    ]


def test_an_rpc_tool_call_opens_an_upstream_session_per_call() -> None:
    raw = RAW / "rpc_tools_call_get_system_time"
    rounds = rounds_of(raw)
    data = for_test(raw, rounds)
    assert data is not None
    answered = sum(r.requests for r in rounds)
    assert data["requests"] == answered == 20
    # every answer was one tool call at the server, inside a session of its own
    assert data["received"]["tools/call"] == answered
    assert data["per_request"]["initialize"] == 1.0
    assert data["per_request"]["notifications/initialized"] == 1.0
    seconds = sum(data["seconds"].values())
    assert data["server_ms"] == pytest.approx(1000 * seconds / answered, abs=1e-3)
    mean = sum(r.latency_ms.mean * r.requests for r in rounds) / answered
    assert data["latency_mean_ms"] == pytest.approx(mean, abs=1e-3)
    assert data["gateway_ms"] == pytest.approx(mean - data["server_ms"], abs=2e-3)
    assert data["gateway_share"] == pytest.approx(data["gateway_ms"] / mean, abs=1e-3)


def test_the_virtual_servers_path_reuses_its_upstream_session() -> None:
    """Recorded finding: with stateful sessions, tool calls through /servers/<id>/mcp reuse
    the gateway's upstream session (about one initialize per 20 calls), /rpc opens one per call."""
    server = for_test(
        RAW / "server_tools_call_get_system_time",
        rounds_of(RAW / "server_tools_call_get_system_time"),
    )
    rpc = for_test(
        RAW / "rpc_tools_call_get_system_time",
        rounds_of(RAW / "rpc_tools_call_get_system_time"),
    )
    assert server and rpc
    assert server["received"]["tools/call"] == server["requests"]
    assert (
        server["per_request"].get("initialize", 0)
        < 0.2
        < rpc["per_request"]["initialize"]
    )


def test_summarize_writes_each_tests_upstream_and_the_table_shows_the_work(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    summary = summarize(run, partial=False)
    tests = {t.id: t for t in summary.tests}
    recorded = {
        t["id"]: t.get("upstream")
        for t in json.loads((RUN / "summary.json").read_text())["tests"]
    }
    assert {k: t.upstream for k, t in tests.items()} == recorded
    # a listing never reaches the servers; every test of the scenario has its snapshots
    listing = tests["mcp/rpc_tools_list"].upstream
    assert listing is not None and listing["received"].get("tools/call", 0) == 0
    found, unknown = rows(summary.tests)
    assert unknown == []
    assert [r.test_id for r in found] == [
        t.id for t in summary.tests if t.upstream and "_list" not in t.id
    ]
    text = render_summary(summary)
    assert "Where the time goes" in text
    section = text[text.index("Where the time goes") :]
    assert "mcp/rpc_tools_list " not in section
    row = next(
        line
        for line in section.splitlines()
        if "mcp/rpc_tools_call_get_system_time" in line
    )
    cells = row.split()
    rpc = tests["mcp/rpc_tools_call_get_system_time"].upstream
    assert rpc is not None
    assert cells[1:4] == [
        f"{rpc[k]:.1f}" for k in ("latency_mean_ms", "server_ms", "gateway_ms")
    ]
    assert cells[5:7] == ["1.00", "1.00"]


def test_the_report_lists_the_breakdown() -> None:
    summary = Summary.from_dict(json.loads((RUN / "summary.json").read_text()))
    report = build_report(RUN)
    assert [r.test_id for r in report.upstream] == [
        r.test_id for r in rows(summary.tests)[0]
    ]
    assert report.upstream_unknown == []


def write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines))


def ledger(**methods: tuple[int, float]) -> str:
    requests = {
        m.replace("_", "/"): {"count": c, "seconds": s} for m, (c, s) in methods.items()
    }
    return json.dumps({"server": "x", "calls": {}, "total": 0, "requests": requests})


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    shutil.copy(RAW / "rpc_tools_call_get_system_time" / "round-1.csv", tmp_path)
    shutil.copy(RAW / "rpc_tools_call_get_system_time" / "round-1.time", tmp_path)
    return tmp_path


def test_two_servers_add_up(raw: Path) -> None:
    write(
        raw / "upstream-before.txt",
        [f"a {ledger(tools_call=(5, 0.5))}", f"b {ledger()}"],
    )
    write(
        raw / "upstream-after.txt",
        [f"a {ledger(tools_call=(15, 1.5))}", f"b {ledger(tools_call=(10, 0.5))}"],
    )
    data = for_test(raw, rounds_of(raw))
    assert data is not None
    assert data["servers"] == 2
    assert data["received"] == {"tools/call": 20}
    assert data["server_ms"] == pytest.approx(1000 * 1.5 / 20)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (
            [f"a {ledger(tools_call=(1, 0.1))}"],
            "a: its counts went down (restarted during the test)",
        ),
        (["a "], "a: did not answer GET /stats"),
        (
            ['a {"calls": {}}'],
            "a: GET /stats has no request ledger (an older benchmark server?)",
        ),
        ([], "a: not in the second snapshot"),
    ],
)
def test_a_snapshot_that_cannot_be_trusted_is_unknown_not_a_figure(
    raw: Path, after: list[str], expected: str
) -> None:
    write(raw / "upstream-before.txt", [f"a {ledger(tools_call=(5, 0.5))}"])
    write(raw / "upstream-after.txt", after)
    data = for_test(raw, rounds_of(raw))
    assert data is not None and expected in data["error"]
    assert "server_ms" not in data


def test_no_snapshots_or_no_answers_no_breakdown(raw: Path) -> None:
    assert for_test(raw, rounds_of(raw)) is None  # another gateway, A/B sides, a group
    write(raw / "upstream-before.txt", [f"a {ledger()}"])
    write(raw / "upstream-after.txt", [f"a {ledger()}"])
    assert for_test(raw, []) is None  # interrupted before its first round


def test_unknown_breakdowns_are_said_in_the_table() -> None:
    test = SimpleNamespace(
        id="t/a", upstream={"servers": 1, "error": "a: did not answer GET /stats"}
    )

    assert render_upstream([test]) == (
        "Where the time goes (the benchmark MCP servers' own account, per answered request):\n"
        "  unknown: t/a: a: did not answer GET /stats"
    )
    assert render_upstream([]) == ""


def test_read_snapshot_keeps_a_server_per_line(tmp_path: Path) -> None:
    write(tmp_path / "s.txt", [f"a {ledger(initialize=(2, 0.01))}", "", "b not json"])
    snap = read_snapshot(tmp_path / "s.txt")
    assert snap == {
        "a": {"initialize": {"count": 2, "seconds": 0.01}},
        "b": "did not answer GET /stats",
    }
