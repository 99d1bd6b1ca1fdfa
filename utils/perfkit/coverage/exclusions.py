"""Operations the kit leaves out of its load on purpose (config.yaml `coverage.exclude`), each
with its reason: they are reported apart and never silently dropped from the count.

An entry is `{match: PATTERN, reason: TEXT}`; PATTERN is `group:NAME` (a whole group, by the
name coverage reports: `group:llmchat`) or an fnmatch glob over `METHOD /path/template`
(`* /admin/*`, `POST /gateways/{gateway_id}/tools/refresh`). An entry without a reason, or one
that matches nothing in the document, is said: the first is refused (exit 2), the second is a
note (a typo would otherwise exclude nothing).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from perfkit.coverage.openapi import Operation
from perfkit.exitcodes import ExitCode, KitError

GROUP_PREFIX = "group:"


@dataclass(frozen=True)
class Exclusion:
    match: str
    reason: str

    def covers(self, op: Operation) -> bool:
        if self.match.startswith(GROUP_PREFIX):
            return op.group == self.match[len(GROUP_PREFIX) :].strip().lower()
        return fnmatch.fnmatchcase(op.key, self.match)


def parse_exclusions(node: Any, where: str) -> tuple[Exclusion, ...]:
    """config.yaml's `coverage.exclude` (a list of {match, reason}); exit 2 naming the entry."""
    if node is None:
        return ()
    if not isinstance(node, list):
        raise KitError(
            f"{where}: coverage.exclude must be a list of {{match, reason}}, not {node!r}",
            ExitCode.USAGE,
        )
    found = []
    for number, entry in enumerate(node, start=1):
        if not isinstance(entry, dict) or set(entry) - {"match", "reason"}:
            raise KitError(
                f"{where}: coverage.exclude entry {number} must have exactly 'match' and "
                f"'reason', not {entry!r}",
                ExitCode.USAGE,
            )
        match, reason = entry.get("match"), entry.get("reason")
        if not isinstance(match, str) or not match.strip():
            raise KitError(
                f"{where}: coverage.exclude entry {number} has no 'match' (group:NAME or "
                "'METHOD /path' glob)",
                ExitCode.USAGE,
            )
        if not isinstance(reason, str) or not reason.strip():
            raise KitError(
                f"{where}: coverage.exclude entry {number} ({match}) has no reason; every "
                "operation left out says why",
                ExitCode.USAGE,
            )
        found.append(Exclusion(match.strip(), reason.strip()))
    return tuple(found)


def reason_for(op: Operation, exclusions: tuple[Exclusion, ...]) -> str | None:
    return next((e.reason for e in exclusions if e.covers(op)), None)


def unused(exclusions: tuple[Exclusion, ...], ops: list[Operation]) -> list[str]:
    """The entries that match no operation of the document."""
    return [e.match for e in exclusions if not any(e.covers(op) for op in ops)]
