"""perfkit run-init: run.json contents, the environment fingerprint, refusal to overwrite."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil  # type: ignore[import-untyped]
import pytest
from perfkit.cli import main
from perfkit.config import VARS, load_settings
from perfkit.exitcodes import ExitCode
from perfkit.results.run import (
    Fingerprint,
    cpu_model,
    fingerprint,
    gateway_settings,
    kit_commit,
)

KIT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [*VARS, "GATEWAY_VERSION"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv(
        "GIT_CEILING_DIRECTORIES", str(tmp_path)
    )  # tmp_path is no checkout


@pytest.fixture
def settings_json(tmp_path: Path) -> Path:
    """What the shell writes with `perfkit config --format json` for the spike profile."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(load_settings(KIT, "spike", {}, {}).to_json()))
    return path


@pytest.fixture
def fake_hey(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "hey"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(
        command, cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def run_init(
    capsys: pytest.CaptureFixture[str], run_dir: Path, settings: Path, *extra: str
) -> tuple[int, str]:
    rc = main([
        "run-init", str(run_dir), "--kit-root", str(KIT), "--profile", "spike",
        "--settings-json", str(settings), "--target-url", "http://127.0.0.1:4444/", *extra,
    ])  # fmt: skip
    return rc, capsys.readouterr().err


def test_run_json_contents(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings_json: Path,
    fake_hey: Path,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    rc, err = run_init(
        capsys, tmp_path / "run", settings_json,
        "--gateway-version", "1.0.6", "--hey-bin", str(fake_hey), "--db-backend", "postgresql",
    )  # fmt: skip
    assert (rc, err) == (0, "")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert list(run) == [
        "schema_version", "profile", "started_at", "target", "environment", "settings",
    ]  # fmt: skip
    assert (run["schema_version"], run["profile"]) == (1, "spike")
    started = datetime.fromisoformat(run["started_at"])
    assert started.tzinfo is not None
    assert started.utcoffset() == timedelta(0)
    assert before <= started <= datetime.now(UTC)
    assert "." not in run["started_at"]
    assert run["target"] == {
        "url": "http://127.0.0.1:4444",
        "gateway_version": "1.0.6",
        "gateway_settings": None,
        "build": None,
        "env_overrides": None,
        "load_as": None,
    }
    expected = load_settings(KIT, "spike", {}, {}).for_run_json() | {
        "db_backend": "postgresql"
    }
    assert run["settings"] == expected
    assert set(run["environment"]) == {f.name for f in fields(Fingerprint)}
    assert run["environment"]["hey_path"] == str(fake_hey)
    assert run["environment"]["hey_version"] is None  # not the packaged hey


def test_run_json_records_the_local_stacks_build_and_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    """--gateway-record: the stack's gateway.json (perfkit gateway record) goes into the target."""
    wheel = tmp_path / "mcp_contextforge_gateway-1.0.7-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    overrides = tmp_path / "b.env"
    overrides.write_text("LOG_LEVEL=DEBUG\nJWT_SECRET_KEY=hunter2\n")
    record = tmp_path / "stack" / "gateway.json"
    argv = ["gateway", "record", str(record), str(wheel), "--settings", str(overrides)]
    assert main(argv) == 0
    rc, err = run_init(
        capsys, tmp_path / "run", settings_json, "--gateway-record", str(record)
    )
    assert (rc, err) == (0, "")
    target = json.loads((tmp_path / "run" / "run.json").read_text())["target"]
    assert target["build"]["kind"] == "wheel"
    assert target["build"]["label"] == wheel.name
    assert target["build"]["key"].startswith("build-")
    assert target["build"]["version"] == "1.0.7"
    assert target["env_overrides"] == {"LOG_LEVEL": "DEBUG", "JWT_SECRET_KEY": "***"}
    assert "hunter2" not in (tmp_path / "run" / "run.json").read_text()
    assert "hunter2" not in record.read_text()


def test_run_json_records_who_the_load_ran_as_never_a_token(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    """--load-as: perfkit bench-token's identity goes into the target; not one is exit 2."""
    who = {"kind": "benchmark-token", "email": "perfkit-benchmark@perfkit.example.com",
           "permissions": ["tools.read"], "token_id": "tok-1"}  # fmt: skip
    rc, err = run_init(
        capsys, tmp_path / "run", settings_json, "--load-as", json.dumps(who)
    )
    assert (rc, err) == (0, "")
    target = json.loads((tmp_path / "run" / "run.json").read_text())["target"]
    assert target["load_as"] == who
    rc, err = run_init(
        capsys, tmp_path / "other", settings_json, "--load-as", "eyJ.x.y"
    )
    assert rc == 2 and "--load-as 'eyJ.x.y' is not an identity object" in err
    assert not (tmp_path / "other" / "run.json").exists()


def test_gateway_version_defaults_to_null(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    rc, _ = run_init(capsys, tmp_path / "run", settings_json)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert rc == 0
    assert run["target"]["gateway_version"] is None
    assert run["settings"]["db_backend"] == "sqlite"


def test_gateway_info_gives_version_and_benchmark_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    recorded = KIT / "tests" / "fixtures" / "gateway" / "version.body"
    rc, _ = run_init(
        capsys, tmp_path / "run", settings_json, "--gateway-info", str(recorded)
    )
    target = json.loads((tmp_path / "run" / "run.json").read_text())["target"]
    assert rc == 0
    assert target["gateway_version"] == "1.0.7-20260921"
    settings = target["gateway_settings"]
    assert settings["database"] == "sqlite"
    assert settings["settings.cache_type"] == "memory"
    assert settings["env.LOG_LEVEL"] == "ERROR"
    assert "uptime_seconds" not in json.dumps(settings), "volatile fields stay out"


def test_where_the_gateway_listens_is_not_a_setting(tmp_path: Path) -> None:
    """The local stack starts each gateway with HOST and PORT (its self-calls need them): two
    stacks on other ports, as an integration test's slowed one, are still like for like."""
    answer = json.loads(
        (KIT / "tests" / "fixtures" / "gateway" / "version.body").read_text()
    )
    answer["env"] = {**answer.get("env", {}), "HOST": "127.0.0.1", "PORT": "4464"}
    settings = gateway_settings(answer)
    assert not any(key in settings for key in ("env.HOST", "env.PORT"))
    assert settings["env.LOG_LEVEL"] == "ERROR"


def test_unreadable_gateway_info_leaves_version_unknown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    broken = tmp_path / "version.json"
    broken.write_text("<html>")
    rc, _ = run_init(
        capsys, tmp_path / "run", settings_json, "--gateway-info", str(broken)
    )
    target = json.loads((tmp_path / "run" / "run.json").read_text())["target"]
    assert (rc, target["gateway_version"], target["gateway_settings"]) == (
        0,
        None,
        None,
    )


def test_existing_run_json_is_not_overwritten(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, settings_json: Path
) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.json").write_text("keep me")
    rc, err = run_init(capsys, tmp_path / "run", settings_json)
    assert rc == ExitCode.USAGE
    assert "run.json already exists" in err
    assert (tmp_path / "run" / "run.json").read_text() == "keep me"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ('{"PERF_REQUESTS": 1}', "lack PERF_CONCURRENCY, PERF_DURATION"),
        ("[1, 2]", "lack PERF_REQUESTS"),
    ],
)
def test_bad_settings_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    rc, err = run_init(capsys, tmp_path / "run", path)
    assert rc == ExitCode.USAGE
    assert fragment in err
    assert "perfkit config --format json" in err
    assert not (tmp_path / "run" / "run.json").exists()


def test_missing_settings_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rc, err = run_init(capsys, tmp_path / "run", tmp_path / "absent.json")
    assert rc == ExitCode.USAGE
    assert "cannot read settings" in err


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--target-url", "localhost:4444", "http(s) URL"),
        ("--db-backend", "mysql", "sqlite"),
    ],
)
def test_bad_arguments(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings_json: Path,
    flag: str,
    value: str,
    fragment: str,
) -> None:
    rc, err = run_init(capsys, tmp_path / "run", settings_json, flag, value)
    assert rc == ExitCode.USAGE
    assert f"{flag} '{value}'" in err and fragment in err
    assert not (tmp_path / "run" / "run.json").exists()


def test_fingerprint_describes_this_machine(tmp_path: Path, fake_hey: Path) -> None:
    found = fingerprint(tmp_path, str(fake_hey))
    assert found["logical_cores"] == os.cpu_count()
    assert found["memory_total_bytes"] == psutil.virtual_memory().total
    assert found["python_version"] == platform.python_version()
    assert found["kernel"] == platform.release()
    assert found["hostname"] == socket.gethostname()
    assert found["hey_path"] == str(fake_hey)
    assert found["kit_commit"] is None  # tmp_path is not a git checkout


def test_fingerprint_of_a_missing_hey(tmp_path: Path) -> None:
    found = fingerprint(tmp_path, "no-such-hey-binary")
    assert (found["hey_path"], found["hey_version"]) == (None, None)


def test_hey_version_comes_from_its_package(tmp_path: Path) -> None:
    hey = shutil.which("hey")
    if hey is None or shutil.which("dpkg-query") is None:
        pytest.skip("needs hey installed from its Debian package")
    packaged = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "hey"],
        check=False,
        capture_output=True,
        text=True,
    )
    if packaged.returncode != 0:
        pytest.skip("hey is not installed from its Debian package")
    assert fingerprint(tmp_path, "hey")["hey_version"] == packaged.stdout.strip()


def test_kit_commit_clean_and_dirty(tmp_path: Path) -> None:
    repo = tmp_path / "kit"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    short = git(repo, "rev-parse", "--short", "HEAD")
    assert kit_commit(repo) == short
    (repo / "a.txt").write_text("b\n")
    assert kit_commit(repo) == f"{short}-dirty"


def test_cpu_model_reads_model_name(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU @ 3.0GHz\nflags\t: x\n")
    assert cpu_model(cpuinfo) == "Test CPU @ 3.0GHz"


def test_cpu_model_falls_back_to_platform(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nHardware\t: BCM2835\n")
    assert cpu_model(cpuinfo) == (platform.processor() or None)
    assert cpu_model(tmp_path / "absent") == (platform.processor() or None)
