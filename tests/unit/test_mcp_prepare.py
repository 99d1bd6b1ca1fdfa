"""perfkit mcp-prepare: an mcp test's endpoint and request, built from real gateway answers
(tests/fixtures/gateway/servers, mcp-*-list; a sender that replays them instead of HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import gateway_answer
from perfkit.exitcodes import ExitCode, KitError
from perfkit.protocol.prepare import (
    Answer,
    NotPrepared,
    Operation,
    load_values,
    prepare,
    prompt_arguments,
    tool_arguments,
)

KIT = Path(__file__).resolve().parents[2]
VALUES = load_values(KIT / "payloads" / "mcp" / "arguments.json")
BASE = "http://127.0.0.1:4444"
SERVER = "/servers/{server:bench-virtual}/mcp"
LISTS = {
    "tools/list": "tools-list",
    "resources/list": "resources-list",
    "prompts/list": "prompts-list",
}


class Replay:
    """Answers GET /servers and the MCP list methods from recorded answers; keeps the requests."""

    def __init__(self, prefix: str = "mcp", servers: str = "servers") -> None:
        self.prefix, self.servers = prefix, servers
        self.sent: list[tuple[str, str, dict[str, Any] | None]] = []

    def __call__(self, method: str, url: str, payload: dict[str, Any] | None) -> Answer:
        self.sent.append((method, url, payload))
        if payload is None:
            return Answer(*gateway_answer(self.servers))
        return Answer(*gateway_answer(f"{self.prefix}-{LISTS[payload['method']]}"))


def virtual_id() -> str:
    servers = json.loads(gateway_answer("servers")[1])
    return next(s["id"] for s in servers if s["name"] == "bench-virtual")


def test_server_placeholder_becomes_the_virtual_servers_id() -> None:
    send = Replay()
    path, request = prepare(BASE, SERVER, Operation.parse("tools/list"), VALUES, send)
    assert path == f"/servers/{virtual_id()}/mcp"
    assert request == {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    assert send.sent == [("GET", f"{BASE}/servers", None)]  # a listing needs no lookup


def test_a_path_without_placeholder_is_kept_and_needs_no_server_list() -> None:
    send = Replay()
    path, _ = prepare(
        BASE, "/mcp", Operation.parse("tools/call:get-system-time"), VALUES, send
    )
    assert path == "/mcp"
    assert [m for m, _, _ in send.sent] == ["POST"]
    assert send.sent[0][1] == f"{BASE}/mcp"


@pytest.mark.parametrize("prefix", ["mcp", "mcp-sse"])
def test_tool_call_is_built_from_the_listed_schema_and_the_kits_values(
    prefix: str,
) -> None:
    _, request = prepare(
        BASE, SERVER, Operation.parse("tools/call:convert_time"), VALUES, Replay(prefix)
    )
    assert request["method"] == "tools/call"
    assert (
        request["params"]
        == {
            "name": "bench-time-1-convert-time",  # the gateway's name, found by the tool's own
            "arguments": {
                "time": "09:30",
                "source_timezone": "UTC",
                "target_timezone": "Asia/Tokyo",
            },
        }
    )


def test_a_tests_own_values_come_before_the_kits() -> None:
    operation = Operation.parse(
        "tools/call:convert_time?time=18:00&target_timezone=UTC"
    )
    assert operation.target == "convert_time"
    _, request = prepare(BASE, SERVER, operation, VALUES, Replay())
    assert request["params"]["arguments"] == {
        "time": "18:00",
        "source_timezone": "UTC",
        "target_timezone": "UTC",
    }
    # a value that reads as JSON is that JSON; one of the wrong type for the schema is refused
    assert Operation.parse("tools/call:t?n=1024&f=true&s=abc").arguments == (
        ("n", 1024),
        ("f", True),
        ("s", "abc"),
    )
    with pytest.raises(NotPrepared, match="'time'"):
        prepare(
            BASE,
            SERVER,
            Operation.parse("tools/call:convert_time?time=930"),
            VALUES,
            Replay(),
        )


def test_prompt_and_resource_requests() -> None:
    _, prompt = prepare(
        BASE, SERVER, Operation.parse("prompts/get:compare-timezones"), VALUES, Replay()
    )
    assert prompt["params"] == {
        "name": "bench-time-1-compare-timezones",
        "arguments": {
            "first_timezone": "Europe/Berlin",
            "second_timezone": "Asia/Tokyo",
        },
    }
    _, read = prepare(
        BASE,
        SERVER,
        Operation.parse("resources/read:time://world_times"),
        VALUES,
        Replay(),
    )
    assert read["params"] == {"uri": "time://world_times"}


def test_unknown_virtual_server_names_the_servers_there() -> None:
    with pytest.raises(
        NotPrepared,
        match=r"no virtual server named 'nope' .*servers there: bench-virtual",
    ):
        prepare(
            BASE,
            "/servers/{server:nope}/mcp",
            Operation.parse("tools/list"),
            VALUES,
            Replay(),
        )


def test_renamed_tool_fails_naming_what_is_listed() -> None:
    with pytest.raises(NotPrepared) as caught:
        prepare(
            BASE, SERVER, Operation.parse("tools/call:get-local-time"), VALUES, Replay()
        )
    assert "no tool named 'get-local-time'" in str(caught.value)
    assert "bench-time-1-convert-time, bench-time-1-get-system-time" in str(
        caught.value
    )


def test_a_federated_peers_tool_is_named_by_its_gateway_and_never_taken_by_mistake() -> (
    None
):
    """On a gateway with a federated peer the global /mcp lists the peer's tools too
    (bench-peer-bench-time-1-get-system-time, recorded): a plain name takes the nearest
    server's tool, GATEWAY/NAME the one the peer offers."""
    send = Replay(prefix="mcp-peer")
    _, direct = prepare(
        BASE, "/mcp", Operation.parse("tools/call:get-system-time"), VALUES, send
    )
    assert direct["params"]["name"] == "bench-time-1-get-system-time"
    _, federated = prepare(
        BASE,
        "/mcp",
        Operation.parse("tools/call:bench-peer/get-system-time"),
        VALUES,
        send,
    )
    assert federated["params"]["name"] == "bench-peer-bench-time-1-get-system-time"
    assert federated["params"]["arguments"] == direct["params"]["arguments"]
    with pytest.raises(
        NotPrepared,
        match=r"no tool named 'get-system-time' offered by gateway 'other-peer' listed",
    ):
        prepare(
            BASE,
            "/mcp",
            Operation.parse("tools/call:other-peer/get-system-time"),
            VALUES,
            send,
        )


