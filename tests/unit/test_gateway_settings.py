"""perfkit.gateway.release and perfkit.gateway.settings: which names a release reads (from a
small fake mcpgateway, read with ast, never imported), settings files parsed line by line,
unknown names and malformed lines refused naming where they came from, secrets masked."""

from __future__ import annotations

import os
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import KitError
from perfkit.gateway.release import package_dir, read_release
from perfkit.gateway.settings import (
    Setting,
    check_known,
    effective,
    gather,
    masked,
    parse_line,
    parse_pair,
    read_file,
    settings_text,
    shell_text,
)

CONFIG = '''\
import os
from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = int(os.getenv("MCG_PORT", "4444"))


class Settings(BaseSettings):
    """Example: os.environ.get('IN_A_DOCSTRING') is text, not a read."""

    log_level: str = Field(default="ERROR")
    log_requests: bool = False
    jwt_secret_key: str = "change me"
    deployment_env: str = Field(default="dev", validation_alias=AliasChoices("DEPLOYMENT_ENV", "ENVIRONMENT"))
    cache_url: str = Field(default="", alias="CACHE_ADDRESS")
    registry: ClassVar[dict] = {}
    model_config = SettingsConfigDict(env_file=".env", case_sensitive=False, extra="ignore")

    class Nested:
        inner_field: int = 1

    def method(self) -> str:
        local_thing: int = 2
        return os.environ["FROM_METHOD"] + str(local_thing)


settings = Settings()
'''

WORKER = """\
import os
from os import environ, getenv

THREADS = os.environ.get("WORKER_THREADS", "4")
PLAIN = getenv("PLAIN_GETENV")
if "FEATURE_FLAG" in environ:
    pass
os.environ.setdefault("SET_DEFAULT", "1")
name = "COMPUTED"
DYNAMIC = os.getenv(name)
"""


def fake_release(venv: Path, config: str = CONFIG) -> Path:
    """A venv holding a small mcpgateway: config.py, a module reading the environment, and a
    file Python cannot parse (skipped)."""
    package = venv / "lib" / "python3.11" / "site-packages" / "mcpgateway"
    (package / "services").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(config)
    (package / "services" / "worker.py").write_text(WORKER)
    (package / "broken.py").write_text("def (:\n")
    return venv


@pytest.fixture()
def release(tmp_path: Path):  # type: ignore[no-untyped-def]
    return read_release(package_dir(fake_release(tmp_path / "venv")))


# --- what a release reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["LOG_LEVEL", "log_level", "Log_Requests", "DEPLOYMENT_ENV", "ENVIRONMENT"]
    + ["CACHE_ADDRESS", "MCG_PORT", "FROM_METHOD", "WORKER_THREADS", "PLAIN_GETENV"]
    + ["FEATURE_FLAG", "SET_DEFAULT"],
)
def test_names_the_release_reads(release, name: str) -> None:  # type: ignore[no-untyped-def]
    assert release.knows(name)


@pytest.mark.parametrize(
    "name",
    [
        "LOG_LEVL",  # a typo
        "CACHE_URL",  # the field has an alias: its own name is not read
        "REGISTRY",  # a ClassVar is not a setting
        "MODEL_CONFIG",
        "INNER_FIELD",  # a nested class's field
        "LOCAL_THING",  # a method's local variable
        "IN_A_DOCSTRING",
        "COMPUTED",  # read through a variable: not a constant name
        "worker_threads",  # names read directly match exactly
    ],
)
def test_names_the_release_does_not_read(release, name: str) -> None:  # type: ignore[no-untyped-def]
    assert not release.knows(name)


def test_where_each_name_comes_from(release) -> None:  # type: ignore[no-untyped-def]
    lines = CONFIG.splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "log_level:" in text)
    assert release.fields["LOG_LEVEL"] == f"mcpgateway/config.py:{line}"
    assert release.direct["WORKER_THREADS"] == "mcpgateway/services/worker.py:4"


def test_an_env_prefix_is_part_of_the_field_names(tmp_path: Path) -> None:
    config = CONFIG.replace('env_file=".env",', 'env_file=".env", env_prefix="MCP_",')
    release = read_release(package_dir(fake_release(tmp_path / "venv", config)))
    assert release.knows("MCP_LOG_LEVEL")
    assert not release.knows("LOG_LEVEL")
    assert release.knows("ENVIRONMENT")  # aliases are not prefixed


