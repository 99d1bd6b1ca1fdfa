"""Scenario names live in perfkit.names only; each is declared by the one scenarios/*.sh that
defines the shell function scenario_<name with - as _>, which utils/lib/lib.sh's
perf_scenario_script finds for run-configurable.sh. Every name has exactly one script, every
script declares exactly one known name, and the shell finds the same file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from perfkit.names import ADVANCED_SCENARIOS, NAMED_SCENARIOS, SCENARIOS

KIT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((KIT / "scenarios").glob("*.sh"))
NAMES = (*SCENARIOS, *NAMED_SCENARIOS, *ADVANCED_SCENARIOS)
DEFINITION = re.compile(r"^scenario_([A-Za-z0-9_]+)\s*\(\)", re.MULTILINE)


def function_of(name: str) -> str:
    return "scenario_" + name.replace("-", "_")


def declared(script: Path) -> list[str]:
    return [f"scenario_{m}" for m in DEFINITION.findall(script.read_text())]


def find_script(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "bash",
            "-c",
            'source "$1"; perf_scenario_script "$2"',
            "_",
            str(KIT / "utils" / "lib" / "lib.sh"),
            name,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_name_has_exactly_one_script(name: str) -> None:
    defining = [s.name for s in SCRIPTS if function_of(name) in declared(s)]
    assert len(defining) == 1, f"{function_of(name)}() is defined in {defining}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_declares_one_known_scenario(script: Path) -> None:
    [function] = declared(script)
    names = [n for n in NAMES if function_of(n) == function]
    assert names, f"{script.name}: {function}() is no scenario of perfkit.names"
    # run alone, the script runs its own scenario
    assert f'run-configurable.sh" --scenarios {names[0]} "$@"' in script.read_text()


@pytest.mark.parametrize("name", NAMES)
def test_the_shell_finds_the_same_script(name: str) -> None:
    found = find_script(name)
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) in SCRIPTS
    assert function_of(name) in declared(Path(found.stdout.strip()))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "nope",
            "scenario 'nope' has no script: no scenarios/*.sh defines scenario_nope()",
        ),
        (
            "gateway",
            "no scenarios/*.sh defines scenario_gateway()",
        ),  # a prefix is not a match
        ("../x", "scenario name '../x' may hold only letters, digits"),
    ],
)
def test_the_shell_refuses_a_name_without_a_script(name: str, message: str) -> None:
    found = find_script(name)
    assert found.returncode == 2
    assert found.stdout == ""
    assert message in found.stderr
