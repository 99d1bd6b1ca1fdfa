#!/usr/bin/env python3
"""register_servers.py --gateway URL [--gateway URL ...] --server NAME=URL [--server ...]
[--email EMAIL] [--wait SECONDS] [--retry-delay SECONDS]

Register benchmark MCP servers with ContextForge gateways: the Docker Compose stack's one-shot
`register` service runs it (perfkit compose generate). For every gateway it logs in once
(POST /auth/login with --email or PLATFORM_ADMIN_EMAIL and the password in
PLATFORM_ADMIN_PASSWORD, never on the command line), reads the names already registered
(GET /gateways), and POSTs /gateways {"name", "url", "transport": "STREAMABLEHTTP"} for every
server not there yet. A gateway still starting, or a server it cannot reach yet, is retried
until --wait seconds have passed. Then it makes the virtual server bench-virtual bundle every
tool, resource and prompt (POST /servers, or PUT /servers/ID when it is there), as the local
stack does: the mcp scenario benchmarks its endpoint /servers/<id>/mcp.

Exit 0 when every server is registered with every gateway; 3 naming what failed (the kit's
"environment not ready"); 2 on bad arguments. Standard library only: it runs in the benchmark
MCP server's image.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROG = "register_servers.py"
EXIT_USAGE, EXIT_NOT_READY = 2, 3  # perfkit.exitcodes USAGE and ENV_NOT_READY
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
HTTP_URL = re.compile(r"https?://[^/\s:]+(:[0-9]{1,5})?(/\S*)?")
VIRTUAL_SERVER = "bench-virtual"
REGISTERED = {200, 201, 202}  # 202: the gateway finishes it in the background
RETRIED = {0, 429, 500, 502, 503, 504}  # 0: no answer at all


class Failure(Exception):
    """Registration could not be done; the message says what and where."""


@dataclass(frozen=True)
class Server:
    name: str
    url: str


@dataclass(frozen=True)
class Args:
    gateways: tuple[str, ...]
    servers: tuple[Server, ...]
    email: str
    password: str
    wait: float
    retry_delay: float


def gateway_url(text: str) -> str:
    if not HTTP_URL.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL, e.g. http://gateway:4444"
        )
    return text.rstrip("/")


def server_spec(text: str) -> Server:
    name, sep, url = text.partition("=")
    if not sep or not NAME.fullmatch(name) or not HTTP_URL.fullmatch(url):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=URL, e.g. bench-time-1=http://bench-server-1:9101/mcp"
        )
    return Server(name, url)


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def parse_args(argv: list[str], environ: Mapping[str, str]) -> Args:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[1])
    parser.add_argument("--gateway", action="append", required=True, type=gateway_url)
    parser.add_argument("--server", action="append", required=True, type=server_spec)
    parser.add_argument("--email", default=environ.get("PLATFORM_ADMIN_EMAIL", ""))
    parser.add_argument("--wait", type=seconds, default=120.0, help="retry this long")
    parser.add_argument("--retry-delay", type=seconds, default=2.0)
    args = parser.parse_args(argv)
    names = [s.name for s in args.server]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        parser.error(f"server name(s) given twice: {', '.join(twice)}")
    if not args.email:
        parser.error("no admin email: pass --email or set PLATFORM_ADMIN_EMAIL")
    password = environ.get("PLATFORM_ADMIN_PASSWORD", "")
    if not password:
        parser.error("no admin password: set PLATFORM_ADMIN_PASSWORD")
    gateways = tuple(dict.fromkeys(args.gateway))
    return Args(
        gateways, tuple(args.server), args.email, password, args.wait, args.retry_delay
    )


def call(method: str, url: str, body: Any = None, token: str = "") -> tuple[int, str]:
    """(HTTP status, body text); status 0 when nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(getattr(exc, "reason", exc))


def retrying(args: Args, what: str, attempt: Any) -> tuple[int, str]:
    """Run attempt() until it answers something other than a RETRIED status or time is up."""
    deadline = time.monotonic() + args.wait
    while True:
        status, text = attempt()
        if status not in RETRIED or time.monotonic() + args.retry_delay > deadline:
            return status, text
        log(f"{what}: {'no answer' if status == 0 else f'HTTP {status}'}, retrying")
        time.sleep(args.retry_delay)


def excerpt(status: int, text: str) -> str:
    return f"{'no answer' if status == 0 else f'HTTP {status}'}: {text.strip()[:300]}"


def login(args: Args, gateway: str) -> str:
    body = {"email": args.email, "password": args.password}
    status, text = retrying(
        args, f"{gateway} login", lambda: call("POST", f"{gateway}/auth/login", body)
    )
    if status in (401, 403):
        raise Failure(
            f"{gateway}: login as {args.email} refused ({excerpt(status, text)}); check"
            " PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD (the gateway's admin login)"
        )
    try:
        token = json.loads(text)["access_token"] if status == 200 else ""
    except (ValueError, KeyError, TypeError):
        token = ""
    if not token:
        raise Failure(f"{gateway}: login gave no token ({excerpt(status, text)})")
    return str(token)


