"""The kit's benchmark MCP server: time tools, resources and a prompt over streamable HTTP.

Built on the official ``mcp`` SDK (FastMCP, stateless, JSON responses) so that a request
through the gateway makes a genuine gateway -> MCP server round trip. Besides the time tools,
resources and prompt, it serves large answers: the resources `payload://1KiB`, `100KiB` and
`1MiB` and the tool `get_payload(size_bytes)`. `GET /stats` returns
how many calls it served, per tool, resource and prompt, and under `requests` every request
its MCP endpoint received, per JSON-RPC method (`initialize`, `notifications/initialized`,
`tools/call`, ...; `DELETE` for a session's end): how many, and the seconds it spent answering
them, from the request's arrival to its answer's last byte. The kit turns those into where a
tool call's time goes (the server's own share, the sessions the gateway opened per call).
`--delay-ms` adds that much waiting to every call: a deliberately slower MCP server, to check
that the kit notices. Beside MCP, two plain routes for the workload rest: `POST /a2a/`, an A2A
agent (JSON-RPC SendMessage, answered with the time), and `GET /openapi.json`, the OpenAPI
document of `GET /stats` (a REST tool's schema is generated from it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import uvicorn
from mcp.server.fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WORLD_ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
)


class CallCounter:
    """Counts the calls this server served, per kind (served at GET /stats)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def hit(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


class RequestLedger:
    """Requests received on the MCP endpoint, per JSON-RPC method: count and seconds spent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._seconds: dict[str, float] = {}

    def add(self, method: str, seconds: float) -> None:
        with self._lock:
            self._counts[method] = self._counts.get(method, 0) + 1
            self._seconds[method] = self._seconds.get(method, 0.0) + seconds

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {
                method: {"count": count, "seconds": round(self._seconds[method], 6)}
                for method, count in self._counts.items()
            }


def rpc_methods(body: bytes) -> list[str]:
    """The JSON-RPC methods of a POST body (a batch has several); an answer a client sends
    back (no method) is `response`, a body that is not JSON-RPC `invalid`."""
    try:
        data = json.loads(body)
    except ValueError:
        return ["invalid"]
    messages = data if isinstance(data, list) else [data]
    names = []
    for message in messages:
        if not isinstance(message, dict):
            names.append("invalid")
        elif isinstance(message.get("method"), str):
            names.append(message["method"])
        else:
            names.append("response")
    return names or ["invalid"]


class TimedEndpoint:
    """ASGI middleware: times every request to PATH and books it in the ledger under its
    JSON-RPC method(s) (a batch's time split evenly); other paths and lifespan pass through."""

    def __init__(self, app: ASGIApp, ledger: RequestLedger, path: str) -> None:
        self.app = app
        self.ledger = ledger
        self.path = path.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        inner_receive = receive
        if scope["method"] == "POST":
            chunks: list[bytes] = []
            message: Message = {"more_body": True}
            while message.get("more_body", False):
                message = await receive()
                if message["type"] != "http.request":
                    break  # the client went away: the app sees the same
                chunks.append(message.get("body", b""))
            body = b"".join(chunks)
            names = rpc_methods(body)
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            inner_receive = replay
        else:
            names = [str(scope["method"])]  # DELETE: a session's end; GET: a stream
        try:
            await self.app(scope, inner_receive, send)
        finally:
            share = (time.perf_counter() - start) / len(names)
            for name in names:
                self.ledger.add(name, share)


# the large answers the mcp scenario measures by size: resources payload://LABEL, and the tool
# get_payload(size_bytes) for the same sizes
PAYLOAD_SIZES = {"1KiB": 1024, "100KiB": 100 * 1024, "1MiB": 1024 * 1024}
MAX_PAYLOAD = 8 * 1024 * 1024


def filler(size: int) -> str:
    """size characters of text (one line, no escapes needed in JSON)."""
    block = "0123456789abcdef"
    return (block * (size // len(block) + 1))[:size]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        ) from exc


def build_server(
    name: str, host: str, port: int, delay_ms: float = 0.0
) -> tuple[FastMCP, CallCounter, RequestLedger]:
    counter = CallCounter()
    ledger = RequestLedger()
    mcp = FastMCP(name, host=host, port=port, stateless_http=True, json_response=True)
    delay_s = delay_ms / 1000.0

    async def served(kind: str) -> None:
        counter.hit(kind)
        if delay_s > 0:
            await asyncio.sleep(delay_s)

    @mcp.tool()
    async def get_system_time(timezone_name: str = "UTC") -> str:
        """Current time in an IANA time zone, as ISO 8601."""
        await served("tool:get_system_time")
        return datetime.now(zone(timezone_name)).isoformat()

    @mcp.tool()
    async def convert_time(
        time: str, source_timezone: str, target_timezone: str
    ) -> str:
        """Convert a wall-clock time (HH:MM) on today's date from one time zone to another."""
        await served("tool:convert_time")
        hour, minute = (int(part) for part in time.split(":", 1))
        today = datetime.now(zone(source_timezone)).date()
        start = datetime(
            today.year,
            today.month,
            today.day,
            hour,
            minute,
            tzinfo=zone(source_timezone),
        )
        return start.astimezone(zone(target_timezone)).isoformat()

    @mcp.tool()
    async def get_payload(size_bytes: int) -> str:
        """A text of size_bytes characters (at most 8 MiB): a large tool result."""
        await served("tool:get_payload")
        if not 0 <= size_bytes <= MAX_PAYLOAD:
            raise ValueError(f"size_bytes {size_bytes} must be 0 to {MAX_PAYLOAD}")
        return filler(size_bytes)

    def payload_resource(label: str, size: int) -> None:
        async def read() -> str:
            await served(f"resource:payload_{label}")
            return filler(size)

        read.__doc__ = f"{label} of text: a large resource."
        mcp.resource(
            f"payload://{label}", name=f"payload_{label}", mime_type="text/plain"
        )(read)

    for label, size in PAYLOAD_SIZES.items():
        payload_resource(label, size)

    @mcp.resource(
        "time://timezone_info", name="timezone_info", mime_type="application/json"
    )
    async def timezone_info() -> str:
        """UTC offsets of the server's reference time zones."""
        await served("resource:timezone_info")
        now = datetime.now(UTC)
        return json.dumps(
            {z: str(now.astimezone(zone(z)).utcoffset()) for z in WORLD_ZONES}
        )

    @mcp.resource(
        "time://world_times", name="world_times", mime_type="application/json"
    )
    async def world_times() -> str:
        """The current time in the reference time zones."""
        await served("resource:world_times")
        now = datetime.now(UTC)
        return json.dumps({z: now.astimezone(zone(z)).isoformat() for z in WORLD_ZONES})

    @mcp.prompt()
    async def compare_timezones(first_timezone: str, second_timezone: str) -> str:
        """Ask for a comparison of the current time in two time zones."""
        await served("prompt:compare_timezones")
        first = datetime.now(zone(first_timezone))
        second = datetime.now(zone(second_timezone))
        return (
            f"It is {first:%H:%M} in {first_timezone} and {second:%H:%M} in {second_timezone}. "
            "Explain the difference between these time zones for a meeting planner."
        )

    @mcp.custom_route("/stats", methods=["GET"])
    async def stats(request: Request) -> JSONResponse:
        """How many calls this server served, per tool, resource and prompt, and the
        requests its MCP endpoint received, per JSON-RPC method, with the time they took."""
        counts = counter.snapshot()
        return JSONResponse(
            {
                "server": name,
                "calls": counts,
                "total": sum(counts.values()),
                "requests": ledger.snapshot(),
            }
        )

    @mcp.custom_route("/a2a/", methods=["POST"])
    async def a2a_agent(request: Request) -> JSONResponse:
        """An A2A agent (JSON-RPC, as the gateway invokes one): any message gets the time
        as the agent's answer."""
        try:
            message = await request.json()
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        ident = message.get("id") if isinstance(message, dict) else None
        text = f"perfkit agent: it is {datetime.now(UTC).isoformat()}"
        return JSONResponse(
            {
                "jsonrpc": "2.0",
                "id": ident,
                "result": {
                    "messageId": f"perfkit-{time.monotonic_ns()}",
                    "role": "ROLE_AGENT",
                    "parts": [{"text": text}],
                },
            }
        )

    @mcp.custom_route("/openapi.json", methods=["GET"])
    async def openapi(request: Request) -> JSONResponse:
        """An OpenAPI document of this server's plain HTTP routes (GET /stats), for tools
        made from it (the gateway's generate-schemas-from-openapi)."""
        answer = {"description": "calls served", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "server": {"type": "string"}, "total": {"type": "integer"}}}}}}  # fmt: skip
        return JSONResponse(
            {
                "openapi": "3.0.3",
                "info": {"title": name, "version": "1"},
                "paths": {
                    "/stats": {
                        "get": {"operationId": "stats", "responses": {"200": answer}}
                    }
                },
            }
        )

    return mcp, counter, ledger


def timed_app(mcp: FastMCP, ledger: RequestLedger) -> ASGIApp:
    """The server's streamable-HTTP app with its MCP endpoint timed into the ledger."""
    return TimedEndpoint(
        mcp.streamable_http_app(), ledger, mcp.settings.streamable_http_path
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9101)
    parser.add_argument("--name", default="bench-time-1")
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        help="extra wait in every call (a slower server)",
    )
    args = parser.parse_args()
    if args.delay_ms < 0:
        parser.error(f"--delay-ms {args.delay_ms} must be 0 or more")
    mcp, _, ledger = build_server(args.name, args.host, args.port, args.delay_ms)
    # what FastMCP.run(transport="streamable-http") does, with the endpoint timed
    uvicorn.run(
        timed_app(mcp, ledger), host=args.host, port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
