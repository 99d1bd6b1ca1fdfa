"""perfkit config: precedence of every layer, every validation message, rounding, duration
mode, the shell output through a real bash eval, and the kit's own config and profiles."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from perfkit.cli import main
from perfkit.config import RUN_JSON_KEYS, VARS, Settings, load_settings
from perfkit.exitcodes import ExitCode, KitError

KIT = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.stem for p in (KIT / "profiles").glob("*.env"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads os.environ: keep the developer's PERF_* out of the tests."""
    for key in [*VARS, "GATEWAY_VERSION"]:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """A copy of the kit's config.yaml, profiles and payloads, free to edit."""
    root = tmp_path / "kit"
    root.mkdir()
    shutil.copy(KIT / "config.yaml", root / "config.yaml")
    shutil.copytree(KIT / "profiles", root / "profiles")
    shutil.copytree(KIT / "payloads", root / "payloads")
    return root


def edit_yaml(kit: Path, path: str, value: Any) -> None:
    """Set (or with value None, delete) a dotted key in the copy's config.yaml."""
    document = yaml.safe_load((kit / "config.yaml").read_text())
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    (kit / "config.yaml").write_text(yaml.safe_dump(document))


def write_profile(kit: Path, name: str, text: str) -> None:
    (kit / "profiles" / f"{name}.env").write_text(text)


def load(kit: Path, profile: str = "light", **overrides: str) -> Settings:
    return load_settings(kit, profile, overrides, {})


