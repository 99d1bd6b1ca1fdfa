"""The kit's benchmark MCP server: time tools, resources and a prompt over streamable HTTP.

Built on the official ``mcp`` SDK (FastMCP, stateless, JSON responses) so that a request
through the gateway makes a genuine gateway -> MCP server round trip.
"""

from __future__ import annotations

import argparse
import json
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp.server.fastmcp import FastMCP

WORLD_ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
)


class CallCounter:
    """Counts the calls this server served, per kind, for the kit to read at /stats."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def hit(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        ) from exc


def build_server(name: str, host: str, port: int) -> tuple[FastMCP, CallCounter]:
    counter = CallCounter()
    mcp = FastMCP(name, host=host, port=port, stateless_http=True, json_response=True)

    @mcp.tool()
    def get_system_time(timezone_name: str = "UTC") -> str:
        """Current time in an IANA time zone, as ISO 8601."""
        counter.hit("tool:get_system_time")
        return datetime.now(zone(timezone_name)).isoformat()

    @mcp.tool()
    def convert_time(time: str, source_timezone: str, target_timezone: str) -> str:
        """Convert a wall-clock time (HH:MM) on today's date from one time zone to another."""
        counter.hit("tool:convert_time")
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

    @mcp.resource(
        "time://timezone_info", name="timezone_info", mime_type="application/json"
    )
    def timezone_info() -> str:
        """UTC offsets of the server's reference time zones."""
        counter.hit("resource:timezone_info")
        now = datetime.now(UTC)
        return json.dumps(
            {z: str(now.astimezone(zone(z)).utcoffset()) for z in WORLD_ZONES}
        )

    @mcp.resource(
        "time://world_times", name="world_times", mime_type="application/json"
    )
    def world_times() -> str:
        """The current time in the reference time zones."""
        counter.hit("resource:world_times")
        now = datetime.now(UTC)
        return json.dumps({z: now.astimezone(zone(z)).isoformat() for z in WORLD_ZONES})

    @mcp.prompt()
    def compare_timezones(first_timezone: str, second_timezone: str) -> str:
        """Ask for a comparison of the current time in two time zones."""
        counter.hit("prompt:compare_timezones")
        first = datetime.now(zone(first_timezone))
        second = datetime.now(zone(second_timezone))
        return (
            f"It is {first:%H:%M} in {first_timezone} and {second:%H:%M} in {second_timezone}. "
            "Explain the difference between these time zones for a meeting planner."
        )

    return mcp, counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9101)
    parser.add_argument("--name", default="bench-time-1")
    args = parser.parse_args()
    mcp, _ = build_server(args.name, args.host, args.port)
    mcp.run(transport="streamable-http")


if __name__ == "__main__":
    main()
