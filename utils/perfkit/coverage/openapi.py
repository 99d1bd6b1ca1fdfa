"""The gateway's OpenAPI document as a list of operations, and which operation a request was.

An operation is a method and a path template (`GET /servers/{server_id}/tools`). Its group is
its first tag as the gateway names it (FastAPI routers tag their routes: "Tools", "A2A Agents",
"RBAC"), in lower case; an untagged operation's group is its path's first segment. A concrete
request (`GET /servers/3f2a/tools?limit=10`) is matched to the template it fills - the most
literal one when several fit (`/tools/plugin_bindings` before `/tools/{tool_id}`).

Two facts of the gateway's document shape the count (release 1.0.7):
- FastAPI lists a route with and without its trailing slash (`GET /v1/tools` and
  `GET /v1/tools/`): one handler, counted as one operation (the slash-less path).
- The REST API is documented under `/v1`; the unversioned paths (`/tools`) are deprecated
  aliases the gateway still serves (LEGACY_API_ENABLED) but does not document. A request to
  one counts for the `/v1` operation it stands for, and is reported as made through the alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from perfkit.exitcodes import ExitCode, KitError

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
VERSION_PREFIX = (
    "/v1"  # where the documented REST API lives; unversioned paths alias it
)
_PARAM = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # the template, as the document writes it
    group: str
    operation_id: str = ""
    summary: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = _PARAM.split(self.path)
        return re.compile("[^/]+".join(re.escape(p) for p in parts) + "/?")

    @property
    def literal_length(self) -> int:
        return len(_PARAM.sub("", self.path))


def group_of(path: str, tags: list[Any]) -> str:
    if tags and isinstance(tags[0], str) and tags[0].strip():
        return tags[0].strip().lower()
    segment = next((s for s in path.split("/") if s), "")
    return segment.lower() or "root"


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI 3 document, in its order; refused (exit 3) when it is not
    one - an error page or a login form answered instead."""
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(document.get("openapi"), str) or not isinstance(paths, dict):
        raise KitError(
            "not an OpenAPI 3 document (no 'openapi' version and 'paths')",
            ExitCode.ENV_NOT_READY,
        )
    found: dict[str, Operation] = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        # a route's trailing-slash twin is the same operation
        path = str(path).rstrip("/") or "/"
        for method in METHODS:
            spec = item.get(method)
            if not isinstance(spec, dict):
                continue
            op = Operation(
                method=method.upper(),
                path=path,
                group=group_of(path, spec.get("tags") or []),
                operation_id=str(spec.get("operationId") or ""),
                summary=str(spec.get("summary") or ""),
            )
            found.setdefault(op.key, op)
    return list(found.values())


class Matcher:
    """Which operation of the document a concrete request is (None: the document has none)."""

    def __init__(self, ops: list[Operation]) -> None:
        self._by_method: dict[str, list[Operation]] = {}
        for op in sorted(ops, key=lambda o: -o.literal_length):
            self._by_method.setdefault(op.method, []).append(op)

    def match(self, method: str, url_or_path: str) -> Operation | None:
        """The operation the request is - through an unversioned alias too (legacy())."""
        path = urlsplit(url_or_path).path or "/"
        return self._find(method, path) or (
            None
            if path.startswith(VERSION_PREFIX + "/")
            else self._find(method, VERSION_PREFIX + path)
        )

    def legacy(self, method: str, url_or_path: str) -> bool:
        """Whether the request reached its operation through an unversioned alias."""
        path = urlsplit(url_or_path).path or "/"
        return self._find(method, path) is None and self.match(method, path) is not None

    def _find(self, method: str, path: str) -> Operation | None:
        return next(
            (
                op
                for op in self._by_method.get(method.upper(), [])
                if op.pattern.fullmatch(path)
            ),
            None,
        )