def run_config(
    capsys: pytest.CaptureFixture[str], kit: Path, *args: str
) -> tuple[int, str, str]:
    rc = main(["config", "--kit-root", str(kit), *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


# --- precedence ---

LEVELS = ("default", "yaml", "profile", "env", "flag")
PRECEDENCE_CASES = [
    # settings name, config.yaml key, built-in default, then the value set at each higher level
    ("PERF_TIMEOUT", "performance.timeout", 20, [21, 22, 23, 24]),
    (
        "PERF_BASE_URL",
        "service.base_url",
        "http://127.0.0.1:4444",
        ["http://a:1", "http://b:2", "http://c:3", "http://d:4"],
    ),
    (
        "PERF_ERROR_THRESHOLD",
        "performance.error_threshold",
        0.01,
        [0.02, 0.03, 0.04, 0.05],
    ),
    ("PERF_MANAGE", "service.manage", "auto", ["never", "always", "auto", "never"]),
]


@pytest.mark.parametrize("top", LEVELS)
@pytest.mark.parametrize(("var_name", "yaml_key", "default", "above"), PRECEDENCE_CASES)
def test_each_layer_overrides_the_one_below(
    kit: Path, top: str, var_name: str, yaml_key: str, default: Any, above: list[Any]
) -> None:
    level = LEVELS.index(top)
    edit_yaml(kit, yaml_key, above[0] if level >= 1 else None)
    write_profile(kit, "p", f"{var_name}={above[1]}\n" if level >= 2 else "# empty\n")
    environ = {var_name: str(above[2])} if level >= 3 else {}
    overrides = {var_name: str(above[3])} if level >= 4 else {}
    settings = load_settings(kit, "p", overrides, environ)
    expected = default if level == 0 else above[level - 1]
    assert getattr(settings, var_name.removeprefix("PERF_").lower()) == expected


def test_flags_reach_load_settings_through_the_cli(
    capsys: pytest.CaptureFixture[str], kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_TIMEOUT", "33")
    monkeypatch.setenv("PERF_ITERATIONS", "7")
    rc, out, _ = run_config(
        capsys,
        kit,
        "--profile",
        "light",
        "--set",
        "PERF_TIMEOUT=44",
        "--format",
        "json",
    )
    assert rc == 0
    values = json.loads(out)
    assert (values["PERF_TIMEOUT"], values["PERF_ITERATIONS"]) == (44, 7)


def test_gateway_version_alias_and_its_precedence(kit: Path) -> None:
    assert load(kit).gateway_version == "1.0.7.post20260921"  # config.yaml
    alias = load_settings(kit, "light", {}, {"GATEWAY_VERSION": "1.0.6"})
    assert alias.gateway_version == "1.0.6"
    both = {"GATEWAY_VERSION": "1.0.6", "PERF_GATEWAY_VERSION": "1.0.5"}
    assert load_settings(kit, "light", {}, both).gateway_version == "1.0.5"


def test_empty_environment_variable_counts_as_unset(kit: Path) -> None:
    assert load_settings(kit, "heavy", {}, {"PERF_TIMEOUT": ""}).timeout == 60


def test_profile_file_syntax(kit: Path) -> None:
    write_profile(
        kit,
        "p",
        "# comment\n\n  PERF_TIMEOUT = 31 \nexport PERF_ITERATIONS=4\n"
        "PERF_AUTH_PASSWORD='a b#c'\nPERF_AUTH_EMAIL=\"x@y\"\n",
    )
    settings = load(kit, "p")
    assert (settings.timeout, settings.iterations) == (31, 4)
    assert (settings.auth_password, settings.auth_email) == ("a b#c", "x@y")


def test_warmup_accepts_booleans_in_yaml_and_flags(kit: Path) -> None:
    write_profile(kit, "p", "# no warm-up setting\n")
    edit_yaml(kit, "performance.warmup_requests", True)
    assert load(kit, "p").warmup == 20
    edit_yaml(kit, "performance.warmup_requests", False)
    assert load(kit, "p").warmup == 0
    assert load(kit, "p", PERF_WARMUP="true").warmup == 20


# --- requests, concurrency, duration ---


def test_requests_round_down_to_a_multiple_of_concurrency(kit: Path) -> None:
    settings = load(kit, PERF_REQUESTS="105", PERF_CONCURRENCY="10")
    assert settings.requests == 100
    assert settings.notes == (
        (
            "PERF_REQUESTS=105 rounded down to 100, a multiple of PERF_CONCURRENCY=10"
            " (hey drops the remainder)"
        ),
    )


def test_exact_multiple_adds_no_note(kit: Path) -> None:
    settings = load(kit, PERF_REQUESTS="120", PERF_CONCURRENCY="10")
    assert (settings.requests, settings.notes) == (120, ())


@pytest.mark.parametrize(
    ("warm", "expected"), [("15", 10), ("5", 10), ("0", 0), ("30", 30)]
)
def test_warmup_becomes_a_multiple_of_concurrency(
    kit: Path, warm: str, expected: int
) -> None:
    settings = load(kit, PERF_WARMUP=warm, PERF_CONCURRENCY="10")
    assert settings.warmup == expected
    assert bool(settings.notes) == (int(warm) != expected)


def test_duration_switches_to_duration_mode(kit: Path) -> None:
    settings = load(
        kit, PERF_DURATION="1m30s", PERF_REQUESTS="5", PERF_CONCURRENCY="10"
    )
    assert (settings.duration, settings.requests) == ("1m30s", 0)
    assert any("duration mode" in note for note in settings.notes)


def test_a_duration_runs_exports_are_read_again(kit: Path) -> None:
    """A run in duration mode exports PERF_REQUESTS=0; the commands it runs later resolve the
    settings again from that environment (run-init's settings: --duration was refused there)."""
    settings = load(kit, PERF_DURATION="2s", PERF_REQUESTS="0", PERF_CONCURRENCY="10")
    assert (settings.duration, settings.requests) == ("2s", 0)


def test_empty_duration_flag_returns_a_duration_profile_to_request_mode(
    kit: Path,
) -> None:
    assert load(kit, "soak").duration == "10m"
    settings = load(kit, "soak", PERF_DURATION="", PERF_REQUESTS="400")
    assert (settings.duration, settings.requests) == (None, 400)


# --- values ---


@pytest.mark.parametrize(
    ("text", "expected"), [("10%", 0.10), ("0.25", 0.25), ("2.5%", 0.025)]
)
def test_thresholds_take_fractions_or_percentages(
    kit: Path, text: str, expected: float
) -> None:
    assert load(
        kit, PERF_REGRESSION_THRESHOLD=text
    ).regression_threshold == pytest.approx(expected)


def test_error_threshold_may_be_zero(kit: Path) -> None:
    assert load(kit, PERF_ERROR_THRESHOLD="0").error_threshold == 0


def test_scenarios_expand_all_keep_order_and_drop_duplicates(kit: Path) -> None:
    edit_yaml(kit, "scenarios.all", ["prompts", "tools"])
    settings = load(kit, PERF_SCENARIOS="mixed, all,tools,mixed")
    assert settings.scenarios == ("mixed", "prompts", "tools")


def test_paths_are_made_absolute_against_the_kit_root(
    kit: Path, tmp_path: Path
) -> None:
    edit_yaml(kit, "reporting.output_dir", str(tmp_path / "elsewhere"))
    settings = load(kit, PERF_HEY_BIN="bin/hey")
    root = kit.resolve()
    assert settings.token_cache == root / ".state/auth/token.json"
    assert settings.baselines_dir == root / "baselines"
    assert settings.results_dir == tmp_path / "elsewhere"
    assert settings.payload_dir("gateway-core") == root / "payloads/core"
    assert settings.hey_bin == str(root / "bin/hey")
    assert load(kit).hey_bin == "hey"


def test_base_url_loses_its_trailing_slash(kit: Path) -> None:
    assert load(kit, PERF_BASE_URL="https://gw.example:8443/mcp/").base_url == (
        "https://gw.example:8443/mcp"
    )


def test_tests_are_globs_of_test_ids_or_names(kit: Path) -> None:
    assert load(kit).tests == ()
    chosen = load(kit, PERF_TESTS=" mcp/server_tools_*, rpc_ping ,rpc_ping")
    assert chosen.tests == ("mcp/server_tools_*", "rpc_ping")
    assert load(kit, PERF_TESTS="rest_list_[a-z]*_limit_?0").tests == (
        "rest_list_[a-z]*_limit_?0",
    )
    for bad in ("a b", "x;rm", "$(id)"):
        with pytest.raises(KitError, match="a test glob holds letters"):
            load(kit, PERF_TESTS=bad)


def test_for_run_json(kit: Path) -> None:
    settings = load(kit, "spike")
    assert settings.for_run_json() == {
        "requests": 0,
        "concurrency": 100,
        "duration": "15s",
        "timeout": 30,
        "iterations": 3,
        "warmup_requests": 0,
        "sequential": False,
        "error_threshold": 0.01,
        "regression_threshold": 0.20,
        "improvement_threshold": 0.05,
        "generator_cpu_warning": 0.8,
        "scenarios": ["tools", "gateway-core"],
        "tests": [],
        "db_backend": "sqlite",
        "servers_count": 1,
        "cache": "memory",
        "mcp_sessions": "stateless",
        "mcp_protocol_version": "2025-06-18",
        "mcp_peer": "",
        "dataset": "",
    }
    assert set(RUN_JSON_KEYS.values()) <= set(settings.to_json())


def test_a_dataset_is_a_file_of_datasets(kit: Path) -> None:
    shutil.copytree(KIT / "datasets", kit / "datasets")
    assert load(kit).dataset == ""
    assert load(kit, PERF_DATASET="tiny").dataset == "tiny"
    edit_yaml(kit, "service.dataset", "small")
    assert load(kit).dataset == "small"
    with pytest.raises(KitError) as err:
        load(kit, PERF_DATASET="smal")
    assert err.value.code == ExitCode.USAGE
    assert (
        "PERF_DATASET 'smal' not found (have: history-100k, history-10k, history-1m, "
        "large, massive, medium, small, tiny)" in str(err.value)
    )


# --- the kit's own configuration ---


@pytest.mark.parametrize("profile", PROFILES)
def test_every_real_profile_resolves(profile: str) -> None:
    settings = load_settings(KIT, profile, {}, {})
    lines = (KIT / "profiles" / f"{profile}.env").read_text().splitlines()
    declared = dict(line.split("=", 1) for line in lines if line.startswith("PERF_"))
    assert settings.profile == profile
    assert settings.concurrency == int(declared["PERF_CONCURRENCY"])
    assert settings.iterations == int(declared["PERF_ITERATIONS"])
    assert settings.baseline_profile == declared["PERF_BASELINE_PROFILE"]


def test_real_profiles_exist() -> None:
    assert {"smoke", "light", "medium", "heavy"} <= set(PROFILES)


# --- output ---


def test_shell_output_survives_bash_eval(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    password = "p a'ss\"w$HOME`id`\\n;$(echo x) *"
    rc, out, _ = run_config(
        capsys, kit, "--profile", "light", "--set", f"PERF_AUTH_PASSWORD={password}",
        "--set", "PERF_REQUESTS=105",
    )  # fmt: skip
    assert rc == 0
    script = 'eval "$(cat)"; printf "%s\\n%s\\n%s" "$PERF_AUTH_PASSWORD" "$PERF_NOTES" "$PERF_SCENARIOS"'
    shown = subprocess.run(
        ["bash", "-c", script], input=out, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert shown[0] == password
    assert shown[1].startswith("PERF_REQUESTS=105 rounded down to 100")
    assert shown[2] == "tools,resources,prompts,gateway-core,mcp,mixed,database"


def test_shell_output_exports_every_name(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    rc, out, _ = run_config(capsys, kit, "--profile", "light")
    names = [line.split("=", 1)[0].removeprefix("export ") for line in out.splitlines()]
    assert rc == 0
    assert all(line.startswith("export ") for line in out.splitlines())
    assert names == ["PERF_PROFILE", *VARS, "PERF_NOTES"]


def test_json_output_is_typed(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    rc, out, _ = run_config(capsys, kit, "--profile", "soak", "--format", "json")
    values = json.loads(out)
    assert rc == 0
    assert values["PERF_PROFILE"] == "soak"
    assert values["PERF_CONCURRENCY"] == 20
    assert values["PERF_DURATION"] == "10m"
    assert values["PERF_SCENARIOS"] == ["tools", "resources", "mixed"]
    assert values["PERF_LIST_LIMITS"] == [10, 50, 100]
    assert values["PERF_GENERATE_REPORT"] is True
    assert values["PERF_NOTES"] == [
        "duration mode: rounds run 10m (hey -z), requests unused"
    ]
    assert values["PERF_PAYLOAD_DIR_MIXED"] == str(kit.resolve() / "payloads/tools")


# --- validation: exit code 2, a message naming problem, value and fix, nothing on stdout ---

FLAG_ERRORS = [
    ("PERF_CONCURRENCY=abc", ["PERF_CONCURRENCY='abc'", "--set", "not a whole number"]),
    ("PERF_CONCURRENCY=0", ["PERF_CONCURRENCY='0'", "too small", "integer >= 1"]),
    ("PERF_CONCURRENCY=-4", ["PERF_CONCURRENCY='-4'", "too small"]),
    ("PERF_REQUESTS=lots", ["PERF_REQUESTS='lots'", "not a whole number"]),
    ("PERF_REQUESTS=0", ["PERF_REQUESTS='0'", "too small"]),
    ("PERF_ITERATIONS=1.5", ["PERF_ITERATIONS='1.5'", "not a whole number"]),
    ("PERF_ITERATIONS=0", ["PERF_ITERATIONS='0'", "too small"]),
    ("PERF_TIMEOUT=soon", ["PERF_TIMEOUT='soon'", "not a whole number"]),
    ("PERF_TIMEOUT=0", ["PERF_TIMEOUT='0'", "too small"]),
    ("PERF_WARMUP=-1", ["PERF_WARMUP='-1'", "integer >= 0"]),
    ("PERF_WARMUP=maybe", ["PERF_WARMUP='maybe'", "not a whole number"]),
    ("PERF_DURATION=30", ["PERF_DURATION='30'", "not a hey -z duration", "30s"]),
    ("PERF_DURATION=0s", ["PERF_DURATION='0s'", "is zero"]),
    ("PERF_DURATION=10 m", ["PERF_DURATION='10 m'", "not a hey -z duration"]),
    (
        "PERF_SCENARIOS=tools,tool",
        ["PERF_SCENARIOS='tools,tool'", "unknown 'tool'", "gateway-core"],
    ),
    ("PERF_SCENARIOS=,", ["PERF_SCENARIOS=','", "is empty"]),
    ("PERF_MANAGE=sometimes", ["PERF_MANAGE='sometimes'", "auto, never, always"]),
    ("PERF_DB_BACKEND=mysql", ["PERF_DB_BACKEND='mysql'", "sqlite, postgresql"]),
    ("PERF_CACHE=memcached", ["PERF_CACHE='memcached'", "memory, database, redis"]),
    ("PERF_REGRESSION_THRESHOLD=0", ["PERF_REGRESSION_THRESHOLD='0'", "0 < x < 1"]),
    ("PERF_REGRESSION_THRESHOLD=1", ["'1'", "not a fraction", "did you mean 1%?"]),
    (
        "PERF_IMPROVEMENT_THRESHOLD=10",
        ["PERF_IMPROVEMENT_THRESHOLD='10'", "did you mean 10%?"],
    ),
    ("PERF_IMPROVEMENT_THRESHOLD=150%", ["'150%'", "not a fraction", "10%"]),
    ("PERF_ERROR_THRESHOLD=-0.1", ["PERF_ERROR_THRESHOLD='-0.1'", "0 <= x < 1"]),
    ("PERF_ERROR_THRESHOLD=low", ["PERF_ERROR_THRESHOLD='low'", "not a number"]),
    ("PERF_ERROR_THRESHOLD=nan", ["PERF_ERROR_THRESHOLD='nan'", "not a fraction"]),
    ("PERF_GENERATOR_CPU_WARNING=0", ["PERF_GENERATOR_CPU_WARNING='0'", "positive"]),
    ("PERF_BASE_URL=ftp://h:1", ["PERF_BASE_URL='ftp://h:1'", "http(s) URL"]),
    ("PERF_BASE_URL=127.0.0.1:4444", ["PERF_BASE_URL='127.0.0.1:4444'", "http(s) URL"]),
    ("PERF_BASE_URL=http://h:99999", ["PERF_BASE_URL='http://h:99999'", "http(s) URL"]),
    ("PERF_REDIS_URL=http://h", ["PERF_REDIS_URL='http://h'", "redis://"]),
    (
        "PERF_GENERATE_REPORT=perhaps",
        ["PERF_GENERATE_REPORT='perhaps'", "true or false"],
    ),
    ("PERF_LIST_LIMITS=10,x", ["PERF_LIST_LIMITS='10,x'", "positive integers"]),
    ("PERF_METRICS=p50,p42", ["PERF_METRICS='p50,p42'", "unknown 'p42'"]),
    (
        "PERF_GATEWAY_VERSION=1.0 beta",
        ["PERF_GATEWAY_VERSION='1.0 beta'", "not a name"],
    ),
    ("PERF_BASELINE_PROFILE=../x", ["PERF_BASELINE_PROFILE='../x'", "not a name"]),
    ("PERF_AUTH_EMAIL= ", ["PERF_AUTH_EMAIL=' '", "is empty"]),
    (
        "PERF_CONCURENCY=3",
        ["--set: unknown setting 'PERF_CONCURENCY'", "PERF_CONCURRENCY?"],
    ),
    ("PERF_CONCURRENCY", ["--set expects NAME=VALUE", "'PERF_CONCURRENCY'"]),
]


@pytest.mark.parametrize(("pair", "fragments"), FLAG_ERRORS)
def test_invalid_flag_values_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], kit: Path, pair: str, fragments: list[str]
) -> None:
    rc, out, err = run_config(capsys, kit, "--profile", "light", "--set", pair)
    assert (rc, out) == (ExitCode.USAGE, "")
    assert err.startswith("perfkit config: error: ")
    for fragment in fragments:
        assert fragment in err


def expect_usage_error(
    capsys: pytest.CaptureFixture[str], kit: Path, *args: str, fragments: list[str]
) -> None:
    rc, out, err = run_config(capsys, kit, *args)
    assert (rc, out) == (ExitCode.USAGE, "")
    for fragment in fragments:
        assert fragment in err


def test_requests_smaller_than_concurrency(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    expect_usage_error(
        capsys, kit, "--profile", "light", "--set", "PERF_REQUESTS=5",
        fragments=[("PERF_REQUESTS=5 is smaller than PERF_CONCURRENCY=10: hey needs at"
                    " least one request per worker")],
    )  # fmt: skip


def test_unknown_profile_lists_the_known_ones(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    expect_usage_error(
        capsys, kit, "--profile", "heavvy",
        fragments=["profile 'heavvy' not found (have: heavy, light, medium, smoke, soak, spike)"],
    )  # fmt: skip


def test_profile_name_cannot_leave_the_profiles_folder(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    (kit / "secret.env").write_text("PERF_TIMEOUT=1\n")
    expect_usage_error(
        capsys, kit, "--profile", "../secret", fragments=["'../secret' not found"]
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("PERF_TIMEOUT=5\nPERF_CONCURENCY=3\n", ["profiles/p.env line 2", "'PERF_CONCURENCY'",
                                                "did you mean PERF_CONCURRENCY?"]),
        ("# c\nPERF_TIMEOUT 5\n", ["profiles/p.env line 2", "expected NAME=VALUE"]),
        ("PERF_TIMEOUT=5\nPERF_TIMEOUT=6\n", ["line 2", "PERF_TIMEOUT is set twice"]),
        ("PERF_TIMEOUT=x\n", ["PERF_TIMEOUT='x' (from profiles/p.env line 1)"]),
        ("HOME=/tmp\n", ["unknown setting 'HOME'", "known: PERF_BASE_URL"]),
    ],
)  # fmt: skip
def test_bad_profile_files(
    capsys: pytest.CaptureFixture[str], kit: Path, text: str, fragments: list[str]
) -> None:
    write_profile(kit, "p", text)
    expect_usage_error(capsys, kit, "--profile", "p", fragments=fragments)


def test_environment_values_are_validated_and_named(
    capsys: pytest.CaptureFixture[str], kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_ITERATIONS", "many")
    expect_usage_error(
        capsys, kit, "--profile", "light",
        fragments=["PERF_ITERATIONS='many' (from environment PERF_ITERATIONS)"],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "fragments"),
    [
        ("performance.concurency", 5, ["unknown key 'performance.concurency'", "concurrency,"]),
        ("reportng", {"x": 1}, ["unknown key 'reportng'", "known here: advanced, auth, baselines"]),
        ("scenarios.tools.payload", "x", ["unknown key 'scenarios.tools.payload'",
                                          "endpoints, payload_dir"]),
        ("scenarios.all", ["tools", "toolz"], ["scenarios.all", "unknown 'toolz'"]),
        ("performance.timeout", {"s": 1}, ["'performance.timeout' must be a value"]),
        ("service", "x", ["'service' must be a mapping"]),
        ("performance.requests", "many", ["PERF_REQUESTS='many'", "performance.requests"]),
    ],
)  # fmt: skip
def test_bad_config_yaml(
    capsys: pytest.CaptureFixture[str],
    kit: Path,
    key: str,
    value: Any,
    fragments: list[str],
) -> None:
    edit_yaml(kit, key, value)
    expect_usage_error(capsys, kit, "--profile", "light", fragments=fragments)


def test_corrupt_yaml_names_the_line(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    (kit / "config.yaml").write_text(
        "service:\n  base_url: x\n  manage: [auto\n\nauth: {}\n"
    )
    rc, out, err = run_config(capsys, kit, "--profile", "light")
    assert (rc, out) == (ExitCode.USAGE, "")
    assert "config.yaml line " in err
    assert "invalid YAML" in err
    line = int(err.split("config.yaml line ")[1].split(",")[0])
    assert 3 <= line <= 5


def test_yaml_must_be_a_mapping(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    (kit / "config.yaml").write_text("- a\n- b\n")
    expect_usage_error(
        capsys, kit, "--profile", "light", fragments=["expected sections"]
    )


def test_missing_explicit_config_file(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    missing = str(kit / "nope.yaml")
    expect_usage_error(
        capsys, kit, "--profile", "light", "--config", missing,
        fragments=[f"cannot read {missing}"],
    )  # fmt: skip


def test_explicit_config_file_is_used(kit: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("performance:\n  improvement_threshold: 7%\n")
    settings = load_settings(kit, "light", {}, {}, other)
    assert settings.improvement_threshold == pytest.approx(0.07)


def test_missing_default_config_falls_back_to_built_ins(kit: Path) -> None:
    (kit / "config.yaml").unlink()
    write_profile(kit, "p", "# nothing\n")
    settings = load(kit, "p")
    assert (settings.requests, settings.gateway_version) == (200, "1.0.7")


def test_missing_payload_folder(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    shutil.rmtree(kit / "payloads" / "prompts")
    expect_usage_error(
        capsys, kit, "--profile", "light",
        fragments=["PERF_PAYLOAD_DIR_PROMPTS=", "payloads/prompts", "is not a folder",
                   "scenarios.prompts.payload_dir"],
    )  # fmt: skip


def test_invalid_payload_json_names_the_file(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    bad = kit / "payloads" / "tools" / "zz_broken.json"
    bad.write_text('{"jsonrpc": "2.0",\n "id": }\n')
    expect_usage_error(
        capsys, kit, "--profile", "light",
        fragments=[f"payload {bad.resolve()} is not valid JSON (line 2, column"],
    )  # fmt: skip


def test_non_utf8_payload(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    (kit / "payloads" / "core" / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    expect_usage_error(
        capsys, kit, "--profile", "light", fragments=["latin1.json is not UTF-8"]
    )


def test_redis_cache_needs_a_url(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    expect_usage_error(
        capsys, kit, "--profile", "light", "--set", "PERF_CACHE=redis", "--set", "PERF_REDIS_URL=",
        fragments=["PERF_CACHE=redis needs PERF_REDIS_URL"],
    )  # fmt: skip


def test_missing_kit_root(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expect_usage_error(
        capsys, tmp_path / "absent", "--profile", "light", fragments=["is not a folder"]
    )


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str], kit: Path) -> None:
    expect_usage_error(capsys, kit, fragments=["--profile", "perfkit config --help"])


def test_load_settings_raises_kit_error(kit: Path) -> None:
    with pytest.raises(KitError) as caught:
        load(kit, PERF_TIMEOUT="-1")
    assert caught.value.code == ExitCode.USAGE


# --- baselines: comparison settings, and slos ---


def test_comparison_settings_defaults_and_config_yaml(kit: Path) -> None:
    settings = load(kit)
    assert settings.baseline_mode == "compare"
    assert settings.critical_metrics == ("p50", "rps")
    assert (settings.alpha, settings.size_gate_factor) == (0.05, 0.7)
    assert (settings.min_rounds, settings.error_rate_tolerance) == (3, 0.0)
    assert settings.promote_after == 3
    assert settings.slos == ()
    assert settings.regression_thresholds() == {
        "p50": 0.10, "p95": 0.20, "p99": 0.20, "rps": 0.10, "total_time": 0.10,
    }  # fmt: skip


def test_unset_metric_thresholds_follow_the_general_threshold(kit: Path) -> None:
    edit_yaml(kit, "baselines.thresholds", None)
    settings = load(kit, PERF_REGRESSION_THRESHOLD="15%", PERF_THRESHOLD_RPS="0.3")
    assert settings.regression_thresholds() == {
        "p50": 0.15, "p95": 0.15, "p99": 0.15, "rps": 0.3, "total_time": 0.15,
    }  # fmt: skip


def test_comparison_settings_follow_the_precedence(kit: Path) -> None:
    edit_yaml(kit, "baselines.alpha", 0.01)
    edit_yaml(kit, "baselines.critical_metrics", ["p95"])
    assert load(kit).alpha == 0.01
    assert load(kit).critical_metrics == ("p95",)
    environ = {"PERF_MIN_ROUNDS": "5", "PERF_BASELINE_MODE": "save"}
    settings = load_settings(kit, "light", {"PERF_MIN_ROUNDS": "6"}, environ)
    assert (settings.min_rounds, settings.baseline_mode) == (6, "save")


def test_json_output_carries_comparison_settings(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    rc, out, _ = run_config(capsys, kit, "--profile", "light", "--format", "json")
    values = json.loads(out)
    assert rc == 0
    assert values["PERF_CRITICAL_METRICS"] == ["p50", "rps"]
    assert values["PERF_THRESHOLD_P95"] == 0.2
    assert values["PERF_THRESHOLD_P50"] is None
    assert "PERF_SLOS" not in values


COMPARISON_ERRORS = [
    ("PERF_BASELINE_MODE=always", ["'always'", "compare, save, skip"]),
    ("PERF_CRITICAL_METRICS=p50,p90", ["unknown 'p90'", "total_time"]),
    ("PERF_THRESHOLD_P95=20", ["PERF_THRESHOLD_P95='20'", "did you mean 20%?"]),
    ("PERF_ALPHA=0", ["PERF_ALPHA='0'", "0 < x < 1"]),
    ("PERF_SIZE_GATE_FACTOR=1.5", ["PERF_SIZE_GATE_FACTOR='1.5'", "above 1"]),
    ("PERF_SIZE_GATE_FACTOR=0", ["PERF_SIZE_GATE_FACTOR='0'", "positive"]),
    ("PERF_MIN_ROUNDS=0", ["PERF_MIN_ROUNDS='0'", "too small"]),
    (
        "PERF_ERROR_RATE_TOLERANCE=-1%",
        ["PERF_ERROR_RATE_TOLERANCE='-1%'", "0 <= x < 1"],
    ),
    ("PERF_PROMOTE_AFTER=x", ["PERF_PROMOTE_AFTER='x'", "not a whole number"]),
]


@pytest.mark.parametrize(("pair", "fragments"), COMPARISON_ERRORS)
def test_invalid_comparison_settings_exit_2(
    capsys: pytest.CaptureFixture[str], kit: Path, pair: str, fragments: list[str]
) -> None:
    expect_usage_error(
        capsys, kit, "--profile", "light", "--set", pair, fragments=fragments
    )


def test_unknown_baselines_key_is_refused(
    capsys: pytest.CaptureFixture[str], kit: Path
) -> None:
    edit_yaml(kit, "baselines.thresholds.p42", 0.1)
    expect_usage_error(
        capsys, kit, "--profile", "light",
        fragments=["unknown key 'baselines.thresholds.p42'", "p50, p95, p99, rps, total_time"],
    )  # fmt: skip


def test_slos_are_parsed_from_config_yaml(kit: Path) -> None:
    edit_yaml(
        kit,
        "slos",
        {"tools/*": {"p95_ms": 250, "max_error_rate": 0}, "x": {"min_rps": 5}},
    )
    rules = load(kit).slos
    assert [r.pattern for r in rules] == ["tools/*", "x"]
    assert dict(rules[0].limits) == {"p95_ms": 250.0, "max_error_rate": 0.0}
    assert rules[0].matches("tools/rpc_tools_list")
    assert not rules[0].matches("gateway-core/health")


@pytest.mark.parametrize(
    ("slos", "fragment"),
    [
        ({"tools/*": {"p90_ms": 1}}, "slos.tools/*: unknown limit 'p90_ms'"),
        ({"tools/*": {"p95_ms": -1}}, "slos.tools/*.p95_ms=-1 is not a number >= 0"),
        ({"tools/*": {"p95_ms": "fast"}}, "p95_ms='fast' is not a number"),
        ({"tools/*": {"max_error_rate": 5}}, "is not a fraction 0 <= x < 1"),
        ({"tools/*": 250}, "slos.tools/* must map limits"),
        ([1, 2], "slos must map a test id or glob to limits"),
    ],
)
def test_invalid_slos_exit_2(
    capsys: pytest.CaptureFixture[str], kit: Path, slos: Any, fragment: str
) -> None:
    edit_yaml(kit, "slos", slos)
    expect_usage_error(capsys, kit, "--profile", "light", fragments=[fragment])


def test_advanced_settings(kit: Path) -> None:
    settings = load_settings(kit, "smoke", {}, {})
    assert settings.sweep_levels == ()
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 10)
    assert "scale" not in settings.scenarios and "sweep" not in settings.scenarios
    chosen = load_settings(
        kit, "smoke", {"PERF_SCENARIOS": "scale,sweep", "PERF_SWEEP_LEVELS": "5,10"}, {}
    )
    assert chosen.scenarios == ("scale", "sweep")
    assert chosen.sweep_levels == (5, 10)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PERF_SWEEP_LEVELS", "5,x", "not a list of positive integers"),
        ("PERF_POSTGRES_URL", "mysql://h/db", "is not a PostgreSQL URL"),
        ("PERF_DB_POOL_SIZE", "0", "PERF_DB_POOL_SIZE"),
    ],
)
def test_advanced_settings_are_validated(
    kit: Path, name: str, value: str, fragment: str
) -> None:
    with pytest.raises(KitError) as err:
        load_settings(kit, "smoke", {name: value}, {})
    assert err.value.code == ExitCode.USAGE
    assert fragment in str(err.value)
