"""The Locust users of a multi-user run: each one a gateway user of `perfkit workflows-people`
(its own token), back to back with no think time, as hey's clients are.

Workload `baseline`: each user's individual operations - list tools, servers and prompts (limit
50), get one of the tools it sees, call the benchmark server's get_system_time over /rpc (a
JSON-RPC error in an HTTP 200 is a failure). Each request is a step named `baseline:<step>` and
carries its user, so the run reports per step and per user. Imported by the driver after
`locust` (whose import patches the process for gevent).
"""

from __future__ import annotations

import itertools
import json
from typing import Any, ClassVar

from locust import FastHttpUser, User, constant, task

from perfkit.probe import rpc_error

PAGE = 50
CALLED_TOOL_SUFFIX = (
    "get-system-time"  # the benchmark MCP server's tool (bench_server.py)
)


class Roster:
    """The gateway users the Locust users take in turn: (email, token)."""

    people: ClassVar[list[tuple[str, str]]] = []
    turn: ClassVar[itertools.count[int]] = itertools.count()

    @classmethod
    def next(cls) -> tuple[str, str]:
        return cls.people[next(cls.turn) % len(cls.people)]


class BaselineUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.email, token = Roster.next()
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        }
        self.tool_id = ""
        self.tool_name = ""

    def _json(self, step: str, method: str, path: str, body: Any = None) -> Any:
        """One request as step `baseline:<step>`; its JSON, or None when it failed."""
        kwargs: dict[str, Any] = {
            "name": f"baseline:{step}",
            "headers": self.headers,
            "catch_response": True,
            "context": {"user": self.email},
        }
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"] = {**self.headers, "Content-Type": "application/json"}
        with self.client.request(method, path, **kwargs) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
                return None
            try:
                document = json.loads(answer.text or "null")
            except ValueError:
                answer.failure("not JSON")
                return None
            why = rpc_error(document, "200")
            if why:
                answer.failure(why)
                return None
            answer.success()
            return document

    @task(3)
    def list_tools(self) -> None:
        tools = self._json("list_tools", "GET", f"/tools?limit={PAGE}")
        if isinstance(tools, list) and tools:
            self.tool_id = str(tools[0].get("id", ""))
            called = [
                t for t in tools if str(t.get("name", "")).endswith(CALLED_TOOL_SUFFIX)
            ]
            self.tool_name = str(called[0]["name"]) if called else self.tool_name

    @task(2)
    def list_servers(self) -> None:
        self._json("list_servers", "GET", f"/servers?limit={PAGE}")

    @task(2)
    def list_prompts(self) -> None:
        self._json("list_prompts", "GET", f"/prompts?limit={PAGE}")

    @task(2)
    def get_tool(self) -> None:
        if self.tool_id:
            self._json("get_tool", "GET", f"/tools/{self.tool_id}")

    @task(1)
    def call_tool(self) -> None:
        if self.tool_name:
            self._json(
                "call_tool",
                "POST",
                "/rpc",
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {
                        "name": self.tool_name,
                        "arguments": {"timezone_name": "UTC"},
                    },
                },
            )


WORKLOADS: dict[str, list[type[User]]] = {"baseline": [BaselineUser]}
