"""`perfkit mcp-prepare`: turn an `mcp` test's declaration into the request hey will send.

A scenario declares an MCP test by endpoint and operation (`--mcp tools/call:get-system-time`
on `/servers/{server:bench-virtual}/mcp`), never by a virtual server's id or a fixed payload:
both are read from the gateway under test when the test is probed, on every side of an A/B
alike. This module

- resolves `{server:NAME}` in the path to the id of the virtual server named NAME (GET /servers);
- lists what the endpoint offers (tools/list, prompts/list, resources/list, as an MCP client
  would, over the endpoint itself) and finds the named tool, prompt or resource there;
- builds the call's arguments: for every argument the tool's `inputSchema` (or the prompt's
  argument list) names, the test's own value (`tools/call:get-payload?size_bytes=1024`), else
  the kit's value for that name (payloads/mcp/arguments.json), else the
  schema's `default`, first of `examples`, first of `enum` or `const`; a required argument
  with none of those, or a kit value of the wrong JSON type, is a failure naming the tool and
  the argument - so a renamed tool or a changed schema fails the test plainly instead of
  benchmarking error answers.

Prints the resolved path and writes the JSON-RPC request to --out (exit 0); a test that cannot
be prepared prints why (exit 4, the test fails); a malformed operation or values file is exit 2.
The token comes from the environment (PERFKIT_TOKEN), never from the command line.

With `--sessions N` (mcp.sessions: stateful) the test's N clients each run in an MCP session of
their own: once the endpoint is resolved, N sessions are opened there (perfkit.protocol.session,
the official SDK client), the listings are sent in the first, and the ids are printed after the
path (PATH<TAB>SESSION SESSION ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import TOKEN_ENV
from perfkit.probe import answer_message, document_of, judge

# what a streamable-HTTP client accepts: plain JSON answers or an event stream
MCP_ACCEPT = "application/json, text/event-stream"
SERVER_PLACEHOLDER = re.compile(r"\{server:([^{}]+)\}")
LIST_METHODS = ("tools/list", "resources/list", "prompts/list")
# operation -> (the listing that names its target, the list's key)
TARGETED = {
    "tools/call": ("tools/list", "tools"),
    "prompts/get": ("prompts/list", "prompts"),
    "resources/read": ("resources/list", "resources"),
}
MAX_PAGES = 20  # a listing's nextCursor is followed at most this many times
JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


class NotPrepared(Exception):
    """The test cannot be sent as declared; the message says why (the test fails)."""


@dataclass(frozen=True)
class Operation:
    method: str
    target: str | None  # tool or prompt name, resource URI; None for a listing
    # this test's own argument values (TOOL?NAME=VALUE&...), before the kit's values file
    arguments: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Operation:
        method, _, target = text.partition(":")
        if method in LIST_METHODS and not target:
            return cls(method, None)
        if method in ("tools/call", "prompts/get") and "?" in target:
            target, _, query = target.partition("?")
            if target:
                return cls(method, target, argument_values(text, query))
        elif method in TARGETED and target:
            return cls(method, target)
        raise KitError(
            f"MCP operation {text!r}: use one of {', '.join(LIST_METHODS)}, or"
            " tools/call:TOOL, prompts/get:PROMPT (TOOL or PROMPT as GATEWAY/NAME for the one"
            " a federated gateway offers; either with ?NAME=VALUE&... for this test's own"
            " argument values), resources/read:URI",
            ExitCode.USAGE,
        )


def argument_values(text: str, query: str) -> tuple[tuple[str, Any], ...]:
    """NAME=VALUE pairs of an operation; a VALUE that reads as JSON (1024, true) is that."""
    try:
        pairs = urllib.parse.parse_qsl(
            query, keep_blank_values=True, strict_parsing=True
        )
    except ValueError:
        raise KitError(
            f"MCP operation {text!r}: after '?' want NAME=VALUE pairs joined by '&'",
            ExitCode.USAGE,
        ) from None
    values = []
    for name, raw in pairs:
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        values.append((name, value))
    return tuple(values)


@dataclass(frozen=True)
class Answer:
    status: str
    body: str


Send = Callable[[str, str, dict[str, Any] | None], Answer]


def http_sender(
    token: str, protocol_version: str, timeout: float, session: str = ""
) -> Send:
    """GET (payload None) or POST a JSON-RPC payload with an MCP client's headers (and its
    session's id, when it has one)."""

    def send(method: str, url: str, payload: dict[str, Any] | None) -> Answer:
        headers = {"Accept": MCP_ACCEPT if payload is not None else "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if session and payload is not None:
            headers["Mcp-Session-Id"] = session
        data = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            if protocol_version:
                headers["MCP-Protocol-Version"] = protocol_version
            data = json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(
                    str(response.status), response.read().decode(errors="replace")
                )
        except urllib.error.HTTPError as exc:
            return Answer(str(exc.code), exc.read().decode(errors="replace"))
        except (OSError, ValueError):
            return Answer("000", "")

    return send


def body_excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text[:200] + ("..." if len(text) > 200 else "")


def resolve_path(path: str, base_url: str, send: Send) -> str:
    """`path` with every `{server:NAME}` replaced by that virtual server's id."""
    names = set(SERVER_PLACEHOLDER.findall(path))
    if not names:
        return path
    answer = send("GET", f"{base_url}/servers", None)
    reason = judge(answer.status, answer.body, None)
    if reason is not None:
        raise NotPrepared(
            f"listing the virtual servers (GET /servers) failed: {reason}"
        )
    servers, _ = document_of(answer.body)
    if isinstance(servers, dict):  # a paginated answer
        servers = servers.get("items") or servers.get("servers") or []
    ids: dict[str, str] = {}
    for server in servers if isinstance(servers, list) else []:
        if isinstance(server, dict) and server.get("name") and server.get("id"):
            ids.setdefault(str(server["name"]), str(server["id"]))
    for name in sorted(names):
        if name not in ids:
            known = ", ".join(sorted(ids)) or "none"
            raise NotPrepared(
                f"no virtual server named {name!r} at {base_url} (servers there: {known});"
                " the local stack creates bench-virtual (utils/local-stack.sh up), or create"
                " it with POST /servers"
            )
    return SERVER_PLACEHOLDER.sub(lambda m: ids[m.group(1)], path)


def rpc(method: str, params: dict[str, Any], request_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def listing(url: str, method: str, key: str, send: Send) -> list[dict[str, Any]]:
    """Every item of an MCP list method at endpoint `url`, following nextCursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        answer = send("POST", url, rpc(method, {"cursor": cursor} if cursor else {}))
        reason = judge(answer.status, answer.body, None)
        if reason is not None:
            # the answer's own words are in the reason already, else its start is shown
            shown = (
                ""
                if answer_message(answer.body)
                else f"; the answer: {body_excerpt(answer.body)}"
            )
            raise NotPrepared(f"{method} at {url} failed: {reason}{shown}")
        document, _ = document_of(answer.body)
        result = document.get("result") if isinstance(document, dict) else None
        page = result.get(key) if isinstance(result, dict) else None
        if not isinstance(result, dict) or not isinstance(page, list):
            raise NotPrepared(f"{method} at {url} answered without result.{key}")
        items.extend(item for item in page if isinstance(item, dict))
        cursor = result.get("nextCursor")
        if not cursor:
            return items
    raise NotPrepared(f"{method} at {url} still had more pages after {MAX_PAGES}")


def normalized(name: str) -> str:
    return name.lower().replace("_", "-")


def find_named(
    items: list[dict[str, Any]], want: str, what: str, url: str
) -> dict[str, Any]:
    """The item named `want`, or whose name ends in `-want` (the gateway prefixes a tool's
    name with its MCP server's slug: bench-time-1-get-system-time); '_' and '-' alike. Of
    several, the shortest name: the nearest server's (a tool a federated peer gateway offers
    carries the peer's slug too: bench-peer-bench-time-1-get-system-time). `GATEWAY/NAME`
    wants the item that gateway offers: a name starting with `GATEWAY-` and ending in `-NAME`."""
    gateway, _, short = want.rpartition("/")
    target = normalized(short)
    prefix = f"{normalized(gateway)}-" if gateway else ""
    names = {str(item.get("name", "")): item for item in items}
    exact = [name for name in names if normalized(name) == prefix + target]
    suffixed = sorted(
        (
            name
            for name in names
            if normalized(name).startswith(prefix)
            and normalized(name).endswith(f"-{target}")
        ),
        key=lambda name: (len(name), name),
    )
    for name in exact or suffixed:
        return names[name]
    listed = ", ".join(sorted(names)) or "none"
    offered = f" offered by gateway {gateway!r}" if gateway else ""
    hint = (
        f"; is a peer gateway registered there as {gateway!r}? (the local stack registers"
        f" one with: make up MCP_PEER={gateway})"
        if gateway
        else ""
    )
    raise NotPrepared(
        f"no {what} named {short!r}{offered} listed at {url} ({what}s listed: {listed}){hint}"
    )


def schema_types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def schema_value(schema: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) from the schema's default, examples, enum or const; else (False, None)."""
    if "default" in schema:
        return True, schema["default"]
    for key in ("examples", "enum"):
        values = schema.get(key)
        if isinstance(values, list) and values:
            return True, values[0]
    if "const" in schema:
        return True, schema["const"]
    return False, None


def tool_arguments(tool: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a call of `tool`, from its inputSchema and the kit's values."""
    name = tool.get("name")
    schema = tool.get("inputSchema")
    if not isinstance(schema, dict):
        raise NotPrepared(
            f"tool {name!r} lists no inputSchema, so no call can be built"
        )
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    unknown = sorted(required - set(properties))
    if unknown:
        raise NotPrepared(
            f"tool {name!r}: its inputSchema requires {unknown} but describes none of them"
        )
    arguments: dict[str, Any] = {}
    for argument, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        types = schema_types(spec)
        if argument in values:
            value = values[argument]
            if types and not any(
                JSON_TYPES.get(t, lambda _: True)(value) for t in types
            ):
                raise NotPrepared(
                    f"tool {name!r}, argument {argument!r}: the kit's value {value!r} is not"
                    f" {' or '.join(types)} as the tool's inputSchema wants; fix"
                    " payloads/mcp/arguments.json"
                )
            arguments[argument] = value
            continue
        found, value = schema_value(spec)
        if found and argument in required:
            arguments[argument] = value
        elif argument in required:
            wanted = " or ".join(types) or "a value"
            raise NotPrepared(
                f"tool {name!r}: required argument {argument!r} ({wanted}) has no value -"
                " give it one in payloads/mcp/arguments.json (or a default or examples in"
                " the tool's inputSchema)"
            )
    return arguments


def prompt_arguments(prompt: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """The arguments of a prompts/get: every listed argument the kit has a value for."""
    name = prompt.get("name")
    arguments: dict[str, str] = {}
    for spec in prompt.get("arguments") or []:
        if not isinstance(spec, dict) or not spec.get("name"):
            continue
        argument = str(spec["name"])
        if argument in values:
            value = values[argument]
            # MCP prompt arguments are strings
            arguments[argument] = value if isinstance(value, str) else json.dumps(value)
        elif spec.get("required"):
            raise NotPrepared(
                f"prompt {name!r}: required argument {argument!r} has no value - give it one"
                " in payloads/mcp/arguments.json"
            )
    return arguments


def build_request(
    operation: Operation, endpoint: str, values: dict[str, Any], send: Send
) -> dict[str, Any]:
    """The JSON-RPC request for `operation` at MCP endpoint URL `endpoint`."""
    if operation.target is None:
        return rpc(operation.method, {})
    list_method, key = TARGETED[operation.method]
    items = listing(endpoint, list_method, key, send)
    if operation.method == "resources/read":
        uris = sorted(str(item.get("uri", "")) for item in items)
        if operation.target not in uris:
            raise NotPrepared(
                f"no resource {operation.target!r} listed at {endpoint}"
                f" (resources listed: {', '.join(uris) or 'none'})"
            )
        return rpc("resources/read", {"uri": operation.target})
    what = "tool" if operation.method == "tools/call" else "prompt"
    item = find_named(items, operation.target, what, endpoint)
    build = tool_arguments if what == "tool" else prompt_arguments
    values = {**values, **dict(operation.arguments)}
    return rpc(
        operation.method, {"name": item["name"], "arguments": build(item, values)}
    )


def load_values(path: Path | None) -> dict[str, Any]:
    """The kit's argument values: {"arguments": {NAME: VALUE}} (exit 2 when malformed)."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(
            f"argument values {path}: no such file", ExitCode.USAGE
        ) from None
    except ValueError as exc:
        raise KitError(
            f"argument values {path}: not JSON ({exc})", ExitCode.USAGE
        ) from None
    values = document.get("arguments") if isinstance(document, dict) else None
    if not isinstance(values, dict):
        raise KitError(
            f"argument values {path}: want an object with 'arguments': {{NAME: VALUE}}",
            ExitCode.USAGE,
        )
    return values


def prepare(
    base_url: str, path: str, operation: Operation, values: dict[str, Any], send: Send
) -> tuple[str, dict[str, Any]]:
    """(the resolved path, the JSON-RPC request) of one test."""
    resolved = resolve_path(path, base_url, send)
    return resolved, build_request(operation, f"{base_url}{resolved}", values, send)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit mcp-prepare", description=__doc__)
    parser.add_argument("--url", required=True, help="the gateway's base URL")
    parser.add_argument(
        "--path",
        required=True,
        help="the endpoint, e.g. /servers/{server:bench-virtual}/mcp",
    )
    parser.add_argument(
        "--operation", required=True, help="tools/list, tools/call:TOOL, ..."
    )
    parser.add_argument(
        "--arguments", type=Path, help="the kit's argument values (JSON)"
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="where to write the request"
    )
    parser.add_argument(
        "--protocol-version", default="", help="MCP-Protocol-Version to send"
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per request"
    )
    parser.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="open this many MCP sessions (one per client) and list in the first",
    )
    args = parser.parse_args(argv)
    operation = Operation.parse(args.operation)
    values = load_values(args.arguments)
    token = os.environ.get(TOKEN_ENV, "")
    base_url = args.url.rstrip("/")
    send = http_sender(token, args.protocol_version, args.timeout)
    try:
        resolved = resolve_path(args.path, base_url, send)
        sessions = []
        if args.sessions > 0:
            sessions = open_or_say(
                f"{base_url}{resolved}", token, args.timeout, args.sessions
            )
            send = http_sender(token, args.protocol_version, args.timeout, sessions[0])
        request = build_request(operation, f"{base_url}{resolved}", values, send)
    except NotPrepared as exc:
        print(exc)
        return int(ExitCode.BENCHMARK_FAILED)
    write_text_atomic(args.out, json.dumps(request) + "\n")
    print(f"{resolved}\t{' '.join(sessions)}" if sessions else resolved)
    return int(ExitCode.OK)


def open_or_say(url: str, token: str, timeout: float, count: int) -> list[str]:
    """`count` new sessions at MCP endpoint `url`; NotPrepared saying why there are none."""
    from perfkit.protocol.session import SessionFailed, open_sessions_or_fail

    try:
        return open_sessions_or_fail(url, token, timeout, count)
    except SessionFailed as exc:
        raise NotPrepared(str(exc)) from None
