"""perfkit mcp-setup-cost's output and input (the driver itself runs against the real gateway in
tests/integration/test_mcp.py): its rows are hey's CSV, read by the same statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from perfkit.exitcodes import ExitCode, KitError
from perfkit.protocol.setup_cost import HEADER, Sample, csv_rows, load_request
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
