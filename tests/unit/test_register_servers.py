"""utils/docker/register_servers.py (the Compose stack's one-shot `register` service): its
arguments, and its conversation with a fake gateway on an ephemeral loopback port that answers
/auth/login and /gateways the way ContextForge does (list, 409 on a known name or URL)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = (
    Path(__file__).resolve().parents[2] / "utils" / "docker" / "register_servers.py"
)
ENV = {
    "PLATFORM_ADMIN_EMAIL": "admin@example.com",
    "PLATFORM_ADMIN_PASSWORD": "s3cret!",
}
TOKEN = "token-123"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("register_servers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


register_servers = load_script()


@dataclass
class FakeGateway:
    """What the fake gateway holds and what it was asked."""

    registered: list[dict[str, str]] = field(default_factory=list)
    failures_before_success: int = 0  # POST /gateways answers 503 this many times first
    calls: list[str] = field(default_factory=list)
    url: str = ""
    virtual: list[dict[str, Any]] = field(default_factory=list)  # POST /servers bodies

    def answer(self, method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        self.calls.append(f"{method} {path}")
        if path == "/auth/login":
            admin = ENV["PLATFORM_ADMIN_EMAIL"], ENV["PLATFORM_ADMIN_PASSWORD"]
            if body == {"email": admin[0], "password": admin[1]}:
                return 200, {"access_token": TOKEN, "token_type": "bearer"}
            return 401, {"detail": "Invalid email or password"}
        if auth != f"Bearer {TOKEN}":
            return 401, {"detail": "Not authenticated"}
        if method == "GET" and path.startswith("/gateways?"):
            return 200, self.registered
        if method == "GET" and path == "/servers?limit=0":
            return 200, [{"id": "v1", **v["server"]} for v in self.virtual]
        for kind in ("tools", "resources", "prompts"):  # one each per registered server
            if method == "GET" and path == f"/{kind}?limit=0":
                return 200, [{"id": f"{kind}-{g['name']}"} for g in self.registered]
        if method == "POST" and path == "/servers":
            self.virtual.append(body)
            return 201, {"id": "v1", **body["server"]}
        if method == "PUT" and path == "/servers/v1" and self.virtual:
            self.virtual[0]["server"].update(body)
            return 200, {"id": "v1", **self.virtual[0]["server"]}
        if method == "POST" and path == "/gateways":
            if any(g["name"] == body["name"] for g in self.registered):
                return 409, {"message": "Gateway name already exists"}
            if any(g["url"] == body["url"] for g in self.registered):
                return 409, {"message": "Gateway already exists"}
            if self.failures_before_success > 0:
                self.failures_before_success -= 1
                return 503, {"message": "Unable to connect to gateway"}
            assert body["transport"] == "STREAMABLEHTTP"
            self.registered.append({"name": body["name"], "url": body["url"]})
            return 200, {"id": str(len(self.registered)), **body}
        return 404, {"detail": "Not Found"}


@pytest.fixture()
def fake() -> Iterator[FakeGateway]:
    state = FakeGateway()

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            auth = self.headers.get("Authorization", "")
            status, doc = state.answer(method, self.path, auth, body)
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.handle_one("GET")

        def do_POST(self) -> None:
            self.handle_one("POST")

        def do_PUT(self) -> None:
            self.handle_one("PUT")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # an ephemeral port
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def servers(*indexes: int) -> list[str]:
    args = []
    for i in indexes:
        args += ["--server", f"bench-time-{i}=http://bench-server-{i}:{9100 + i}/mcp"]
    return args


def run(*args: str, env: dict[str, str] | None = None) -> int:
    return int(register_servers.main([*args, "--retry-delay", "0.01"], env or ENV))


def test_registers_what_is_missing_and_skips_known_names(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.registered.append(
        {"name": "bench-time-1", "url": "http://bench-server-1:9101/mcp"}
    )
    assert run("--gateway", fake.url, *servers(1, 2, 3)) == 0
    assert [g["name"] for g in fake.registered] == [
        f"bench-time-{i}" for i in (1, 2, 3)
    ]
    assert fake.registered[2]["url"] == "http://bench-server-3:9103/mcp"
    assert fake.calls.count("POST /gateways") == 2
    assert fake.calls.count("POST /auth/login") == 1
    assert capsys.readouterr().out == f"{fake.url}: 2 registered, 1 already there\n"
    # then the virtual server the mcp scenario benchmarks, bundling everything registered
    [virtual] = fake.virtual
    assert virtual["server"]["name"] == "bench-virtual"
    assert virtual["server"]["associated_tools"] == [
        f"tools-bench-time-{i}" for i in (1, 2, 3)
    ]
    assert virtual["server"]["associated_prompts"] == [
        f"prompts-bench-time-{i}" for i in (1, 2, 3)
    ]


def test_an_existing_virtual_server_is_made_to_bundle_the_servers_added(
    fake: FakeGateway,
) -> None:
    fake.virtual.append({"server": {"name": "bench-virtual", "associated_tools": []}})
    assert run("--gateway", fake.url, *servers(1, 2)) == 0
    assert len(fake.virtual) == 1
    assert "POST /servers" not in fake.calls and "PUT /servers/v1" in fake.calls
    assert fake.virtual[0]["server"]["associated_tools"] == [
        "tools-bench-time-1",
        "tools-bench-time-2",
    ]


def test_every_gateway_gets_every_server(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    second = FakeGateway()
    original = fake.answer

    def two_gateways(method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        if path.startswith("/second"):
            return second.answer(method, path.removeprefix("/second"), auth, body)
        return original(method, path, auth, body)

    fake.answer = two_gateways  # type: ignore[method-assign]
    assert (
        run("--gateway", fake.url, "--gateway", f"{fake.url}/second/", *servers(1, 2))
        == 0
    )
    for gateway in (fake, second):
        assert [g["name"] for g in gateway.registered] == [
            "bench-time-1",
            "bench-time-2",
        ]
    assert capsys.readouterr().out.count("2 registered, 0 already there") == 2


def test_a_server_the_gateway_cannot_reach_yet_is_retried(fake: FakeGateway) -> None:
    fake.failures_before_success = 3
    assert run("--gateway", fake.url, *servers(1)) == 0
    assert fake.calls.count("POST /gateways") == 4
    assert [g["name"] for g in fake.registered] == ["bench-time-1"]


def test_giving_up_after_wait_names_the_server_and_the_answer(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.failures_before_success = 10_000
    assert run("--gateway", fake.url, *servers(1), "--wait", "0.2") == 3
    err = capsys.readouterr().err
    assert (
        f"error: {fake.url}: registering bench-time-1 (http://bench-server-1:9101/mcp)"
        in err
    )
    assert "HTTP 503" in err and "Unable to connect" in err


def test_a_wrong_password_fails_at_once_without_registering(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {**ENV, "PLATFORM_ADMIN_PASSWORD": "wrong"}
    assert run("--gateway", fake.url, *servers(1), env=env) == 3
    assert fake.calls == ["POST /auth/login"]
    err = capsys.readouterr().err
    assert "login as admin@example.com refused (HTTP 401" in err
    assert "PLATFORM_ADMIN_PASSWORD" in err


def test_a_url_known_under_another_name_is_a_failure(
    fake: FakeGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.registered.append(
        {"name": "old-name", "url": "http://bench-server-1:9101/mcp"}
    )
    assert run("--gateway", fake.url, *servers(1, 2)) == 3
    err = capsys.readouterr().err
    assert "not registered: bench-time-1 (http://bench-server-1:9101/mcp)" in err
    assert "bench-time-2" not in err.split("not registered:")[1]
    assert [g["name"] for g in fake.registered] == ["old-name", "bench-time-2"]


def test_a_gateway_that_never_answers(capsys: pytest.CaptureFixture[str]) -> None:
    # a free ephemeral port, closed again: nothing listens there
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert (
        run("--gateway", f"http://127.0.0.1:{port}", *servers(1), "--wait", "0.1") == 3
    )
    err = capsys.readouterr().err
    assert f"http://127.0.0.1:{port}: login gave no token (no answer" in err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (servers(1), ENV, "the following arguments are required: --gateway"),
        (["--gateway", "http://g:4444"], ENV, "the following arguments are required: --server"),
        (["--gateway", "g:4444", *servers(1)], ENV, "'g:4444' is not an http(s) URL"),
        (["--gateway", "http://g:4444", "--server", "bench-time-1"], ENV, "is not NAME=URL"),
        (["--gateway", "http://g:4444", "--server", "a b=http://s:1/mcp"], ENV, "is not NAME=URL"),
        (["--gateway", "http://g:4444", *servers(1, 1)], ENV, "given twice: bench-time-1"),
        (["--gateway", "http://g:4444", *servers(1), "--wait", "-1"], ENV, "'-1' is not a number of seconds"),
        (["--gateway", "http://g:4444", *servers(1)], {"PLATFORM_ADMIN_EMAIL": "a@b.c"},
         "no admin password: set PLATFORM_ADMIN_PASSWORD"),
        (["--gateway", "http://g:4444", *servers(1)], {"PLATFORM_ADMIN_PASSWORD": "x"},
         "no admin email: pass --email or set PLATFORM_ADMIN_EMAIL"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_naming_them(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    assert register_servers.main(args, env) == 2
    assert message in capsys.readouterr().err


def test_arguments_are_parsed_into_gateways_and_servers() -> None:
    args = register_servers.parse_args(
        ["--gateway", "http://g:4444/", "--gateway", "http://g:4444", *servers(2),
         "--email", "ops@example.com"], ENV,
    )  # fmt: skip
    assert args.gateways == ("http://g:4444",)  # the same gateway once
    assert args.servers == (
        register_servers.Server("bench-time-2", "http://bench-server-2:9102/mcp"),
    )
    assert (args.email, args.password, args.wait) == (
        "ops@example.com",
        "s3cret!",
        120.0,
    )


@pytest.mark.parametrize(
    "doc",
    [
        [{"name": "a"}, {"name": "b"}],
        {"items": [{"name": "a"}, {"name": "b"}], "nextCursor": None},
        {"gateways": [{"name": "a"}, {"name": "b"}, {"id": "no name"}]},
    ],
)
def test_registered_names_from_each_answer_shape(doc: Any) -> None:
    assert register_servers.registered_names(doc) == {"a", "b"}
