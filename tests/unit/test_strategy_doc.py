"""PERFORMANCE_STRATEGY.md keeps its promises: every command in its ```bash blocks is also a
README.md command (the README's tests run those as written), every ci-gate.sh line it shows is
one docs/ci.md shows (run as written by test_ci_gate.py), and every file it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = ROOT / "PERFORMANCE_STRATEGY.md"


def bash_commands(path: Path) -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", path.read_text(), flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_command_is_one_the_readme_runs() -> None:
    commands = bash_commands(STRATEGY)
    assert commands, "the strategy shows the commands it talks about"
    readme = set(bash_commands(ROOT / "README.md"))
    assert [c for c in commands if c not in readme] == []


def test_every_ci_gate_line_is_one_docs_ci_runs() -> None:
    lines = re.findall(r"`(utils/ci-gate\.sh [^`]+)`", STRATEGY.read_text())
    assert len(lines) >= 2
    ci = (ROOT / "docs" / "ci.md").read_text()
    assert [line for line in lines if line not in ci] == []


def test_every_cited_file_exists() -> None:
    text = STRATEGY.read_text()
    cited = set(
        re.findall(
            r"\b((?:docs|profiles|utils|tests)/[\w./-]+\.(?:json|md|env|sh|py))", text
        )
    )
    cited = {c for c in cited if "NAME" not in c}  # a pattern, not a file
    cited |= set(
        re.findall(r"\]\(([\w./-]+)\)", text)
    )  # its links: README.md, .env.example
    assert cited, "figures cite their result files"
    assert sorted(c for c in cited if not (ROOT / c).exists()) == []
