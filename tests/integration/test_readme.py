"""Every command README.md shows in a ```bash block works as written.

The load is scaled down through the environment (which beats any profile, as the README says),
so `--profile heavy` is exercised for its parsing and flow, not its 5000 requests, and the runs
write no report of their own (reporting.generate_report: tested where a report is read). `make check`
is the one command not run here: it is what runs this test. The commands in
conftest.RUN_BY_OTHER_TESTS are run, as written, by the tests named there.
"""

from __future__ import annotations

import pytest
from conftest import RUN_BY_OTHER_TESTS, answers, kit_env, readme_commands, run

NOT_RUN = {"make check": "it runs this very test"}
SCALED = {
    "PERF_REQUESTS": "4",
    "PERF_CONCURRENCY": "2",
    "PERF_ITERATIONS": "1",
    "PERF_WARMUP": "0",
    # the database scenario's pool analysis at two levels (test_populate checks `auto`)
    "PERF_DB_POOL_LEVELS": "1,2",
    "PERF_DB_POOL_SECONDS": "0.3",
    # the runs' reports are tested where they are read (test_flows, test_report_browser, ...);
    # here `make report` writes one on request, as it does whatever the setting
    "PERF_GENERATE_REPORT": "false",
}


# CI time: the whole suite is run as written by `make test` in test_flows.py and by
# README's second `make test`, which makes the light baseline the commands after it read; the
# other commands that run every scenario (and the releases' A/B) measure one or two tests of
# each (PERF_TESTS, which they leave to the environment) - their flags and flow are checked here
SOME_OF_EACH = (
    "rest_list_*_limit_10,health,rpc_ping,concurrent_mix,server_tools_call_get_system_time,"
    "tool_by_name"
)
TRIMMED = {  # command -> the tests it measures here
    "make test PROFILE=smoke": SOME_OF_EACH,
    "./run-configurable.sh --profile heavy --scenarios all": SOME_OF_EACH,
    # an A/B of two releases: what is checked is the install and the two sides, not the suite
    "make compare-versions BASE=1.0.6 CANDIDATE=1.0.7.post20260921 PROFILE=smoke SCENARIOS=tools": (
        "rest_list_tools_limit_10,rpc_tools_call_get_system_time"
    ),
}


def run_here(command: str) -> bool:
    return command not in NOT_RUN and not command.startswith(tuple(RUN_BY_OTHER_TESTS))


def test_readme_shows_commands() -> None:
    commands = readme_commands()
    assert "make test" in commands and "make check" in commands, (
        "the two start-here commands"
    )
    for start, test in RUN_BY_OTHER_TESTS.items():
        found = [c for c in commands if c.startswith(start)]
        assert len(found) == 1, f"{test} runs the README command {start!r}: {found}"


@pytest.fixture(scope="module")
def readme_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One results and one baselines folder for all the commands, which build on each other
    (make test saves the baseline that make baseline-show shows), kept out of the kit's own."""
    base = tmp_path_factory.mktemp("readme")
    return {
        "PERF_RESULTS_DIR": str(base / "results"),
        "PERF_BASELINES_DIR": str(base / "baselines"),
    }


def trimmed(commands: list[str]) -> list[str]:
    """Per command: the tests it measures here (PERF_TESTS; "": all of them) - TRIMMED's, and
    SOME_OF_EACH for the first `make test`."""
    first = commands.index("make test") if "make test" in commands else -1
    return [
        SOME_OF_EACH if i == first else TRIMMED.get(c, "")
        for i, c in enumerate(commands)
    ]


COMMANDS = [c for c in readme_commands() if run_here(c)]


@pytest.mark.parametrize(
    ("command", "tests"),
    list(zip(COMMANDS, trimmed(COMMANDS), strict=True)),
    ids=[
        f"{c}{' (some tests)' if t else ''}"
        for c, t in zip(COMMANDS, trimmed(COMMANDS), strict=True)
    ],
)
def test_readme_command_works(
    command: str, tests: str, stack_url: str, readme_dirs: dict[str, str]
) -> None:
    env = kit_env(**readme_dirs, **SCALED, **({"PERF_TESTS": tests} if tests else {}))
    was_up = answers(stack_url)
    result = run(["bash", "-c", command], env, timeout=900)
    assert result.code == 0, (
        f"{command}\n{result.stdout[-1500:]}\n{result.stderr[-3000:]}"
    )
    if command == "make down" and was_up:
        # leave the session's stack as we found it
        assert run(["utils/local-stack.sh", "up"], kit_env(), timeout=600).code == 0
