"""A/B of any two builds, and of one build's settings (utils/compare-versions.sh) on the real
gateway: a wheel against its own release (A/A through the build path), a source checkout
made from the release's sdist, a costly setting found as a regression, and every fault path:
an unknown or malformed setting, a path that is no build, a build that does not install and
a candidate that does not start - each with its exit code and nothing left running.

Each A/B starts two gateways on :4481 and :4482 (the kit's ab-base and ab-candidate stacks);
these tests run one after the other, never beside another A/B. The README's A/B commands that
need deeper checks than an exit code are run here, as written (conftest.RUN_BY_OTHER_TESTS).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import KIT_ROOT, answers, kit_env, readme_command, run, stack_processes

RELEASE = "1.0.7.post20260921"
SIDES = ("base", "candidate")
PORTS = {"base": "http://127.0.0.1:4481", "candidate": "http://127.0.0.1:4482"}
GATEWAYS = KIT_ROOT / ".state" / "gateways"
PIP = KIT_ROOT / ".state" / "venv" / "bin" / "pip"
# CI time: the A/B commands measure five of gateway-core's nine tests (PERF_TESTS, which the
# README's commands leave to the environment): each kind of endpoint once
SOME_TESTS = (
    "health,ready,rest_list_servers_limit_10,rest_list_gateways_limit_10,rpc_ping"
)


@pytest.fixture()
def ab_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment, results and token cache in the test's folder; the A/B ports free."""
    for url in PORTS.values():
        assert not answers(url), f"{url} must be free for an A/B test"
    return kit_env(
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
    )


def ab_run(results: Path) -> Path:
    [run_dir] = sorted(results.glob("smoke_ab_*"))
    return run_dir


def target(run_dir: Path, side: str) -> dict:  # type: ignore[type-arg]
    return json.loads((run_dir / side / "run.json").read_text())["target"]


def assert_nothing_left_running() -> None:
    for side in SIDES:
        stack = KIT_ROOT / ".state" / f"ab-{side}"
        assert stack_processes(stack) == [], f"the {side} stack is still running"
        assert not answers(PORTS[side])


