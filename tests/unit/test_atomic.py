"""perfkit.atomic: whole files or none, with the right mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from perfkit.atomic import write_json_atomic, write_text_atomic


def test_results_get_the_umask_mode(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "summary.json", {"a": 1})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "summary.json").stat().st_mode) == 0o644
    assert json.loads((tmp_path / "summary.json").read_text()) == {"a": 1}


def test_an_explicit_mode_wins(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "secret", "x", mode=0o600)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "comparison.json"
    target.write_text("old")

    def crash(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.json"]
