"""Judge one probe response before a test is benchmarked.

The gateway answers JSON-RPC errors with HTTP 200, so a status check alone would count a
failing tool call as a success: the body must be JSON, carry no JSON-RPC `error`, no
`result.isError: true`, and hold the expected content (see `expect` in docs/internals.md).
`expect` `*` (run-configurable.sh's default for --endpoint) accepts any 2xx body, JSON or not;
a JSON body must still carry no JSON-RPC error. An MCP streamable-HTTP endpoint may answer as a
server-sent event stream (`event: message` / `data: {...}` lines) instead of plain JSON: the
JSON-RPC response is read from its `data:` lines and judged the same way.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError
from perfkit.table import status_hint

_MISSING = object()
STATEFUL_GATEWAY = (
    "the gateway runs stateful MCP sessions (USE_STATEFUL_SESSIONS=true): benchmark it with"
    " PERF_MCP_SESSIONS=stateful"
)
ANY_2XX = "*"
INDEX = re.compile(r"-?\d+")


def lookup(document: Any, path: str) -> Any:
    """Follow a dotted path (integer segments index lists); `_MISSING` when it leads nowhere."""
    if path in {"", "."}:
        return document
    node = document
    for segment in path.split("."):
        if isinstance(node, list) and INDEX.fullmatch(segment):
            index = int(segment)
            if not -len(node) <= index < len(node):
                return _MISSING
            node = node[index]
        elif isinstance(node, dict) and segment in node:
            node = node[segment]
        else:
            return _MISSING
    return node


def check_expect(document: Any, expect: str) -> str | None:
    """None when `expect` holds, else why not."""
    path, _, pattern = expect.partition("~")
    value = lookup(document, path)
    if value is _MISSING:
        return f"expected content missing: nothing at '{path}'"
    if value in (None, "", [], {}):
        return f"expected content missing: '{path}' is empty"
    if pattern:
        text = value if isinstance(value, str) else json.dumps(value)
        try:
            matched = re.search(pattern, text)
        except re.error as exc:
            raise KitError(
                f"expect {expect!r}: /{pattern}/ is not a valid regular expression ({exc});"
                " fix the pattern after '~'",
                ExitCode.USAGE,
            ) from None
        if not matched:
            return f"expected content missing: '{path}' = {text[:120]!r} does not match /{pattern}/"
    return None


def rpc_error(document: Any, status: str) -> str | None:
    """Why a JSON answer reports a failure despite its 2xx status, or None."""
    if not isinstance(document, dict):
        return None
    if document.get("error") is not None:
        error = document["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        return f"JSON-RPC error (with HTTP {status}): {message}"
    result = document.get("result")
    if isinstance(result, dict) and result.get("isError") is True:
        content = json.dumps(result.get("content"))[:200]
        return f"tool reported an error (result.isError true): {content}"
    return None


def sse_messages(body: str) -> list[Any] | None:
    """The JSON messages of a server-sent event stream, or None when `body` is not one.

    Events are separated by blank lines; an event's `data:` lines joined by newlines are its
    data (the SSE rules); comment lines (`:`) and other fields are skipped. An event whose data
    is not JSON makes the whole body not a JSON-RPC stream (None).
    """
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((line for line in lines if line.strip()), "")
    if not first.startswith(("event:", "data:", "id:", "retry:", ":")):
        return None
    messages: list[Any] = []
    data: list[str] = []
    for line in [*lines, ""]:
        if not line:
            if data:
                try:
                    messages.append(json.loads("\n".join(data)))
                except ValueError:
                    return None
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value.removeprefix(" "))
    return messages


def document_of(body: str) -> tuple[Any, bool]:
    """The answer's JSON document and whether it came as JSON (plain or in an SSE stream).

    From a stream: the JSON-RPC response (the last message with `result` or `error`), else
    the last message; `(None, False)` when the body is neither JSON nor such a stream.
    """
    try:
        return json.loads(body), True
    except ValueError:
        pass
    messages = sse_messages(body)
    if not messages:
        return None, False
    responses = [
        m for m in messages if isinstance(m, dict) and ("result" in m or "error" in m)
    ]
    return (responses or messages)[-1], True


def answer_message(body: str, limit: int = 200) -> str:
    """What an error answer says of itself: its JSON-RPC error message or its `detail`."""
    document, _ = document_of(body)
    if not isinstance(document, dict):
        return ""
    error = document.get("error")
    said = error.get("message") if isinstance(error, dict) else document.get("detail")
    if not isinstance(said, str):
        return ""
    return said[:limit]


def judge(status: str, body: str, expect: str | None) -> str | None:
    """None when the response is valid, else the reason it is not.

    `expect` None: a JSON body without errors; `*`: any 2xx body (if JSON, without errors);
    otherwise also the content `expect` names.
    """
    if not status.isdigit() or status == "000":
        return "no HTTP answer (connection refused or timed out)"
    if not 200 <= int(status) < 300:
        hint = status_hint(int(status))
        said = answer_message(body)
        if "missing session id" in said.lower():
            said += f" - {STATEFUL_GATEWAY}"
        return (
            f"HTTP {status}"
            + (f" ({hint})" if hint else "")
            + (f": {said}" if said else "")
        )
    document, is_json = document_of(body)
    if not is_json:
        return None if expect == ANY_2XX else "response is not JSON"
    reason = rpc_error(document, status)
    if reason is not None or not expect or expect == ANY_2XX:
        return reason
    return check_expect(document, expect)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit validate", description=__doc__)
    parser.add_argument(
        "--status",
        required=True,
        help="HTTP status code of the probe (000 = no answer)",
    )
    parser.add_argument(
        "--body", required=True, type=Path, help="file holding the response body"
    )
    parser.add_argument(
        "--expect",
        default=None,
        help="PATH or PATH~REGEX that must hold; '*': any 2xx body; '-' or none: JSON",
    )
    args = parser.parse_args(argv)
    body = args.body.read_text(errors="replace") if args.body.exists() else ""
    expect = None if args.expect in (None, "", "-") else args.expect
    reason = judge(args.status.strip(), body, expect)
    if reason is None:
        print("valid")
        return int(ExitCode.OK)
    print(reason)
    return int(ExitCode.BENCHMARK_FAILED)
