"""The baseline manager: save, load, list, delete and roll back `baselines/baseline_<name>.json`.

Nothing is ever destroyed or silently replaced. Every change first appends the current file to
`baselines/history/<name>/<YYYYmmddTHHMMSS.ffffff>-<action>.json` (the baseline as it was just
before <action>; a file this kit cannot read goes there as `corrupt-<stamp>.json`), never over an
existing history file, then writes the new one atomically (temporary file in the same folder,
fsync, rename) and appends a line to `history/<name>/log.jsonl`. The file format is in
`perfkit.baseline.file`, promotion in `perfkit.baseline.promotion`, the CLI in
`perfkit.baseline.cli`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from perfkit.baseline.file import (
    FILE_PREFIX,
    FILE_SUFFIX,
    Baseline,
    build_baseline,
    load_baseline,
    source_of,
    summary_for_baseline,
)
from perfkit.baseline.store import (
    CORRUPT_PREFIX,
    LOG_FILE,
    PENDING_FILE,
    Change,
    LogEntry,
    append_log,
    archive,
    baseline_path,
    default_dir,
    history_dir,
    install,
    locked,
    run_label,
    sync_dir,
)
from perfkit.clock import now_iso
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.samples import from_summary

__all__ = [
    "Baseline",
    "Change",
    "accept",
    "baseline_path",
    "default_dir",
    "delete",
    "history",
    "list_baselines",
    "load_baseline",
    "rollback",
    "save_baseline",
    "save_run",
]


@dataclass
class Listing:
    name: str
    path: Path
    baseline: Baseline | None
    problem: str | None  # why the file cannot be read, if it cannot


def save_run(
    directory: Path,
    name: str,
    run_dir: Path,
    how: str = "save",
    *,
    reason: str | None = None,
    force: bool = False,
) -> Change:
    """Save RUN_DIR/summary.json as baseline `name` (`how`: initial, save or accept)."""
    summary = summary_for_baseline(run_dir)
    label = run_label(run_dir)
    samples = from_summary(summary, label)
    baseline = build_baseline(name, samples, source_of(summary, label, how))
    entry = LogEntry(now_iso(), how, label, reason, None, [label])
    return install(directory, name, baseline.to_dict(), entry, replace_corrupt=force)


def save_baseline(
    directory: Path, name: str, summary_path: Path, how: str = "save"
) -> Path:
    """Save a run's summary.json as baseline `name`; the baseline file."""
    return save_run(directory, name, summary_path.parent, how).path


def accept(directory: Path, name: str, run_dir: Path, reason: str) -> Change:
    """A person's decision after an intended slowdown: RUN_DIR becomes the baseline."""
    if not reason.strip():
        raise KitError(
            "accept needs --reason TEXT: say why this run is the new normal",
            ExitCode.USAGE,
        )
    return save_run(directory, name, run_dir, "accept", reason=reason.strip())


def history_files(directory: Path, name: str) -> list[Path]:
    """The baselines kept in history, oldest first (corrupt ones last)."""
    folder = history_dir(directory, name)
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.glob("*.json") if p.name != PENDING_FILE),
        key=lambda p: (p.name.startswith(CORRUPT_PREFIX), p.name),
    )


def _rollback_target(directory: Path, name: str, entry: str | None) -> Path:
    files = history_files(directory, name)
    have = ", ".join(p.name for p in files) or "none"
    if entry is not None:
        chosen = history_dir(directory, name) / Path(entry).name
        if chosen not in files:
            raise KitError(
                f"history entry '{entry}' of baseline '{name}' not found (have: {have})",
                ExitCode.USAGE,
            )
        return chosen
    current = baseline_path(directory, name)
    key = _identity(current, name) if current.exists() else None
    for candidate in reversed(files):
        if candidate.name.startswith(CORRUPT_PREFIX):
            continue
        if candidate.name.endswith("-rollback.json"):
            continue  # what a rollback replaced: restore it with --entry
        if _identity(candidate, name) not in (None, key):
            return candidate
    raise KitError(
        f"baseline '{name}' has no earlier readable baseline in history (have: {have})",
        ExitCode.USAGE,
    )


def _identity(path: Path, name: str) -> tuple[str, str] | None:
    try:
        baseline = load_baseline(path, name)
    except KitError:
        return None
    return baseline.created_at, baseline.source.run_dir


def rollback(directory: Path, name: str, entry: str | None = None) -> Change:
    """Restore a history entry (default: the newest earlier baseline) as the current one.

    Works over a corrupt current file (that is what it is for): it goes to history first.
    """
    chosen = _rollback_target(directory, name, entry)
    restored = load_baseline(chosen, name)
    data = json.loads(chosen.read_text(encoding="utf-8"))
    data["source"]["how"] = "rollback"
    data["source"]["restored_from"] = chosen.name
    reason = f"restored {chosen.name} (saved by {restored.source.how})"
    log = LogEntry(now_iso(), "rollback", restored.source.run_dir, reason, None)
    log.runs = restored.source.runs
    return install(directory, name, data, log, replace_corrupt=True)


def delete(directory: Path, name: str) -> Change:
    """Move the current baseline into history and remove it (nothing is destroyed)."""
    path = baseline_path(directory, name)
    with locked(directory, name) as folder:
        if not path.exists():
            have = ", ".join(item.name for item in list_baselines(directory)) or "none"
            raise KitError(
                f"no baseline '{name}' in {directory} (have: {have})", ExitCode.USAGE
            )
        archived = archive(directory, name, "delete")
        path.unlink()
        sync_dir(directory)
        file = archived.name if archived else None
        append_log(directory, name, LogEntry(now_iso(), "delete", None, None, file))
        (folder / PENDING_FILE).unlink(missing_ok=True)
    return Change(path, archived, None)


def history(directory: Path, name: str) -> list[LogEntry]:
    """Every change of baseline `name`, oldest first, from history/<name>/log.jsonl."""
    path = history_dir(directory, name) / LOG_FILE
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entries.append(
                LogEntry(
                    at=str(data["at"]),
                    action=str(data["action"]),
                    from_run=data.get("from_run"),
                    reason=data.get("reason"),
                    file=data.get("file"),
                    runs=list(data.get("runs") or []),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KitError(
                f"{path}:{number}: not a log entry ({exc}); the file is append-only: "
                "fix that line by hand",
                ExitCode.USAGE,
            ) from None
    return entries


def list_baselines(directory: Path) -> list[Listing]:
    """Every baseline in `directory`, by name; unreadable ones carry their problem."""
    listings = []
    for path in sorted(directory.glob(f"{FILE_PREFIX}*{FILE_SUFFIX}")):
        name = path.name[len(FILE_PREFIX) : -len(FILE_SUFFIX)]
        try:
            listings.append(Listing(name, path, load_baseline(path, name), None))
        except KitError as exc:
            listings.append(Listing(name, path, None, str(exc)))
    return listings