def test_unlisted_resource_fails_naming_the_listed_ones() -> None:
    with pytest.raises(
        NotPrepared,
        match=r"no resource 'time://mars' .*time://timezone_info, time://world_times",
    ):
        prepare(
            BASE,
            SERVER,
            Operation.parse("resources/read:time://mars"),
            VALUES,
            Replay(),
        )


def test_list_answer_that_is_an_error_page_fails_with_its_status() -> None:
    def refused(method: str, url: str, payload: dict[str, Any] | None) -> Answer:
        return Answer(*gateway_answer("mcp-accept-html"))

    with pytest.raises(
        NotPrepared,
        match=r"tools/list at .* failed: HTTP 406 .*Client must accept application/json",
    ):
        prepare(
            BASE, "/mcp", Operation.parse("tools/call:get-system-time"), VALUES, refused
        )


def test_missing_servers_listing_says_the_status() -> None:
    send = Replay(servers="tools-401")
    with pytest.raises(NotPrepared, match=r"GET /servers\) failed: HTTP 401"):
        prepare(BASE, SERVER, Operation.parse("tools/list"), VALUES, send)


# --- arguments from a schema ---

CONVERT = {
    "name": "srv-convert",
    "inputSchema": {
        "type": "object",
        "properties": {
            "time": {"type": "string"},
            "zone": {"type": "string", "default": "UTC"},
        },
        "required": ["time", "zone"],
    },
}