def test_a_venv_without_the_gateway_is_exit_3(tmp_path: Path) -> None:
    with pytest.raises(KitError) as raised:
        package_dir(tmp_path)
    assert raised.value.code == 3
    assert "the gateway is not installed there" in str(raised.value)


def test_a_config_without_class_settings_is_exit_3(tmp_path: Path) -> None:
    venv = fake_release(tmp_path / "venv", "import os\n")
    with pytest.raises(KitError) as raised:
        read_release(package_dir(venv))
    assert raised.value.code == 3
    assert "mcpgateway/config.py has no class Settings" in str(raised.value)


# --- settings files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("LOG_LEVEL=DEBUG", "DEBUG"),
        ("  export LOG_LEVEL=DEBUG  ", "DEBUG"),
        ("LOG_LEVEL = DEBUG", "DEBUG"),
        ("LOG_LEVEL=DEBUG  # noisy", "DEBUG"),
        ("LOG_LEVEL=a#b", "a#b"),
        ("COLOR=#fff", "#fff"),
        ("LOG_LEVEL=", ""),
        ('LOG_LEVEL="two words # kept"', "two words # kept"),
        ("LOG_LEVEL='$(not run)'", "$(not run)"),
        ('LOG_LEVEL="a"b"', 'a"b'),
        ("URL=postgresql://u:p@h/db?x=1", "postgresql://u:p@h/db?x=1"),
    ],
)
def test_setting_lines(line: str, value: str) -> None:
    setting = parse_line(line, "a.env:3")
    assert setting is not None
    assert (setting.name, setting.value, setting.origin) == (
        line.split("=")[0].split()[-1],
        value,
        "a.env:3",
    )


@pytest.mark.parametrize("line", ["", "   ", "# LOG_LEVEL=DEBUG", "  # x"])
def test_blank_and_comment_lines_are_skipped(line: str) -> None:
    assert parse_line(line, "a.env:1") is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("LOG_LEVEL DEBUG", "a.env:7: not a NAME=VALUE (comments start with #) line"),
        ("LOG_LEVEL", "not a NAME=VALUE"),
        ("=DEBUG", "not a NAME=VALUE"),
        ("1LEVEL=x", "'1LEVEL' is not a setting name"),
        ("LOG-LEVEL=x", "'LOG-LEVEL' is not a setting name"),
        ('LOG_LEVEL="DEBUG', 'opens a " quote it does not close'),
        ('LOG_LEVEL="DEBUG" # why', 'opens a " quote it does not close'),
    ],
)
def test_malformed_lines_are_exit_2_naming_file_and_line(
    line: str, problem: str
) -> None:
    with pytest.raises(KitError) as raised:
        parse_line(line, "a.env:7")
    assert raised.value.code == 2
    assert str(raised.value).startswith("a.env:7: ")
    assert problem in str(raised.value)


def test_a_file_names_each_setting_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "b.env"
    path.write_text("# candidate\n\nLOG_LEVEL=DEBUG\nexport LOG_REQUESTS=true\n")
    assert read_file(path) == [
        Setting("LOG_LEVEL", "DEBUG", f"{path}:3"),
        Setting("LOG_REQUESTS", "true", f"{path}:4"),
    ]
    path.write_text("LOG_LEVEL=DEBUG\nLOG_REQUESTS\n")
    with pytest.raises(KitError, match=f"^{path}:2: not a NAME=VALUE"):
        read_file(path)
    with pytest.raises(KitError, match="cannot be read"):
        read_file(tmp_path / "missing.env")


def test_pairs_and_precedence(tmp_path: Path) -> None:
    path = tmp_path / "b.env"
    path.write_text("LOG_LEVEL=INFO\nLOG_REQUESTS=true\n")
    settings = gather([path], ["LOG_LEVEL=DEBUG", "URL=a=b"], "--candidate-set")
    assert [(s.name, s.value, s.origin) for s in effective(settings)] == [
        ("LOG_LEVEL", "DEBUG", "--candidate-set LOG_LEVEL"),
        ("LOG_REQUESTS", "true", f"{path}:2"),
        ("URL", "a=b", "--candidate-set URL"),
    ]
    with pytest.raises(KitError, match="--base-set 'LOG_LEVEL': expected NAME=VALUE"):
        parse_pair("LOG_LEVEL", "--base-set")


