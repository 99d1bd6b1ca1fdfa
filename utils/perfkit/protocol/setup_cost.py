"""`perfkit mcp-setup-cost -n N -c C --url URL --request FILE`: what it costs an MCP client to
start - N fresh sessions, C at a time, each timed from `initialize` (with the answer's session
id and `notifications/initialized`) to the answer of its first call (the test's request:
tools/call, resources/read, prompts/get or a listing), with the official `mcp` SDK client
(`ClientSession` over its streamable-HTTP client), as real clients start.

Writes one CSV row per session in hey's `-o csv` layout on stdout - response-time (the set-up,
seconds), the phases hey measures left 0, status-code 200, offset from the start - so a round
of this driver is judged, compared and reported like a round of hey. A session that fails
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from pydantic import AnyUrl

from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import TOKEN_ENV
from perfkit.protocol.session import describe

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


async def one(
    url: str, token: str, request: dict[str, Any], timeout: float, start: float
) -> Sample:
    began = time.perf_counter()
    offset = began - start
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with (
            streamablehttp_client(url, headers=headers, timeout=timeout) as (
                read,
                write,
                _,
            ),
            ClientSession(
                read, write, read_timeout_seconds=timedelta(seconds=timeout)
            ) as session,
        ):
            await session.initialize()
            failed = await first_call(session, request)
            took = time.perf_counter() - began
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
) -> list[Sample]:
    gate = asyncio.Semaphore(clients)
    start = time.perf_counter()

    async def gated() -> Sample:
        async with gate:
            return await one(url, token, request, timeout, start)

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
    args = parser.parse_args(argv)
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
        )
    )
    print("\n".join(csv_rows(samples)))
    errors = [s.error for s in samples if s.error]
    for error in sorted(set(errors)):
        print(f"{errors.count(error)} x {error}", file=sys.stderr)
    return int(ExitCode.OK)