def test_required_argument_without_value_names_tool_and_argument() -> None:
    with pytest.raises(
        NotPrepared,
        match=r"tool 'srv-convert': required argument 'time' \(string\) has no value",
    ):
        tool_arguments(CONVERT, {})


def test_schema_default_examples_enum_fill_required_arguments() -> None:
    assert tool_arguments(CONVERT, {"time": "10:00"}) == {
        "time": "10:00",
        "zone": "UTC",
    }
    tool = {"name": "t", "inputSchema": {"properties": {"a": {"examples": [3, 4]}, "b": {"enum": ["x"]}},
                                         "required": ["a", "b"]}}  # fmt: skip
    assert tool_arguments(tool, {}) == {"a": 3, "b": "x"}


def test_optional_argument_without_kit_value_is_left_to_the_server() -> None:
    tool = {
        "name": "t",
        "inputSchema": {"properties": {"zone": {"type": "string", "default": "UTC"}}},
    }
    assert tool_arguments(tool, {}) == {}
    assert tool_arguments(tool, {"zone": "Asia/Tokyo"}) == {"zone": "Asia/Tokyo"}


def test_kit_value_of_the_wrong_type_is_refused() -> None:
    tool = {
        "name": "t",
        "inputSchema": {"properties": {"n": {"type": "integer"}}, "required": ["n"]},
    }
    with pytest.raises(
        NotPrepared, match=r"argument 'n': the kit's value '5' is not integer"
    ):
        tool_arguments(tool, {"n": "5"})
    assert tool_arguments(tool, {"n": 5}) == {"n": 5}
    with pytest.raises(NotPrepared, match="is not integer"):
        tool_arguments(tool, {"n": True})  # a bool is no integer in JSON Schema


def test_tool_without_schema_cannot_be_called() -> None:
    with pytest.raises(NotPrepared, match="lists no inputSchema"):
        tool_arguments({"name": "t"}, {})


def test_prompt_required_argument_without_value() -> None:
    prompt = {
        "name": "p",
        "arguments": [{"name": "zone", "required": True}, {"name": "style"}],
    }
    with pytest.raises(
        NotPrepared, match=r"prompt 'p': required argument 'zone' has no value"
    ):
        prompt_arguments(prompt, {})
    assert prompt_arguments(prompt, {"zone": "UTC", "other": 1}) == {"zone": "UTC"}


# --- operations, values file, the command ---


@pytest.mark.parametrize(
    "text",
    [
        "tools/call",
        "tools/list:x",
        "sampling/createMessage",
        "resources/read:",
        "tools/call:?a=1",
        "tools/call:t?a",
        "tools/list?a=1",
    ],
)
def test_malformed_operation_is_a_usage_error(text: str) -> None:
    with pytest.raises(KitError) as caught:
        Operation.parse(text)
    assert caught.value.code == ExitCode.USAGE


def test_values_file_must_hold_an_arguments_object(tmp_path: Path) -> None:
    bad = tmp_path / "arguments.json"
    bad.write_text('{"timezone_name": "UTC"}')
    with pytest.raises(KitError, match="want an object with 'arguments'"):
        load_values(bad)
    bad.write_text("{")
    with pytest.raises(KitError, match="not JSON"):
        load_values(bad)


def test_command_on_a_gateway_that_does_not_answer_fails_the_test(
    tmp_path: Path, capsys
) -> None:
    from perfkit.cli import main

    out = tmp_path / "request.json"
    code = main(["mcp-prepare", "--url", "http://127.0.0.1:9", "--path", SERVER,
                 "--operation", "tools/list", "--out", str(out), "--timeout", "2"])  # fmt: skip
    assert code == ExitCode.BENCHMARK_FAILED
    assert "GET /servers) failed: no HTTP answer" in capsys.readouterr().out
    assert not out.exists()
