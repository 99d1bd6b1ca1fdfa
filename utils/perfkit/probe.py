"""Judge one probe response before a test is benchmarked.

The gateway answers JSON-RPC errors with HTTP 200, so a status check alone would count a
failing tool call as a success: the body must be JSON, carry no JSON-RPC `error`, no
`result.isError: true`, and hold the expected content (see `expect` in docs/internals.md).
`expect` `*` (run-configurable.sh's default for --endpoint) accepts any 2xx body, JSON or not;
a JSON body must still carry no JSON-RPC error.
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


def judge(status: str, body: str, expect: str | None) -> str | None:
    """None when the response is valid, else the reason it is not.

    `expect` None: a JSON body without errors; `*`: any 2xx body (if JSON, without errors);
    otherwise also the content `expect` names.
    """
    if not status.isdigit() or status == "000":
        return "no HTTP answer (connection refused or timed out)"
    if not 200 <= int(status) < 300:
        hint = status_hint(int(status))
        return f"HTTP {status} ({hint})" if hint else f"HTTP {status}"
    try:
        document = json.loads(body)
    except ValueError:
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
