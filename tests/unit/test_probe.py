"""perfkit validate: judge() on real gateway answers (tests/fixtures/gateway/), the expect
grammar, the '*' expect of ad-hoc endpoints, and the CLI's exit codes and printed reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import gateway_answer
from perfkit.cli import main
from perfkit.exitcodes import ExitCode, KitError
from perfkit.probe import ANY_2XX, check_expect, judge

KIT = Path(__file__).resolve().parents[2]
NO_ANSWER = "no HTTP answer (connection refused or timed out)"


def judged(name: str, expect: str | None = None) -> str | None:
    return judge(*gateway_answer(name), expect)


# --- status and body ---


def test_successful_tool_call_is_valid() -> None:
    assert judged("rpc-get-system-time") is None
    assert judged("rpc-convert-time") is None


@pytest.mark.parametrize("expect", [None, ANY_2XX, "id", "error.message~not found"])
def test_json_rpc_error_with_http_200_is_invalid_whatever_the_expect(
    expect: str | None,
) -> None:
    status, _ = gateway_answer("rpc-unknown-tool")
    assert status == "200"  # the gateway's habit this check exists for
    assert judged("rpc-unknown-tool", expect) == (
        "JSON-RPC error (with HTTP 200): Tool not found: bench-time-1-no-such-tool"
    )


@pytest.mark.parametrize("expect", [None, ANY_2XX, "result.content.0.text"])
def test_tool_result_is_error_is_invalid(expect: str | None) -> None:
    reason = judged("rpc-tool-error", expect)
    assert reason is not None
    assert reason.startswith("tool reported an error (result.isError true): ")
    assert "unknown time zone 'Nowhere/City'" in reason


def test_json_rpc_error_that_is_a_string_is_reported() -> None:
    body = json.dumps({"jsonrpc": "2.0", "error": "boom", "id": 1})
    assert judge("200", body, None) == "JSON-RPC error (with HTTP 200): boom"


def test_null_error_member_is_no_error() -> None:
    body = json.dumps({"jsonrpc": "2.0", "result": {"ok": 1}, "error": None, "id": 1})
    assert judge("200", body, None) is None


def test_non_json_body_is_invalid_by_default() -> None:
    status, body = gateway_answer("docs-html")
    assert status == "200" and body.lstrip().startswith("<!DOCTYPE html>")
    assert judged("docs-html") == "response is not JSON"
    assert judged("docs-html", "status") == "response is not JSON"


@pytest.mark.parametrize(
    ("name", "reason"), [("tools-401", "HTTP 401"), ("not-found", "HTTP 404")]
)
@pytest.mark.parametrize("expect", [None, ANY_2XX, "detail"])
def test_non_2xx_is_invalid(name: str, reason: str, expect: str | None) -> None:
    judged_reason = judged(name, expect)
    assert judged_reason is not None and judged_reason.startswith(f"{reason} (")


@pytest.mark.parametrize("status", ["199", "300", "500"])
def test_status_outside_2xx_is_invalid(status: str) -> None:
    reason = judge(status, "{}", ANY_2XX)
    assert reason is not None and reason.startswith(f"HTTP {status}")


@pytest.mark.parametrize("status", ["000", "", "abc"])
def test_no_answer(status: str) -> None:
    assert judge(status, "", None) == NO_ANSWER
    assert judge(status, "", ANY_2XX) == NO_ANSWER


# --- expect '*': any 2xx body, JSON not required, JSON must carry no error ---


def test_any_2xx_accepts_a_body_that_is_not_json() -> None:
    assert judged("docs-html", ANY_2XX) is None
    assert judge("204", "", ANY_2XX) is None


def test_any_2xx_accepts_json_without_errors() -> None:
    assert judged("health", ANY_2XX) is None
    assert judged("tools", ANY_2XX) is None  # a list, not an object


def test_any_2xx_is_not_a_path() -> None:
    """'*' names no content: a document without a '*' key must still pass."""
    assert judge("200", json.dumps({"status": "healthy"}), ANY_2XX) is None


def test_any_2xx_is_what_run_configurable_passes_by_default() -> None:
    script = (KIT / "run-configurable.sh").read_text()
    assert f'RUN_EXPECT="{ANY_2XX}"' in script


# --- expect grammar ---


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("health", "status~healthy"),
        ("health", "status~^healthy$"),
        ("health", "mcp_runtime.mode~python"),
        ("health", ".~healthy"),  # the whole document, as JSON text
        ("health", "."),
        ("rpc-get-system-time", r"result.content.0.text~^\d{4}-\d{2}-\d{2}T"),
        ("rpc-get-system-time", "result.content.-1.type~^text$"),
        ("rpc-get-system-time", r"result.structuredContent~\+0[12]:00"),  # JSON text
        (
            "rpc-get-system-time",
            "result.isError~^false$",
        ),  # JSON false, not Python False
        ("rpc-get-system-time", r'result.structuredContent~^\{"result": "\d{4}-'),
        ("rpc-tools-list", "result.tools.1.name~^bench-time-1-"),
        ("tools", "0.name~^bench-time-1-"),
        ("tools", "-1.id~^[0-9a-f]{32}$"),
        ("tools", "-2.inputSchema.required.0"),
        ("version", r"app.version~^\d+\.\d+\.\d+"),
    ],
)
def test_expect_holds_on_real_answers(name: str, expect: str) -> None:
    assert judged(name, expect) is None


@pytest.mark.parametrize(
    ("name", "expect", "reason"),
    [
        ("health", "state", "expected content missing: nothing at 'state'"),
        ("health", "status.x", "expected content missing: nothing at 'status.x'"),
        ("tools", "2.name", "expected content missing: nothing at '2.name'"),
        ("tools", "-3.name", "expected content missing: nothing at '-3.name'"),
        ("tools", "name", "expected content missing: nothing at 'name'"),
        ("tools", "--1.name", "expected content missing: nothing at '--1.name'"),
        ("tools", "x1.name", "expected content missing: nothing at 'x1.name'"),
        ("rpc-get-system-time", "result.0", "expected content missing: nothing at 'result.0'"),
        (
            "health",
            "status~^ready$",
            "expected content missing: 'status' = 'healthy' does not match /^ready$/",
        ),
    ],
)  # fmt: skip
def test_expect_fails_with_a_reason(name: str, expect: str, reason: str) -> None:
    assert judged(name, expect) == reason


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_empty_values_do_not_count(empty: object) -> None:
    body = json.dumps({"result": {"items": empty}})
    assert judge("200", body, "result.items") == (
        "expected content missing: 'result.items' is empty"
    )
    assert (
        judge("200", json.dumps(empty), ".") == "expected content missing: '.' is empty"
    )


@pytest.mark.parametrize("value", [0, False, "0", [None]])
def test_falsy_but_present_values_count(value: object) -> None:
    assert judge("200", json.dumps({"a": value}), "a") is None


def test_regex_on_a_number_matches_its_json_text() -> None:
    assert check_expect({"id": 42}, "id~^42$") is None
    assert check_expect({"id": 42}, "id~^4$") is not None


def test_invalid_regex_is_a_usage_error() -> None:
    with pytest.raises(KitError) as caught:
        check_expect({"status": "healthy"}, "status~([unclosed")
    assert caught.value.code is ExitCode.USAGE
    assert "'status~([unclosed'" in str(caught.value)


# --- CLI ---


def write_answer(tmp_path: Path, name: str) -> tuple[str, str]:
    status, body = gateway_answer(name)
    path = tmp_path / f"{name}.body"
    path.write_text(body)
    return status, str(path)


@pytest.mark.parametrize(
    ("name", "expect", "code", "printed"),
    [
        ("rpc-get-system-time", r"result.content.0.text~^\d{4}-", 0, "valid"),
        ("rpc-get-system-time", None, 0, "valid"),
        ("docs-html", "*", 0, "valid"),
        ("docs-html", "-", 4, "response is not JSON"),  # '-' = no expect: JSON required
        ("health", "-", 0, "valid"),  # '-' is no path
        ("docs-html", "", 4, "response is not JSON"),
        ("health", "status~^ready$", 4, "expected content missing: 'status' = 'healthy'"),
        ("rpc-unknown-tool", "*", 4, "JSON-RPC error (with HTTP 200): Tool not found"),
        ("tools-401", "*", 4, "HTTP 401"),
    ],
)  # fmt: skip
def test_cli_exit_code_and_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    expect: str | None,
    code: int,
    printed: str,
) -> None:
    status, body = write_answer(tmp_path, name)
    argv = ["validate", "--status", status + "\n", "--body", body]
    argv += [] if expect is None else ["--expect", expect]
    assert main(argv) == code
    out = capsys.readouterr().out
    assert out.startswith(printed)
    assert out.count("\n") == 1  # one line: what perf_probe keeps as the reason


def test_cli_missing_body_file_with_no_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["validate", "--status", "000", "--body", str(tmp_path / "none.body")]
    assert main(argv) == ExitCode.BENCHMARK_FAILED
    assert capsys.readouterr().out == NO_ANSWER + "\n"


def test_cli_invalid_regex_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = write_answer(tmp_path, "health")
    argv = ["validate", "--status", status, "--body", body, "--expect", "status~(x"]
    assert main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert re.match(r"perfkit validate: error: expect 'status~\(x': /\(x/ is not", err)


def test_a_refused_probe_carries_the_status_hint() -> None:
    reason = judge("429", '{"detail": "Rate limit exceeded"}', None)
    assert (
        reason is not None
        and reason.startswith("HTTP 429 (")
        and "rate limiter" in reason
    )
    assert judge("418", "{}", None) == "HTTP 418", (
        "no hint for a status the kit knows nothing about"
    )


def test_the_tools_scenario_expectation_holds_on_a_recorded_answer() -> None:
    """The expect string a scenario declares accepts the real answer it is meant for."""
    script = Path(__file__).resolve().parents[2] / "scenarios" / "tools-benchmark.sh"
    found = re.search(
        r"call_get_system_time\.json\" \\\n\s+--expect '([^']+)'", script.read_text()
    )
    assert found is not None, (
        "the tools scenario declares an expect for get_system_time"
    )
    assert judged("rpc-get-system-time", found.group(1)) is None
    assert judged("rpc-unknown-tool", found.group(1)) is not None


# --- MCP streamable HTTP: plain JSON or an event stream (tests/fixtures/gateway/mcp-*) ---


@pytest.mark.parametrize("prefix", ["mcp", "mcp-sse"])
def test_mcp_answers_are_judged_like_rpc_ones_json_or_stream(prefix: str) -> None:
    assert judged(f"{prefix}-tools-call", r"result.content.0.text~^[0-9]{4}-") is None
    assert judged(f"{prefix}-tools-list", "result.tools.0.name") is None
    assert (
        judged(f"{prefix}-prompts-get", "result.messages.0.content.text~Asia/Tokyo")
        is None
    )
    reason = judged(f"{prefix}-tool-error", "result.content.0.text")
    assert reason is not None and reason.startswith(
        "tool reported an error (result.isError true)"
    )
    assert "Nowhere/City" in reason


def test_event_stream_is_read_as_a_stream_not_passed_on_status() -> None:
    status, body = gateway_answer("mcp-sse-tools-call")
    assert body.startswith("event: message")
    assert judge(status, body, "result.content.0.text~^nothing-like-this$") is not None
    assert (
        judge(status, body, "result.nope")
        == "expected content missing: nothing at 'result.nope'"
    )


def test_refused_accept_header_names_what_the_endpoint_wanted() -> None:
    assert judged("mcp-accept-html") == (
        "HTTP 406 (the endpoint refused the Accept header: an MCP endpoint wants"
        " application/json, and text/event-stream too when it answers as an event stream):"
        " Not Acceptable: Client must accept application/json"
    )
    assert judged("mcp-sse-accept-json").endswith(
        "Not Acceptable: Client must accept both application/json and text/event-stream"
    )
    assert judged("mcp-unknown-server").startswith("HTTP 404 (not found: ")
    assert judged("mcp-unknown-server").endswith(": Server not found")


def test_sse_messages_follow_the_event_stream_rules() -> None:
    from perfkit.probe import document_of, sse_messages

    stream = ': keep-alive\n\nevent: message\ndata: {"a":\ndata: 1}\n\nid: 7\ndata: {"id": 1, "result": {}}\n'
    assert sse_messages(stream) == [{"a": 1}, {"id": 1, "result": {}}]
    assert sse_messages(stream.replace("\n", "\r\n")) == [
        {"a": 1},
        {"id": 1, "result": {}},
    ]
    # the JSON-RPC response is the message with a result or error, not a notification
    note = 'data: {"id": 1, "result": {"x": 2}}\n\ndata: {"method": "notifications/progress"}\n\n'
    assert document_of(note) == ({"id": 1, "result": {"x": 2}}, True)
    assert sse_messages("data: not json\n\n") is None
    assert sse_messages("<html>") is None
    assert document_of("event: message\n\n") == (
        None,
        False,
    )  # a stream with no message
    assert judge("200", "data: not json\n\n", None) == "response is not JSON"