def pip(*args: str, into: Path) -> Path:
    """pip download of the release into `into`; the one file it holds."""
    subprocess.run(
        [str(PIP), "download", "--no-deps", *args, f"mcp-contextforge-gateway=={RELEASE}"]
        + ["-d", str(into)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [found] = sorted(into.iterdir())
    return found


def describe(spec: str) -> dict[str, str]:
    done = subprocess.run(
        [str(KIT_ROOT / ".state/venv/bin/python"), "-m", "perfkit", "gateway", "describe"]
        + [spec, "--format", "json"],
        cwd=KIT_ROOT, env={"PYTHONPATH": str(KIT_ROOT / "utils")},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout))


# --- the README's commands, as written ---------------------------------------------------------


def test_a_wheel_of_the_release_against_the_release_is_no_regression(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    """A/A through the build path: the README downloads the wheel and compares it with the
    release it was built from (3 rounds, so that a verdict could be reached either way)."""
    download = readme_command(".state/venv/bin/pip download")
    assert run(["bash", "-c", download], ab_env, timeout=300).code == 0
    command = readme_command(
        f"make compare-versions BASE={RELEASE} CANDIDATE=.state/builds/"
    )
    result = run(
        ["bash", "-c", command],
        ab_env | {"PERF_ITERATIONS": "3", "PERF_TESTS": SOME_TESTS},
        timeout=900,
    )
    assert result.code == 0, result.stderr[-3000:]
    run_dir = ab_run(tmp_path / "results")
    comparison = json.loads((run_dir / "candidate" / "comparison.json").read_text())
    assert comparison["verdict"] != "regression"
    wheel = f"mcp_contextforge_gateway-{RELEASE}-py3-none-any.whl"
    base, candidate = target(run_dir, "base"), target(run_dir, "candidate")
    assert (base["build"]["kind"], base["build"]["key"]) == ("release", RELEASE)
    assert (candidate["build"]["kind"], candidate["build"]["label"]) == ("wheel", wheel)
    key = candidate["build"]["key"]
    assert key == describe(str(KIT_ROOT / ".state" / "builds" / wheel))["key"]
    assert key.startswith("build-") and len(key) == len("build-") + 16
    assert (GATEWAYS / key / "venv" / "bin" / "mcpgateway").exists()
    assert candidate["env_overrides"] == {} and base["env_overrides"] == {}
    assert f"candidate {wheel} at :4482" in result.stderr
    report = (run_dir / "candidate" / "report.html").read_text()
    assert f"wheel {wheel} ({key})" in report
    assert_nothing_left_running()


def test_a_costly_setting_is_a_regression_naming_the_tests(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    """The README's settings A/B (debug logging of every request from a file, persisted to the
    database by CANDIDATE_SET - both ways of giving a side its settings; 5 rounds): measured
    20-76% slower on every test; the verdict names them."""
    write = readme_command("printf 'LOG_LEVEL=DEBUG")
    assert run(["bash", "-c", write], ab_env).code == 0
    command = readme_command(f"make compare-versions BASE={RELEASE} CANDIDATE_ENV=")
    result = run(
        ["bash", "-c", command], ab_env | {"PERF_TESTS": SOME_TESTS}, timeout=900
    )
    # make exits 2 when a recipe fails; the script's own exit code is in make's message
    assert result.code == 2, result.stderr[-3000:]
    assert "compare-versions] Error 1" in result.stderr
    run_dir = ab_run(tmp_path / "results")
    comparison = json.loads((run_dir / "candidate" / "comparison.json").read_text())
    assert comparison["verdict"] == "regression"
    regressed = [t["id"] for t in comparison["tests"] if t["verdict"] == "regression"]
    # every test is slower; how many reach significance in 5 rounds depends on the machine's
    # noise (of all nine: 4 in a CI run beside other work, 6-9 on a quiet machine)
    assert len(comparison["tests"]) == 5 and regressed, comparison["tests"]
    assert not any(t["verdict"] == "improvement" for t in comparison["tests"])
    named = result.stdout[result.stdout.index("regressed:") :]
    assert all(test in named for test in regressed)
    assert target(run_dir, "candidate")["env_overrides"] == {
        "LOG_LEVEL": "DEBUG",
        "LOG_REQUESTS": "true",
        "STRUCTURED_LOGGING_DATABASE_ENABLED": "true",
    }
    assert target(run_dir, "base")["env_overrides"] == {}
    assert target(run_dir, "candidate")["build"]["key"] == RELEASE
    assert (
        "LOG_LEVEL=DEBUG, LOG_REQUESTS=true, STRUCTURED"
        in (run_dir / "candidate" / "report.html").read_text()
    )
    assert_nothing_left_running()


# --- a source checkout --------------------------------------------------------------------------


def test_a_source_checkout_runs_named_by_its_folder_and_version(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    sdist = pip("--no-binary", ":all:", into=tmp_path / "sdist")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "src", filter="data")
    [folder] = sorted((tmp_path / "src").iterdir())
    # what is checked is the build's install and its name: one round of two tests
    result = run(
        ["utils/compare-versions.sh", "--base", RELEASE, "--candidate", str(folder)]
        + ["--profile", "smoke", "--scenarios", "gateway-core", "--iterations", "1"],
        ab_env | {"PERF_TESTS": "health,rpc_ping"}, timeout=900,
    )  # fmt: skip
    assert result.code in (0, 1), result.stderr[-3000:]
    label = f"{folder.name} ({RELEASE})"
    assert f"candidate {label} at :4482" in result.stderr
    build = target(ab_run(tmp_path / "results"), "candidate")["build"]
    assert (build["kind"], build["label"], build["path"]) == (
        "source",
        label,
        str(folder),
    )
    assert (GATEWAYS / build["key"] / "venv" / "bin" / "mcpgateway").exists()
    assert_nothing_left_running()


# --- bad input and faults -----------------------------------------------------------------------


def test_an_unknown_setting_is_exit_2_naming_it_before_anything_starts(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    settings = tmp_path / "b.env"
    settings.write_text("# candidate\nLOG_LEVEL=DEBUG\nLOG_REQUEST=true\n")
    result = run(
        ["make", "compare-versions", f"BASE={RELEASE}", f"CANDIDATE_ENV={settings}"]
        + ["PROFILE=smoke", "SCENARIOS=gateway-core"],
        ab_env, timeout=600,
    )  # fmt: skip
    assert result.code == 2, result.stderr[-2000:]
    assert (
        f"{settings}:3: unknown gateway setting 'LOG_REQUEST' (did you mean LOG_REQUESTS?)"
        in result.stderr
    )
    assert f"release {RELEASE} does not read it" in result.stderr
    assert "starting gateway" not in result.stderr
    assert not (tmp_path / "results").exists()
    assert_nothing_left_running()


def test_a_malformed_line_is_exit_2_before_anything_is_installed(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    wheel = tmp_path / f"mcp_contextforge_gateway-{RELEASE}-py3-none-any.whl"
    wheel.write_bytes(b"never installed: " + str(tmp_path).encode())
    settings = tmp_path / "a.env"
    settings.write_text("LOG_LEVEL DEBUG\n")
    result = run(
        ["utils/compare-versions.sh", "--base", str(wheel), "--base-env", str(settings)]
        + ["--profile", "smoke"],
        ab_env, timeout=300,
    )  # fmt: skip
    assert result.code == 2
    assert f"{settings}:1: not a NAME=VALUE" in result.stderr
    assert not (GATEWAYS / describe(str(wheel))["key"]).exists()
    assert "installing" not in result.stderr


def test_a_path_that_is_no_gateway_build_is_exit_3(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    result = run(
        ["utils/compare-versions.sh", "--base", RELEASE, "--candidate", str(tmp_path)]
        + ["--profile", "smoke"],
        ab_env, timeout=300,
    )  # fmt: skip
    assert result.code == 3
    assert "not a source folder of mcp-contextforge-gateway" in result.stderr
    assert "starting gateway" not in result.stderr


def test_a_build_that_does_not_install_is_exit_3_with_the_log(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    checkout = tmp_path / "broken-gateway"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "no_such_backend"\n\n'
        f'[project]\nname = "mcp-contextforge-gateway"\nversion = "0.0.1"\n# {tmp_path}\n'
    )
    result = run(
        ["utils/compare-versions.sh", "--base", RELEASE, "--candidate", str(checkout)]
        + ["--profile", "smoke"],
        ab_env, timeout=600,
    )  # fmt: skip
    assert result.code == 3, result.stderr[-2000:]
    key = describe(str(checkout))["key"]
    log = KIT_ROOT / ".state" / f"install-gateway-{key}.log"
    assert f"the last 20 lines of {log}:" in result.stderr
    assert "no_such_backend" in result.stderr  # pip's own words, from the log
    assert f"could not install broken-gateway (0.0.1); see {log}" in result.stderr
    assert not (GATEWAYS / key).exists()
    assert "starting gateway" not in result.stderr
    assert_nothing_left_running()


def test_a_candidate_that_does_not_start_is_exit_3_and_the_base_is_stopped(
    ab_env: dict[str, str], tmp_path: Path
) -> None:
    result = run(
        ["utils/compare-versions.sh", "--base", RELEASE, "--candidate-set", "LOG_LEVEL=LOUD"]
        + ["--profile", "smoke"],
        ab_env, timeout=600,
    )  # fmt: skip
    assert result.code == 3, result.stderr[-2000:]
    log = KIT_ROOT / ".state" / "ab-candidate" / "logs" / "gateway.log"
    assert f"the last 20 lines of {log}:" in result.stderr
    assert "LOUD" in result.stderr.split(f"the last 20 lines of {log}:")[1]
    assert "error: gateway exited while starting" in result.stderr
    assert (
        "local stack up: gateway http://127.0.0.1:4481" in result.stderr
    )  # the base ran
    assert "stopping gateway" in result.stderr
    assert not (tmp_path / "results").exists()
    assert_nothing_left_running()


# --- one built gateway as the local stack ------------------------------------------------------


def test_the_local_stack_runs_a_wheel_with_more_settings(tmp_path: Path) -> None:
    """PERF_GATEWAY_SOURCE and PERF_GATEWAY_ENV_FILE for `make test` on a stack of its own:
    run.json names the build and the settings (the secret masked); gateway.env, which holds
    it, is its owner's alone; the stack is taken down at the end."""
    url = "http://127.0.0.1:4467"
    assert not answers(url), f"{url} must be free for this test"
    wheel = pip("--only-binary", ":all:", into=tmp_path / "wheel")
    settings = tmp_path / "more.env"
    settings.write_text(
        "LOG_LEVEL=WARNING\nJWT_SECRET_KEY=from-the-test-0123456789abcdefghijklmnopqrstuvwxyz\n"
    )
    env = kit_env(
        PERF_STACK_NAME="it-build", PERF_BASE_URL=url, PERF_SERVER_BASE_PORT="9467",
        PERF_GATEWAY_SOURCE=str(wheel), PERF_GATEWAY_ENV_FILE=str(settings),
        PERF_RESULTS_DIR=str(tmp_path / "results"), PERF_TOKEN_CACHE=str(tmp_path / "t.json"),
        PERF_ITERATIONS="1",
    )  # fmt: skip
    result = run(
        ["make", "test", "PROFILE=smoke", "SCENARIOS=gateway-core", "BASELINE=skip"],
        env,
    )
    assert result.code == 0, result.stderr[-3000:]
    assert f"starting gateway {wheel.name} on 127.0.0.1:4467" in result.stderr
    run_json = json.loads((tmp_path / "results" / "latest" / "run.json").read_text())
    assert run_json["target"]["build"]["kind"] == "wheel"
    assert run_json["target"]["build"]["key"] == describe(str(wheel))["key"]
    assert run_json["target"]["env_overrides"] == {
        "LOG_LEVEL": "WARNING",
        "JWT_SECRET_KEY": "***",
    }
    stack = KIT_ROOT / ".state" / "it-build"
    gateway_env = stack / "gateway.env"
    assert gateway_env.stat().st_mode & 0o077 == 0
    lines = gateway_env.read_text().splitlines()
    assert [n for n in lines if n.startswith("JWT_SECRET_KEY=")][-1] == (
        "JWT_SECRET_KEY=from-the-test-0123456789abcdefghijklmnopqrstuvwxyz"
    )
    assert "from-the-test" not in (stack / "gateway.json").read_text()
    assert stack_processes(stack) == []
    assert not answers(url)
