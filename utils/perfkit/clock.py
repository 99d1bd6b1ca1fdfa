"""Time stamps as the kit writes them (ISO 8601, UTC): one definition for every file."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(epoch: float) -> str:
    """Milliseconds and a Z, for samples and rounds: 2026-11-21T11:42:11.868Z."""
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_seconds(epoch: float) -> str:
    """Whole seconds and +00:00, for runs, baselines and logs: 2026-11-21T11:42:11+00:00."""
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")


def now_iso() -> str:
    """The current time as iso_seconds writes it."""
    return datetime.now(UTC).isoformat(timespec="seconds")
