"""Reading the kit's own JSON files: one way to fail, one rule for schema versions.

Every file format has one owner module that names the file, keeps its version history and
loads it (docs/internals.md, "Who reads and writes what"); the owners read through here.
The rule: a file whose `schema_version` this kit does not read - unknown, missing or newer - is
refused with exit 2 and a message naming the file, its version and the versions this kit reads.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError


class UnknownVersion(KitError):
    """A file of a schema version this kit does not read (exit 2). Readers that skip corrupt
    files in a folder (trend, report pages) still stop on this: a newer kit's file is not junk.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


def read_object(
    path: Path, what: str, missing_hint: str = "", fix: str = ""
) -> dict[str, Any]:
    """The JSON object in `path`; a missing, unreadable or non-object file is exit 2.

    `what` names the file in messages (e.g. summary.json); `missing_hint` says how to make it,
    `fix` what to do about a broken one."""
    fix_text = f"; {fix}" if fix else ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = f" ({missing_hint})" if missing_hint else ""
        raise KitError(f"{path}: {what} not found{hint}", ExitCode.USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"{what} cannot be read ({exc}){fix_text}"
        raise KitError(f"{path}: {problem}", ExitCode.USAGE) from None
    except ValueError as exc:
        problem = f"{what} is not valid JSON ({exc}){fix_text}"
        raise KitError(f"{path}: {problem}", ExitCode.USAGE) from None
    if not isinstance(data, dict):
        problem = f"{what} holds a JSON {type(data).__name__}, not an object{fix_text}"
        raise KitError(f"{path}: {problem}", ExitCode.USAGE)
    return data


def version_problem(data: Any, readable: Collection[int]) -> str | None:
    """Why this kit cannot read an object of that `schema_version`, or None when it can."""
    version = data.get("schema_version") if isinstance(data, dict) else None
    if type(version) is int and version in readable:
        return None
    have = ", ".join(str(v) for v in sorted(readable))
    newer = type(version) is int and version > max(readable)
    why = " (written by a newer kit: update this kit)" if newer else ""
    return f"schema_version {version!r} unknown{why}; this kit reads version {have}"


def check_version(
    path: Path, data: Any, readable: Collection[int], fix: str = ""
) -> int:
    """The object's schema version if this kit reads it, else exit 2 naming the file."""
    problem = version_problem(data, readable)
    if problem is not None:
        raise UnknownVersion(f"{path}: {problem}{'; ' + fix if fix else ''}")
    return int(data["schema_version"])


def load_versioned(
    path: Path, what: str, readable: Collection[int], missing_hint: str = ""
) -> dict[str, Any]:
    """read_object, then check_version: the usual first step of an owner's loader."""
    data = read_object(path, what, missing_hint)
    check_version(path, data, readable)
    return data


def malformed(path: Path, what: str, exc: Exception) -> KitError:
    """The error for a file of a known version whose content does not fit its model."""
    return KitError(
        f"{path}: {what} has malformed content ({type(exc).__name__}: {exc})",
        ExitCode.USAGE,
    )
