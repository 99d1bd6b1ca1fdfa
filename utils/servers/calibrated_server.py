"""A calibrated HTTP target: answers after a latency we set, for `make calibrate`.

Stdlib only (asyncio streams), HTTP/1.1 with keep-alive, loopback by default.

  GET  /delay               sleep delay_ms, then a small JSON body
  POST /set?delay_ms=22     change the delay at runtime (one process serves A, then B)
  GET  /health              {"status": "ok", "delay_ms": ..., "pid": ...}

usage: python utils/servers/calibrated_server.py [--host 127.0.0.1] [--port 18080] [--delay-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

PROG = "calibrated_server.py"
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
IDLE_TIMEOUT_S = 30.0
MAX_DELAY_MS = 10_000.0
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    version: str
    headers: dict[str, str]


@dataclass
class State:
    delay_ms: float
    served: int = 0


class BadRequest(Exception):
    pass


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One request from the stream, or None when the client closed the connection."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT_S)
    except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("headers too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest(f"bad request line {lines[0]!r}") from exc
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or "0")
    if length < 0 or length > MAX_BODY_BYTES:
        raise BadRequest(f"content-length {length} out of range")
    if length:
        await reader.readexactly(length)  # the body is not used
    url = urlsplit(target)
    return Request(method.upper(), url.path, parse_qs(url.query), version, headers)


def keep_alive(request: Request) -> bool:
    connection = request.headers.get("connection", "").lower()
    if request.version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def encode(status: int, payload: dict[str, object], alive: bool) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS[status]}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if alive else 'close'}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def parse_delay(values: list[str] | None) -> float:
    if not values:
        raise ValueError("missing delay_ms (e.g. POST /set?delay_ms=22)")
    try:
        delay = float(values[0])
    except ValueError:
        raise ValueError(f"delay_ms {values[0]!r} is not a number") from None
    if not 0.0 <= delay <= MAX_DELAY_MS:
        raise ValueError(f"delay_ms {delay} outside 0..{MAX_DELAY_MS:g}")
    return delay


async def answer(request: Request, state: State) -> tuple[int, dict[str, object]]:
    if request.path == "/delay":
        if request.method != "GET":
            return 405, {"error": "use GET /delay"}
        delay = state.delay_ms
        await asyncio.sleep(delay / 1000.0)
        state.served += 1
        return 200, {"delay_ms": delay}
    if request.path == "/set":
        if request.method != "POST":
            return 405, {"error": "use POST /set?delay_ms=N"}
        try:
            state.delay_ms = parse_delay(request.query.get("delay_ms"))
        except ValueError as exc:
            return 400, {"error": str(exc)}
        return 200, {"delay_ms": state.delay_ms}
    if request.path == "/health":
        return 200, {
            "status": "ok",
            "delay_ms": state.delay_ms,
            "served": state.served,
            "pid": os.getpid(),
        }
    return 404, {"error": f"no route {request.path}; have /delay, /set, /health"}


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: State
) -> None:
    try:
        while True:
            try:
                request = await read_request(reader)
            except BadRequest as exc:
                writer.write(encode(400, {"error": str(exc)}, False))
                await writer.drain()
                break
            if request is None:
                break
            alive = keep_alive(request)
            status, payload = await answer(request, state)
            writer.write(encode(status, payload, alive))
            await writer.drain()
            if not alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def serve(host: str, port: int, delay_ms: float) -> None:
    state = State(delay_ms)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(r, w, state),
        host,
        port,
        limit=MAX_HEADER_BYTES,
        backlog=256,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"{PROG}: listening on http://{host}:{port} (delay {delay_ms:g} ms)",
        file=sys.stderr,
    )
    async with server:
        await stop.wait()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not 0.0 <= args.delay_ms <= MAX_DELAY_MS:
        parser.error(f"--delay-ms {args.delay_ms} outside 0..{MAX_DELAY_MS:g}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.delay_ms))
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {args.host}:{args.port}: {exc.strerror}; "
            "choose another --port",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
