"""utils/docker/register_servers.py (the Compose stack's `register` service) against the real
gateway of the main local stack: it logs in, registers the running benchmark MCP server under a
fresh name, and GET /gateways lists it. The entry is deleted again: the stack is left as found.

The gateway refuses a second registration of one URL (409 "Gateway already exists") and
bench-time-1 holds http://127.0.0.1:9101/mcp, so the test's URL adds a query string: another
URL to the gateway, the same MCP server."""

from __future__ import annotations

import json
import sys
import urllib.request
import uuid
from typing import Any

import yaml
from conftest import KIT_ROOT, kit_env, run

SCRIPT = KIT_ROOT / "utils" / "docker" / "register_servers.py"


def api(method: str, url: str, token: str) -> Any:
    request = urllib.request.Request(url, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def named(stack_url: str, token: str, name: str) -> list[dict[str, Any]]:
    listing = api("GET", f"{stack_url}/gateways?limit=0&include_inactive=true", token)
    return [g for g in listing if g["name"] == name]


def test_register_servers_against_the_real_gateway(stack_url: str) -> None:
    auth = yaml.safe_load((KIT_ROOT / "config.yaml").read_text())["auth"]
    login = run(["utils/setup-auth.sh", "--url", stack_url, "--print"], kit_env())
    assert login.code == 0, login.stderr
    token = login.stdout.strip()
    name = f"perfkit-register-test-{uuid.uuid4().hex[:8]}"
    env = kit_env(
        PLATFORM_ADMIN_EMAIL=auth["email"], PLATFORM_ADMIN_PASSWORD=auth["password"]
    )
    server = f"{name}=http://127.0.0.1:9101/mcp?test={name}"
    args = ["--gateway", stack_url, "--server", server, "--wait", "60"]
    result = run([sys.executable, str(SCRIPT), *args], env, timeout=180)
    try:
        assert result.code == 0, result.stderr
        assert result.stdout.strip() == f"{stack_url}: 1 registered, 0 already there"
        [entry] = named(stack_url, token, name)
        assert ":9101/mcp" in entry["url"]
    finally:
        for entry in named(stack_url, token, name):
            api("DELETE", f"{stack_url}/gateways/{entry['id']}", token)
    assert named(stack_url, token, name) == []
