"""The package's shape, checked from its source (not a hand-kept list): no import cycle inside
perfkit, no module importing another module's `_private` name, every subpackage introduced
by an `__init__` docstring that names each of its files, and every command findable."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from perfkit.cli import COMMANDS

KIT = Path(__file__).resolve().parents[2]

PACKAGE = Path(__file__).resolve().parents[2] / "utils" / "perfkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or '', line) of every perfkit import, lazy ones too."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("perfkit"):
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "perfkit"
        ):
            assert node.level == 0, f"{path}:{node.lineno}: use absolute imports"
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if child in known:  # `from perfkit.baseline import manager`
                    yield child, "", node.lineno
                else:
                    yield str(node.module), alias.name, node.lineno


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target, _, _ in imports(path, known) if target != name}
        for name, path in known.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_inside_perfkit() -> None:
    edges = graph()
    assert len(edges) > 40, "the package was not found"
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_module_imports_a_private_name_of_another() -> None:
    known = modules()
    found = [
        f"{module_name(path)}:{line} imports {name} from {target}"
        for path in known.values()
        for target, name, line in imports(path, known)
        if name.startswith("_") and target != module_name(path)
    ]
    assert found == []


@pytest.mark.parametrize(
    "package", sorted(p.parent for p in PACKAGE.glob("*/__init__.py")), ids=str
)
def test_every_subpackage_lists_its_files(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    assert doc, f"{package}/__init__.py has no docstring"
    files = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    unlisted = [name for name in files if f"- {name}:" not in doc]
    assert files and unlisted == []


def test_every_command_module_exists_and_has_a_cli() -> None:
    known = modules()
    for command, (module, _) in COMMANDS.items():
        assert module in known, f"{command}: {module} not found"
        tree = ast.parse(known[module].read_text(encoding="utf-8"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "cli" in functions, f"{module} has no cli()"


def test_the_per_test_commands_load_no_data_stack() -> None:
    """`perfkit validate`, `record` and `mcp-prepare` run several times per test: importing
    pandas or scipy there (0.5 s a launch) once cost a run of the mcp scenario a second a test."""
    code = (
        "import sys, perfkit.cli, perfkit.probe, perfkit.table, perfkit.results.events,"
        " perfkit.protocol.prepare;"
        " print(' '.join(m for m in ('pandas', 'scipy', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(KIT / "utils")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""
