"""`perfkit mcp-session open|close`: a stateful MCP session for the mcp scenario's tests.

With `mcp.sessions: stateful` (PERF_MCP_SESSIONS) a test on an MCP endpoint runs inside one
session, as a real client's requests do: before its probe the kit opens the session with the
official `mcp` SDK client (`ClientSession` over its streamable-HTTP client: `initialize`, the
`mcp-session-id` answer header, `notifications/initialized` - no protocol code of the kit's
own), every request of the probe and the rounds carries `Mcp-Session-Id`, and after the last
probe the session is ended with `DELETE` on the endpoint.

`open` prints the session ids (`--count N`: one per client of the test, each client keeps to
its own - a session must not carry two requests with one JSON-RPC id at once) (exit 0). A gateway that answers `initialize` without a session id
runs stateless (USE_STATEFUL_SESSIONS=false): that is said, and the test fails (exit 4), as does
an endpoint that refuses the handshake. `close` prints the DELETE's status: 200 ended, anything
else why not (exit 4). The token comes from the environment (PERFKIT_TOKEN).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import urllib.error
import urllib.request
from datetime import timedelta

import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError

from perfkit.exitcodes import ExitCode
from perfkit.names import TOKEN_ENV
from perfkit.probe import answer_message

STATELESS_GATEWAY = (
    "the gateway answered initialize without a session id: it runs stateless MCP sessions"
    " (USE_STATEFUL_SESSIONS=false); benchmark it with PERF_MCP_SESSIONS=stateless, or start"
    " it with USE_STATEFUL_SESSIONS=true (the local stack does when PERF_MCP_SESSIONS=stateful)"
)


class SessionFailed(Exception):
    """The session could not be opened or closed; the message says why."""


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def open_session(url: str, token: str, timeout: float) -> str:
    """Open a session at MCP endpoint `url` with the SDK client and leave it open."""
    async with (
        streamablehttp_client(
            url, headers=headers(token), timeout=timeout, terminate_on_close=False
        ) as (read, write, session_id),
        ClientSession(
            read, write, read_timeout_seconds=timedelta(seconds=timeout)
        ) as session,
    ):
        await session.initialize()  # initialize, then notifications/initialized
        found = session_id()
    if not found:
        raise SessionFailed(STATELESS_GATEWAY)
    return found


async def open_sessions(url: str, token: str, timeout: float, count: int) -> list[str]:
    """`count` sessions opened at once (one per client of a test); if any fails, the others
    are ended again and the first failure is raised."""
    opened = await asyncio.gather(
        *(open_session(url, token, timeout) for _ in range(count)),
        return_exceptions=True,
    )
    good = [s for s in opened if isinstance(s, str)]
    failed = [s for s in opened if isinstance(s, BaseException)]
    if failed:
        for session in good:
            try:
                close_session(url, token, session, timeout)
            except SessionFailed:
                pass  # the failure that matters is the one raised below
        raise failed[0]
    return good


def open_sessions_or_fail(
    url: str, token: str, timeout: float, count: int = 1
) -> list[str]:
    """open_sessions, every failure a SessionFailed naming the endpoint and the cause."""
    try:
        return asyncio.run(open_sessions(url, token, timeout, count))
    except SessionFailed:
        raise
    except (httpx.HTTPError, McpError, OSError, TimeoutError, ExceptionGroup) as exc:
        raise SessionFailed(
            f"opening an MCP session at {url} failed: {describe(exc)}"
        ) from None


def describe(exc: BaseException) -> str:
    """The innermost error of an SDK failure (anyio wraps them in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def close_session(url: str, token: str, session: str, timeout: float) -> int:
    """DELETE the session; its HTTP status (0: no answer)."""
    request = urllib.request.Request(
        url, headers={**headers(token), "Mcp-Session-Id": session}, method="DELETE"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        said = answer_message(exc.read().decode(errors="replace"))
        raise SessionFailed(
            f"DELETE of session {session} answered HTTP {exc.code}: {said}"
        ) from None
    except OSError as exc:
        raise SessionFailed(
            f"DELETE of session {session} got no answer ({exc})"
        ) from None


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit mcp-session", description=__doc__)
    parser.add_argument("action", choices=("open", "close"))
    parser.add_argument(
        "--url", required=True, help="the MCP endpoint, e.g. .../servers/ID/mcp"
    )
    parser.add_argument(
        "--session",
        action="append",
        default=[],
        help="close: a session id (repeatable)",
    )
    parser.add_argument("--count", type=int, default=1, help="open: how many sessions")
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds per request"
    )
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "")
    try:
        if args.action == "open":
            if args.count < 1:
                parser.error(f"--count {args.count}: open at least one session")
            print(
                " ".join(
                    open_sessions_or_fail(args.url, token, args.timeout, args.count)
                )
            )
        else:
            if not args.session:
                parser.error("close needs --session ID")
            statuses = [
                close_session(args.url, token, session, args.timeout)
                for session in args.session
            ]
            print(" ".join(map(str, statuses)))
    except SessionFailed as exc:
        print(exc)
        return int(ExitCode.BENCHMARK_FAILED)
    return int(ExitCode.OK)