def rows_of(doc: Any, key: str = "gateways") -> list[dict[str, Any]]:
    """The entries of a list answer: a list, or a page with `items` / KEY."""
    rows = doc if isinstance(doc, list) else []
    if isinstance(doc, dict):
        rows = doc.get("items") or doc.get(key) or []
    return [row for row in rows if isinstance(row, dict)]


def registered_names(doc: Any, key: str = "gateways") -> set[str]:
    """Names in a GET /gateways (or /servers) answer."""
    return {str(row["name"]) for row in rows_of(doc, key) if "name" in row}


def listed(args: Args, gateway: str, token: str, kind: str) -> Any:
    """The JSON of GET /KIND?limit=0 (every entry), retried while the gateway starts."""
    url = f"{gateway}/{kind}?limit=0"
    status, text = retrying(
        args, f"{gateway} GET /{kind}", lambda: call("GET", url, token=token)
    )
    try:
        doc = json.loads(text) if status == 200 else None
    except ValueError:
        doc = None
    if doc is None:
        raise Failure(f"{gateway}: GET /{kind} failed ({excerpt(status, text)})")
    return doc


def ensure_virtual_server(args: Args, gateway: str, token: str) -> str:
    """Make the virtual server bench-virtual bundle every tool, resource and prompt: create it,
    or update the one the gateway has (a stack given more servers); says which."""
    existing = [
        str(row["id"])
        for row in rows_of(listed(args, gateway, token, "servers"), "servers")
        if row.get("name") == VIRTUAL_SERVER and "id" in row
    ]
    ids = {
        kind: [
            str(row["id"])
            for row in rows_of(listed(args, gateway, token, kind), kind)
            if "id" in row
        ]
        for kind in ("tools", "resources", "prompts")
    }
    fields = {
        "associated_tools": ids["tools"],
        "associated_resources": ids["resources"],
        "associated_prompts": ids["prompts"],
    }
    if existing:
        what = "updated"
        status, text = call("PUT", f"{gateway}/servers/{existing[0]}", fields, token)
    else:
        what = "created"
        body = {
            "server": {
                "name": VIRTUAL_SERVER,
                "description": "MCP Gateway Performance Kit",
                **fields,
            }
        }
        status, text = call("POST", f"{gateway}/servers", body, token)
    if status not in REGISTERED:
        raise Failure(
            f"{gateway}: the virtual server {VIRTUAL_SERVER} could not be {what}"
            f" ({excerpt(status, text)})"
        )
    return what


def known_names(args: Args, gateway: str, token: str) -> set[str]:
    url = f"{gateway}/gateways?limit=0&include_inactive=true"
    status, text = retrying(
        args, f"{gateway} GET /gateways", lambda: call("GET", url, token=token)
    )
    try:
        doc = json.loads(text) if status == 200 else None
    except ValueError:
        doc = None
    if doc is None:
        raise Failure(f"{gateway}: GET /gateways failed ({excerpt(status, text)})")
    return registered_names(doc)


def register(args: Args, gateway: str, token: str, server: Server) -> bool:
    """True when registered now, False on HTTP 409: the name is there already (checked after
    all registrations), or the URL is, under another name."""
    body = {"name": server.name, "url": server.url, "transport": "STREAMABLEHTTP"}
    status, text = retrying(
        args,
        f"{gateway} registering {server.name}",
        lambda: call("POST", f"{gateway}/gateways", body, token),
    )
    if status in REGISTERED:
        return True
    if status == 409:
        return False
    raise Failure(
        f"{gateway}: registering {server.name} ({server.url}) failed ({excerpt(status, text)})"
    )


def register_all(args: Args, gateway: str) -> tuple[int, int]:
    """(registered now, already there) for one gateway; every server's name must be listed
    by the gateway at the end."""
    token = login(args, gateway)
    known = known_names(args, gateway, token)
    added = 0
    for server in args.servers:
        if server.name in known or not register(args, gateway, token, server):
            continue
        added += 1
        log(f"{gateway}: registered {server.name} ({server.url})")
    listed = known_names(args, gateway, token)
    missing = [s for s in args.servers if s.name not in listed]
    if missing:
        raise Failure(
            f"{gateway}: not registered: {', '.join(f'{s.name} ({s.url})' for s in missing)};"
            " the gateway answered 409, so it has that URL under another name: delete that"
            " entry (DELETE /gateways/ID) or use another URL"
        )
    what = ensure_virtual_server(args, gateway, token)
    log(f"{gateway}: {what} the virtual server {VIRTUAL_SERVER}")
    return added, len(args.servers) - added


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def main(
    argv: list[str] | None = None, environ: Mapping[str, str] | None = None
) -> int:
    try:
        args = parse_args(
            sys.argv[1:] if argv is None else argv,
            os.environ if environ is None else environ,
        )
    except SystemExit as exc:  # argparse: its message is printed already
        return EXIT_USAGE if exc.code else 0
    try:
        for gateway in args.gateways:
            added, present = register_all(args, gateway)
            print(f"{gateway}: {added} registered, {present} already there")
    except Failure as exc:
        log(f"error: {exc}")
        return EXIT_NOT_READY
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
