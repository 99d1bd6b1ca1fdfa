"""`perfkit mcp-setup-cost -n N -c C --url URL --request FILE [--transport T] [--time W]`: what it
costs an MCP client to start - N fresh sessions, C at a time, with the official `mcp` SDK client
(`ClientSession` over its streamable-HTTP client, or over its SSE client for the legacy
transport), as real clients start. What each sample times (--time):

- `session` (the default): from `initialize` (with the answer's session id and
  `notifications/initialized`) to the answer of its first call (the test's request: tools/call,
  resources/read, prompts/get or a listing);
- `connect`: the transport's set-up alone - with `--transport sse`, from the `GET .../sse` to
  the `endpoint` event that announces where to POST messages;
- `call`: the first call alone, once the session is up (over SSE: POSTed to the announced
  message URL, its answer read from the event stream).

`--transport sse` takes the MCP endpoint's URL (`.../mcp`, where the test's request was built and
probed) and connects to the SSE endpoint beside it (`.../sse`).

Writes one CSV row per session in hey's `-o csv` layout on stdout - response-time (the timed
part, seconds), the phases hey measures left 0, status-code 200, offset from the start - so a
round of this driver is judged, compared and reported like a round of hey. A session that fails
(an HTTP refusal: its status; no answer, a timeout or an error result: no row, a transport
error as with hey) says why on stderr. Ending each session (DELETE, the SDK client's close)
happens after its time is taken. The token comes from PERFKIT_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from pydantic import AnyUrl

from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import TOKEN_ENV
from perfkit.protocol.session import describe

TRANSPORTS = ("streamable-http", "sse")
TIMED = ("session", "connect", "call")
HEADER = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"
CALLS = (
    "tools/call",
    "resources/read",
    "prompts/get",
    "tools/list",
    "resources/list",
    "prompts/list",
)


@dataclass(frozen=True)
class Sample:
    offset: float  # seconds from the driver's start to the session's start
    seconds: float | None  # set-up time; None when it failed
    status: int | None  # HTTP status of a refusal
    error: str | None


async def first_call(session: ClientSession, request: dict[str, Any]) -> str | None:
    """Send the test's request in the session; why it failed, or None."""
    method, params = request["method"], request.get("params") or {}
    if method == "tools/call":
        result = await session.call_tool(params["name"], params.get("arguments") or {})
        return f"tool reported an error: {result.content}" if result.isError else None
    if method == "resources/read":
        await session.read_resource(AnyUrl(params["uri"]))
    elif method == "prompts/get":
        await session.get_prompt(params["name"], params.get("arguments") or {})
    elif method == "tools/list":
        await session.list_tools()
    elif method == "resources/list":
        await session.list_resources()
    else:
        await session.list_prompts()
    return None


def sse_url(url: str) -> str:
    """The legacy SSE endpoint beside an MCP streamable-HTTP endpoint (`.../mcp` -> `.../sse`)."""
    base = url.rstrip("/")
    if not base.endswith("/mcp"):
        raise KitError(
            f"--transport sse: {url} is not an MCP endpoint (.../mcp) to find the SSE one beside",
            ExitCode.USAGE,
        )
    return base.removesuffix("/mcp") + "/sse"