def test_unknown_names_are_exit_2_naming_origin_release_and_a_near_name(
    release,
) -> None:  # type: ignore[no-untyped-def]
    settings = [
        Setting("LOG_LEVL", "DEBUG", "b.env:4"),
        Setting("ENVIRONMENT", "perf", "b.env:5"),  # an alias: known
        Setting("NO_SUCH_THING", "1", "--candidate-set NO_SUCH_THING"),
    ]
    with pytest.raises(KitError) as raised:
        check_known(settings, release, "1.0.7.post20260921")
    lines = str(raised.value).splitlines()
    assert raised.value.code == 2
    assert (
        lines[0]
        == "b.env:4: unknown gateway setting 'LOG_LEVL' (did you mean LOG_LEVEL?)"
    )
    assert (
        lines[1]
        == "--candidate-set NO_SUCH_THING: unknown gateway setting 'NO_SUCH_THING'"
    )
    assert lines[2].startswith("release 1.0.7.post20260921 does not read them")
    check_known(settings[1:2], release, "x")  # known names pass


def test_secrets_are_masked() -> None:
    settings = [
        Setting(name, "s3cret", "a.env:1")
        for name in (
            "JWT_SECRET_KEY",
            "PLATFORM_ADMIN_PASSWORD",
            "api_token",
            "SSO_KEY",
        )
    ] + [Setting("LOG_LEVEL", "DEBUG", "a.env:2")]
    assert masked(settings) == {
        "JWT_SECRET_KEY": "***",
        "PLATFORM_ADMIN_PASSWORD": "***",
        "api_token": "***",
        "SSO_KEY": "***",
        "LOG_LEVEL": "DEBUG",
    }


VALUES = [
    "plain",
    "two words",
    'a "quoted" one',
    "it's",
    "$(touch pwned)",
    "#x",
    " pad ",
]


def test_the_settings_format_reads_back_exactly(tmp_path: Path) -> None:
    settings = [Setting(f"V{i}", value, "x") for i, value in enumerate(VALUES)]
    path = tmp_path / "merged.env"
    path.write_text(settings_text(settings))
    assert [s.value for s in read_file(path)] == VALUES


def test_the_shell_format_gives_bash_the_exact_values(tmp_path: Path) -> None:
    settings = [Setting(f"V{i}", value, "x") for i, value in enumerate(VALUES)]
    path = tmp_path / "gateway-settings.env"
    path.write_text(shell_text(settings))
    script = f"set -a; source {path}; " + "; ".join(
        f'printf "%s\\n" "$V{i}"' for i in range(len(VALUES))
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.split("\n")[:-1] == VALUES
    assert not (tmp_path / "pwned").exists()


# --- the command ------------------------------------------------------------------------------


def test_settings_command_checks_writes_and_masks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = fake_release(tmp_path / "venv")
    good = tmp_path / "b.env"
    good.write_text(
        textwrap.dedent("""\
        LOG_LEVEL=DEBUG
        JWT_SECRET_KEY=abc
        """)
    )
    out, shell = tmp_path / "state" / "settings.env", tmp_path / "state" / "shell.env"
    argv = ["gateway", "settings", "--file", str(good), "--set", "LOG_REQUESTS=true"]
    argv += ["--venv", str(venv), "--release", "R1", "--output", str(out)]
    assert main([*argv, "--shell-output", str(shell)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "LOG_LEVEL=DEBUG",
        "JWT_SECRET_KEY=***",
        "LOG_REQUESTS=true",
    ]
    for path in (out, shell):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert (
        out.read_text()
        == 'LOG_LEVEL="DEBUG"\nJWT_SECRET_KEY="abc"\nLOG_REQUESTS="true"\n'
    )
    bad = tmp_path / "c.env"
    bad.write_text("LOG_LEVEL=DEBUG\nLOG_REQUEST=true\n")
    argv = [
        "gateway",
        "settings",
        "--file",
        str(bad),
        "--venv",
        str(venv),
        "--release",
        "R1",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        f"{bad}:2: unknown gateway setting 'LOG_REQUEST' (did you mean LOG_REQUESTS?)"
        in err
    )
    assert "release R1 does not read it" in err
    # without --venv only the lines are checked
    assert main(["gateway", "settings", "--file", str(bad)]) == 0
    assert main(["gateway", "settings", "--set-flag=--base-set", "--set", "oops"]) == 2
    assert "--base-set 'oops': expected NAME=VALUE" in capsys.readouterr().err
