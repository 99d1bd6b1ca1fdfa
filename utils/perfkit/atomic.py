"""Write a file whole or not at all: a temporary file in the same folder, fsync, rename.

A crash or Ctrl+C in the middle leaves the previous file intact and no half-written one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


def _umask_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def _write(path: Path, fill: Callable[[TextIO], None], mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600 files: give results the usual umask-based mode unless told
        os.fchmod(fd, _umask_mode() if mode is None else mode)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, mode: int | None = None) -> None:
    def fill(stream: TextIO) -> None:
        stream.write(text)

    _write(path, fill, mode)


def write_json_atomic(path: Path, data: Any, mode: int | None = None) -> None:
    def fill(stream: TextIO) -> None:
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")

    _write(path, fill, mode)
