"""The repository as a newcomer meets it: the README's layout table is the tree, the internals
page names every command's module, and nothing in the kit reaches outside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

from perfkit.cli import COMMANDS

KIT = Path(__file__).resolve().parents[2]
FIXTURES = PurePosixPath("tests/fixtures")


def tracked_files() -> list[PurePosixPath]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=KIT, capture_output=True, text=True, check=True
    ).stdout
    return [
        PurePosixPath(line) for line in listed.splitlines() if (KIT / line).exists()
    ]


def section(text: str, title: str) -> str:
    start = text.index(f"\n{title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_layout_is_the_tree() -> None:
    """Every folder holding tracked files (and its parents) has its line; the recorded
    fixtures' own subfolders are covered by tests/fixtures/."""
    layout = section((KIT / "README.md").read_text(), "## Layout")
    listed = re.findall(r"^\| `([^`]+)/` \|", layout, re.MULTILINE)
    assert len(listed) == len(set(listed)), "a folder listed twice"
    folders = set()
    for path in tracked_files():
        for parent in path.parents:
            if str(parent) != "." and FIXTURES not in parent.parents:
                folders.add(str(parent))
    assert sorted(listed) == sorted(folders)


def test_internals_names_each_command_and_its_module() -> None:
    table = section(
        (KIT / "docs" / "internals.md").read_text(), "## Who reads and writes what"
    )
    rows = dict(
        re.findall(r"^\| `([a-z-]+)` \| `(perfkit[\w.]*)` \|", table, re.MULTILINE)
    )
    assert rows == {name: module for name, (module, _) in COMMANDS.items()}


def test_nothing_in_the_kit_reaches_outside_the_repository() -> None:
    """A user's clone has nothing beside it: no tracked file names the folder next to this
    repository that the kit's own development used."""
    outside = "../" + "shared"
    found = [
        str(path)
        for path in tracked_files()
        if outside in (KIT / path).read_bytes().decode("utf-8", errors="replace")
    ]
    assert found == []