@asynccontextmanager
async def transport(
    kind: str, url: str, headers: dict[str, str], timeout: float
) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK client's streams over `kind`; entered once the transport is up (over SSE: the
    `endpoint` event has come)."""
    if kind == "sse":
        async with sse_client(
            sse_url(url), headers=headers, timeout=timeout, sse_read_timeout=timeout
        ) as (read, write):
            yield read, write
    else:
        async with streamablehttp_client(url, headers=headers, timeout=timeout) as (
            read,
            write,
            _,
        ):
            yield read, write


async def one(
    url: str,
    token: str,
    request: dict[str, Any],
    timeout: float,
    start: float,
    kind: str = "streamable-http",
    timed: str = "session",
) -> Sample:
    began = time.perf_counter()
    offset = began - start
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failed = None
    try:
        async with transport(kind, url, headers, timeout) as (read, write):
            took = time.perf_counter() - began
            if timed != "connect":
                async with ClientSession(
                    read, write, read_timeout_seconds=timedelta(seconds=timeout)
                ) as session:
                    await session.initialize()
                    called = time.perf_counter()
                    failed = await first_call(session, request)
                    finished = time.perf_counter()
                took = finished - (called if timed == "call" else began)
    except (httpx.HTTPError, McpError, OSError, TimeoutError, ExceptionGroup) as exc:
        inner: BaseException = exc
        while isinstance(inner, BaseExceptionGroup) and inner.exceptions:
            inner = inner.exceptions[0]
        status = (
            inner.response.status_code
            if isinstance(inner, httpx.HTTPStatusError)
            else None
        )
        return Sample(offset, None, status, describe(exc))
    if failed:
        return Sample(offset, None, None, failed)
    return Sample(offset, took, 200, None)


async def drive(
    url: str,
    token: str,
    request: dict[str, Any],
    count: int,
    clients: int,
    timeout: float,
    kind: str = "streamable-http",
    timed: str = "session",
) -> list[Sample]:
    gate = asyncio.Semaphore(clients)
    start = time.perf_counter()

    async def gated() -> Sample:
        async with gate:
            return await one(url, token, request, timeout, start, kind, timed)

    return list(await asyncio.gather(*(gated() for _ in range(count))))


def csv_rows(samples: list[Sample]) -> list[str]:
    rows = [HEADER]
    for sample in sorted(samples, key=lambda s: s.offset):
        if sample.seconds is not None:
            rows.append(
                f"{sample.seconds:.4f},0,0,0,{sample.seconds:.4f},0,200,{sample.offset:.4f}"
            )
        elif sample.status is not None:
            rows.append(f"0,0,0,0,0,0,{sample.status},{sample.offset:.4f}")
    return rows


def load_request(path: Path) -> dict[str, Any]:
    try:
        request = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KitError(
            f"request {path}: cannot be read as JSON ({exc})", ExitCode.USAGE
        ) from None
    if not isinstance(request, dict) or request.get("method") not in CALLS:
        raise KitError(
            f"request {path}: want a JSON-RPC request of one of {', '.join(CALLS)}",
            ExitCode.USAGE,
        )
    return request


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit mcp-setup-cost", description=__doc__)
    parser.add_argument("--url", required=True, help="the MCP endpoint")
    parser.add_argument(
        "--request", required=True, type=Path, help="the first call (JSON-RPC)"
    )
    parser.add_argument("-n", type=int, required=True, help="sessions to start")
    parser.add_argument("-c", type=int, required=True, help="sessions starting at once")
    parser.add_argument(
        "-t", "--timeout", type=float, default=20.0, help="seconds per request"
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="streamable-http",
        help="the SDK client's transport (sse: the legacy SSE endpoint beside --url)",
    )
    parser.add_argument(
        "--time",
        choices=TIMED,
        default="session",
        help="what a sample times: initialize to the first call's answer, the transport's"
        " set-up, or the first call alone",
    )
    args = parser.parse_args(argv)
    if args.time == "connect" and args.transport != "sse":
        raise KitError(
            "--time connect needs --transport sse: a streamable-HTTP client has no"
            " connection of its own to set up",
            ExitCode.USAGE,
        )
    if args.transport == "sse":
        sse_url(
            args.url
        )  # a URL without an SSE endpoint beside is a usage error at once
    if args.n < 1 or args.c < 1:
        raise KitError(
            f"-n {args.n} -c {args.c}: both must be at least 1", ExitCode.USAGE
        )
    request = load_request(args.request)
    samples = asyncio.run(
        drive(
            args.url,
            os.environ.get(TOKEN_ENV, ""),
            request,
            args.n,
            min(args.c, args.n),
            args.timeout,
            args.transport,
            args.time,
        )
    )
    print("\n".join(csv_rows(samples)))
    errors = [s.error for s in samples if s.error]
    for error in sorted(set(errors)):
        print(f"{errors.count(error)} x {error}", file=sys.stderr)
    return int(ExitCode.OK)
