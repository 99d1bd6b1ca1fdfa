"""perfkit servers-stats and summary.json's `servers`: the calls each benchmark MCP server
served between two snapshots (recorded from a real two-server run), restarts and unreachable
servers, and the CLI against a real bench_server.py process."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from perfkit.cli import main
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.servers import fetch_counts, for_summary, served
from servers.bench_server import rpc_methods

KIT = Path(__file__).resolve().parents[2]
FIXTURES = KIT / "tests" / "fixtures" / "servers"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    for name in ("servers-before.json", "servers-after.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


def test_counts_are_the_difference_between_the_snapshots(run_dir: Path) -> None:
    servers = for_summary(run_dir)
    assert servers is not None
    assert list(servers) == ["bench-time-1", "bench-time-2"]
    one, two = servers["bench-time-1"], servers["bench-time-2"]
    assert one["tool_calls"] == 74 - 35
    assert one["calls"] == {"prompt:compare_timezones": 5, "tool:get_system_time": 39}
    assert one["total"] == 44
    assert two == {
        "url": "http://127.0.0.1:9702",
        "tool_calls": 17,
        "calls": {"tool:get_system_time": 17},
        "total": 17,
    }


def test_no_snapshots_no_servers_key(run_dir: Path) -> None:
    (run_dir / "servers-after.json").unlink()
    assert for_summary(run_dir) is None


def test_servers_sort_naturally(tmp_path: Path) -> None:
    names = [f"bench-time-{i}" for i in (10, 2, 1)]
    snap = {"servers": {n: {"url": "http://x", "calls": {}, "total": 0} for n in names}}
    for phase in ("before", "after"):
        (tmp_path / f"servers-{phase}.json").write_text(json.dumps(snap))
    assert list(for_summary(tmp_path) or {}) == [
        "bench-time-1",
        "bench-time-2",
        "bench-time-10",
    ]


def test_a_restarted_server_is_not_given_negative_counts() -> None:
    before = {"url": "u", "calls": {"tool:get_system_time": 50}, "total": 50}
    after = {"url": "u", "calls": {"tool:get_system_time": 3}, "total": 3}
    result = served(before, after)  # type: ignore[arg-type]
    assert result["tool_calls"] is None
    assert "restarted" in result["error"]


def test_an_unreachable_server_is_reported_not_counted() -> None:
    result = fetch_counts("http://127.0.0.1:9", timeout=1)
    assert (
        "error" in result and "GET http://127.0.0.1:9/stats failed" in result["error"]
    )
    assert served({"url": "u", "calls": {}}, result)["tool_calls"] is None


def test_corrupt_snapshot_is_a_usage_error(run_dir: Path) -> None:
    (run_dir / "servers-before.json").write_text("{not json")
    with pytest.raises(KitError) as err:
        for_summary(run_dir)
    assert err.value.code == ExitCode.USAGE
    assert "servers-before.json" in str(err.value)


def test_cli_snapshots_a_real_server(tmp_path: Path, bench_server: str) -> None:
    rc = main(
        [
            "servers-stats",
            str(tmp_path),
            "--phase",
            "before",
            "--server",
            f"s1={bench_server}",
        ]
    )
    assert rc == ExitCode.OK
    snap = json.loads((tmp_path / "servers-before.json").read_text())
    assert snap["servers"]["s1"] == {"url": bench_server, "calls": {}, "total": 0}


def test_cli_refuses_a_bad_server_argument(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["servers-stats", str(tmp_path), "--phase", "after", "--server", "nourl"])
    assert exc.value.code == 2
    assert not (tmp_path / "servers-after.json").exists()


async def _one_session(url: str) -> str:
    async with (
        streamablehttp_client(f"{url}/mcp") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("get_system_time", {"timezone_name": "UTC"})
        return str(result.content[0].text)  # type: ignore[union-attr]


@pytest.mark.parametrize("bench_server", [120], indirect=True)
def test_stats_time_every_request_by_json_rpc_method(bench_server: str) -> None:
    """An official SDK client's session (initialize, initialized, one tools/call) against the
    real server, 120 ms slower a call: /stats books each request under its method, and the
    call's time holds the delay."""
    answer = asyncio.run(_one_session(bench_server))
    assert answer[:2] == "20"
    with urllib.request.urlopen(f"{bench_server}/stats", timeout=5) as r:
        stats = json.load(r)
    assert stats["calls"] == {"tool:get_system_time": 1}
    requests = stats["requests"]
    counts = {method: entry["count"] for method, entry in requests.items()}
    # the SDK client lists the tools before its first call (to check the result's schema) and
    # ends its session with a DELETE (refused by a stateless server, yet received)
    assert {k: v for k, v in counts.items() if k != "DELETE"} == {
        "initialize": 1,
        "notifications/initialized": 1,
        "tools/list": 1,
        "tools/call": 1,
    }
    assert requests["tools/call"]["seconds"] >= 0.12
    assert 0 < requests["initialize"]["seconds"] < requests["tools/call"]["seconds"]


def test_rpc_methods_of_bodies() -> None:
    assert rpc_methods(b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}') == [
        "tools/call"
    ]
    batch = b'[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":{}}]'
    assert rpc_methods(batch) == ["a", "response"]
    assert rpc_methods(b"not json") == ["invalid"]
    assert rpc_methods(b"[]") == ["invalid"]
    assert rpc_methods(b"[1]") == ["invalid"]
