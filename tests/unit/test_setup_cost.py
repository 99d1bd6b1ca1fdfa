"""perfkit mcp-setup-cost's output and input (the driver runs against the real gateway in
tests/integration/test_mcp.py): its rows are hey's CSV, read by the same statistics; what it
times, against the real benchmark MCP server."""

from __future__ import annotations

import asyncio
import json
import statistics
from pathlib import Path

import pytest
from perfkit.exitcodes import ExitCode, KitError
from perfkit.protocol.setup_cost import (
    HEADER,
    Sample,
    cli,
    csv_rows,
    drive,
    load_request,
    sse_url,
)
from perfkit.results.csvstats import read_hey_csv


def test_rows_are_heys_csv_in_start_order_failures_by_status_or_left_out(
    tmp_path: Path,
) -> None:
    samples = [
        Sample(offset=0.30, seconds=0.25, status=200, error=None),
        Sample(offset=0.01, seconds=0.40, status=200, error=None),
        Sample(offset=0.20, seconds=None, status=401, error="HTTPStatusError: 401"),
        Sample(
            offset=0.25, seconds=None, status=None, error="ReadTimeout"
        ),  # a transport error
    ]
    rows = csv_rows(samples)
    assert rows == [
        HEADER,
        "0.4000,0,0,0,0.4000,0,200,0.0100",
        "0,0,0,0,0,0,401,0.2000",
        "0.2500,0,0,0,0.2500,0,200,0.3000",
    ]
    path = tmp_path / "round-1.csv"
    path.write_text("\n".join(rows) + "\n")
    frame = read_hey_csv(path)
    assert list(frame["status-code"]) == [200, 401, 200]


def test_request_must_be_one_the_sdk_client_can_send(tmp_path: Path) -> None:
    good = tmp_path / "request.json"
    good.write_text(
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}})
    )
    assert load_request(good)["method"] == "tools/call"
    bad = tmp_path / "ping.json"
    bad.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
    with pytest.raises(KitError) as caught:
        load_request(bad)
    assert caught.value.code == ExitCode.USAGE
    with pytest.raises(KitError, match="cannot be read as JSON"):
        load_request(tmp_path / "missing.json")


def test_the_sse_endpoint_is_the_one_beside_the_mcp_endpoint() -> None:
    assert sse_url("http://127.0.0.1:4444/servers/abc/mcp") == (
        "http://127.0.0.1:4444/servers/abc/sse"
    )
    assert sse_url("http://127.0.0.1:4444/mcp/") == "http://127.0.0.1:4444/sse"
    with pytest.raises(KitError, match="not an MCP endpoint") as caught:
        sse_url("http://127.0.0.1:4444/rpc")
    assert caught.value.code == ExitCode.USAGE


@pytest.mark.parametrize(
    "args",
    [
        [
            "--time",
            "connect",
        ],  # a streamable-HTTP client sets up no connection of its own
        ["--transport", "sse", "--url", "http://127.0.0.1:1/rpc"],
    ],
)
def test_a_driver_that_cannot_time_what_is_asked_is_a_usage_error(
    tmp_path: Path, args: list[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    base = [
        "--url",
        "http://127.0.0.1:1/mcp",
        "--request",
        str(request),
        "-n",
        "1",
        "-c",
        "1",
    ]
    with pytest.raises(KitError) as caught:
        cli(base + args)
    assert caught.value.code == ExitCode.USAGE


CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_system_time", "arguments": {"timezone_name": "UTC"}},
}


@pytest.mark.parametrize("bench_server", [150], indirect=True)
def test_call_times_the_call_alone_and_session_the_whole_start(
    bench_server: str,
) -> None:
    """Against the real benchmark server, 150 ms slower a call (official SDK client): every
    sample holds the call's 150 ms; a whole session's start holds more than its call alone."""
    url = f"{bench_server}/mcp"
    calls = asyncio.run(drive(url, "", CALL, 4, 2, 20.0, timed="call"))
    sessions = asyncio.run(drive(url, "", CALL, 4, 2, 20.0, timed="session"))
    assert all(s.status == 200 and s.error is None for s in calls + sessions)
    call_times = [s.seconds or 0.0 for s in calls]
    session_times = [s.seconds or 0.0 for s in sessions]
    assert min(call_times) >= 0.15 and min(session_times) >= 0.15
    assert statistics.median(session_times) > statistics.median(call_times)
