"""Where baselines live and how one changes: history first, then an atomic write, then a log line.

`install` is the one way a baseline file is replaced (save, accept, promotion, rollback); the
previous file is first appended to `history/<name>/` under a name that never overwrites
(`<YYYYmmddTHHMMSS.ffffff>-<action>.json`, or `corrupt-<stamp>.json` for a file this kit cannot
read). Changes to one baseline are serialised by a lock file in its history folder.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.baseline.file import (
    FILE_PREFIX,
    FILE_SUFFIX,
    Baseline,
    check_name,
    load_baseline,
)
from perfkit.baseline.jobs import append_job, baseline_job
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import KIT_ROOT

HISTORY_DIR = "history"
LOG_FILE = "log.jsonl"
PENDING_FILE = "pending.json"
LOCK_FILE = ".lock"
CORRUPT_PREFIX = "corrupt-"


@dataclass
class Change:
    """What a save, accept, promotion, rollback or delete did."""

    path: Path  # the current baseline file (deleted, for a delete)
    archived: Path | None  # where the previous file went in history, if there was one
    baseline: Baseline | None  # the new current baseline (None after a delete)


@dataclass
class LogEntry:
    at: str
    action: str
    from_run: str | None
    reason: str | None
    file: str | None  # the history file the previous baseline went to
    runs: list[str] = field(default_factory=list)


def default_dir() -> Path:
    """$PERF_BASELINES_DIR, else <kit root>/baselines."""
    configured = os.environ.get("PERF_BASELINES_DIR")
    return Path(configured) if configured else KIT_ROOT / "baselines"


def baseline_path(directory: Path, name: str) -> Path:
    return directory / f"{FILE_PREFIX}{check_name(name)}{FILE_SUFFIX}"


def history_dir(directory: Path, name: str) -> Path:
    return directory / HISTORY_DIR / check_name(name)


def run_label(run_dir: Path) -> str:
    """A run folder as stored: relative to the kit root when inside it, else absolute."""
    resolved = run_dir.resolve()
    try:
        return str(resolved.relative_to(KIT_ROOT))
    except ValueError:
        return str(resolved)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")


def sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_HELD: set[Path] = set()  # history folders this process holds the lock of


@contextmanager
def locked(directory: Path, name: str) -> Iterator[Path]:
    """One change at a time per baseline (two CI jobs finishing together); re-entrant."""
    folder = history_dir(directory, name)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        yield folder
        return
    with (folder / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _HELD.add(key)
        try:
            yield folder
        finally:
            _HELD.discard(key)


def _create_new(path: Path, data: bytes) -> None:
    """Write `path` whole, or not at all; FileExistsError if it exists (never overwritten)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def archive(directory: Path, name: str, action: str) -> Path | None:
    """Append the current baseline, if any, to its history; the history file."""
    current = baseline_path(directory, name)
    try:
        data = current.read_bytes()
    except FileNotFoundError:
        return None
    corrupt = problem_of(current, name) is not None
    folder = history_dir(directory, name)
    stamp = _stamp()
    for extra in itertools.count():
        unique = stamp if extra == 0 else f"{stamp}.{extra}"  # sorts after `stamp`
        target = folder / (
            f"{CORRUPT_PREFIX}{unique}.json" if corrupt else f"{unique}-{action}.json"
        )
        try:
            _create_new(target, data)
        except FileExistsError:
            continue
        sync_dir(folder)
        return target
    raise AssertionError("unreachable")


def problem_of(path: Path, name: str) -> str | None:
    try:
        load_baseline(path, name)
    except KitError as exc:
        return str(exc)
    return None


def append_log(directory: Path, name: str, entry: LogEntry) -> None:
    line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
    with (history_dir(directory, name) / LOG_FILE).open(
        "a", encoding="utf-8"
    ) as stream:
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())


def install(
    directory: Path,
    name: str,
    data: dict[str, Any],
    entry: LogEntry,
    *,
    replace_corrupt: bool = False,
) -> Change:
    """Make `data` the current baseline: the old one to history, an atomic write, a log line.

    A current file this kit cannot read is refused unless `replace_corrupt` (it then goes to
    history as corrupt-<stamp>.json). Any promotion streak is cleared: it was measured
    against the baseline being replaced. The new baseline's own job opens a new epoch of the
    run-to-run history (perfkit.baseline.jobs).
    """
    path = baseline_path(directory, name)
    with locked(directory, name) as folder:
        problem = problem_of(path, name) if path.exists() else None
        if problem and not replace_corrupt:
            raise KitError(
                f"{problem}. Not replaced: pass --force to keep it in history as "
                f"{CORRUPT_PREFIX}<stamp>.json and save the new baseline",
                ExitCode.USAGE,
            )
        archived = archive(directory, name, entry.action)
        write_json_atomic(path, data)
        sync_dir(directory)
        entry.file = archived.name if archived else None
        append_log(directory, name, entry)
        (folder / PENDING_FILE).unlink(missing_ok=True)
        installed = load_baseline(path, name)
        append_job(
            folder, baseline_job(installed)
        )  # a new epoch of its run-to-run history
    return Change(path, archived, installed)
