"""perfkit compose generate as a user runs it: the Compose file for 1, 10 and 100 servers and
each database layout, validated against the vendored Compose Specification schema (with
jsonschema directly, independent of perfkit compose validate), and read back for what matters:
servers, ports, registration, health checks, limits, benchmark settings, secrets."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import perfkit.compose.render
import pytest
import yaml
from perfkit.cli import main
from perfkit.config import VARS

KIT_ROOT = Path(__file__).resolve().parents[2]
VENDORED_SCHEMA = (
    KIT_ROOT / "utils" / "perfkit" / "schemas" / "compose-spec.schema.json"
)
# compose-spec/compose-spec, schema/compose-spec.json at commit 170098ba07d9 (Apache-2.0)
VENDORED_SHA256 = "1f91e091f16b2dd50ab8860e02bb391d22df553d91c145eacedb1b6eff9c3f0e"
# utils/local-stack.sh's stack_write_env: what a benchmark gateway must run with
BENCHMARK_SETTINGS = {
    "RATE_LIMITING_ENABLED": "false",
    "SSRF_ALLOW_LOCALHOST": "true",
    "SSRF_ALLOW_PRIVATE_NETWORKS": "true",
    "OBSERVABILITY_ENABLED": "false",
    "LOG_LEVEL": "ERROR",
    "DISABLE_ACCESS_LOG": "true",
    "AUTH_REQUIRED": "true",
    "MCPGATEWAY_UI_ENABLED": "false",
    "MCPGATEWAY_ADMIN_API_ENABLED": "true",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [*VARS, "GATEWAY_VERSION"]:
        monkeypatch.delenv(key, raising=False)


def generate(tmp_path: Path, *args: str, name: str = "docker-compose.yaml") -> Path:
    output = tmp_path / "out" / name
    rc = main(["compose", "generate", *args, "--output", str(output)])
    assert rc == 0
    return output


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    return document


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(VENDORED_SCHEMA.read_text())
    assert "draft-07" in schema["$schema"]
    validator = jsonschema.Draft7Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def env_values(path: Path) -> dict[str, str]:
    lines = [x for x in path.read_text().splitlines() if x and not x.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def servers_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in document["services"].items()
        if name.startswith("bench-server-")
    }


def gateways_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in document["services"].items()
        if name.startswith("gateway")
    }


def host_ports(service: dict[str, Any]) -> list[int]:
    return [int(port["published"]) for port in service.get("ports", [])]


def test_vendored_schema_is_the_published_one() -> None:
    """The copy in the kit is byte for byte the published schema it names (no local edits)."""
    digest = hashlib.sha256(VENDORED_SCHEMA.read_bytes()).hexdigest()
    assert digest == VENDORED_SHA256
    assert json.loads(VENDORED_SCHEMA.read_text())["$schema"].endswith(
        "draft-07/schema"
    )


@pytest.mark.parametrize("count", [1, 10, 100])
def test_n_servers_valid_unique_ports_all_registered(
    tmp_path: Path, count: int
) -> None:
    path = generate(tmp_path, "--servers", str(count))
    document = load(path)
    assert schema_errors(document) == []
    servers = servers_of(document)
    assert sorted(servers) == sorted(f"bench-server-{i}" for i in range(1, count + 1))
    ports = [
        p for service in document["services"].values() for p in host_ports(service)
    ]
    assert len(ports) == len(set(ports)) == count + 1  # the servers and one gateway
    assert sorted(p for s in servers.values() for p in host_ports(s)) == list(
        range(9101, 9101 + count)
    )
    register = document["services"]["register"]
    command = register["command"]
    registered = [command[i + 1] for i, arg in enumerate(command) if arg == "--server"]
    assert registered == [
        f"bench-time-{i}=http://bench-server-{i}:{9100 + i}/mcp"
        for i in range(1, count + 1)
    ]
    assert set(register["depends_on"]) == {*servers, "gateway"}
    assert {v["condition"] for v in register["depends_on"].values()} == {
        "service_healthy"
    }
    assert (
        main(["compose", "validate", str(path), "--schema", str(VENDORED_SCHEMA)]) == 0
    )


def test_every_service_has_limits_and_long_running_ones_health_checks(
    tmp_path: Path,
) -> None:
    document = load(generate(tmp_path, "--servers", "3", "--database", "both"))
    for name, service in document["services"].items():
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and re.fullmatch(
            r"\d+[MG]", limits["memory"]
        ), name
        if name != "register":
            assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
    assert document["services"]["register"]["restart"] == "no"
    services = document["services"]
    checks = {
        n: " ".join(services[n]["healthcheck"]["test"])
        for n in services
        if n != "register"
    }
    assert (
        "/health" in checks["gateway-sqlite"] and "/stats" in checks["bench-server-2"]
    )
    assert "pg_isready" in checks["postgres"] and "redis-cli ping" in checks["redis"]


@pytest.mark.parametrize(
    ("database", "gateways", "postgres"),
    [
        ("sqlite", {"gateway": "sqlite"}, False),
        ("postgresql", {"gateway": "postgresql"}, True),
        (
            "both",
            {"gateway-sqlite": "sqlite", "gateway-postgresql": "postgresql"},
            True,
        ),
    ],
)
def test_database_layouts(
    tmp_path: Path, database: str, gateways: dict[str, str], postgres: bool
) -> None:
    path = generate(tmp_path, "--servers", "4", "--database", database)
    document = load(path)
    assert schema_errors(document) == []
    found = gateways_of(document)
    assert list(found) == list(gateways)
    assert ("postgres" in document["services"]) is postgres
    assert "redis" in document["services"]
    secrets = env_values(path.with_suffix(".env"))
    assert secrets["DATABASE_URL"].startswith("postgresql+psycopg://bench:")
    for name, service in found.items():
        sqlite = gateways[name] == "sqlite"
        url = service["environment"].get("DATABASE_URL")
        # a SQLite gateway overrides the env file's PostgreSQL URL; a PostgreSQL one uses it
        assert url == ("sqlite:////data/mcp.db" if sqlite else None), name
        assert ("postgres" in service.get("depends_on", {})) is (not sqlite), name
        assert service["env_file"] == ["docker-compose.env"]
        assert (f"{name}-data:/data" in service.get("volumes", [])) is sqlite, name
    command = document["services"]["register"]["command"]
    targets = [command[i + 1] for i, arg in enumerate(command) if arg == "--gateway"]
    assert targets == [f"http://{name}:4444" for name in gateways]
    assert set(gateways) <= set(document["services"]["register"]["depends_on"])
    ports = [host_ports(service)[0] for service in found.values()]
    assert ports == list(range(4444, 4444 + len(gateways)))


def test_gateway_environment_has_the_benchmark_settings(tmp_path: Path) -> None:
    document = load(generate(tmp_path, "--servers", "2", "--database", "both"))
    for name, service in gateways_of(document).items():
        env = service["environment"]
        assert {k: env.get(k) for k in BENCHMARK_SETTINGS} == BENCHMARK_SETTINGS, name
        assert int(env["TOOL_RATE_LIMIT"]) >= 100_000
        assert int(env["HTTPX_MAX_CONNECTIONS"]) > 0
        assert env["CACHE_TYPE"] == "memory"  # one instance: the local stack's default
        assert (int(env["DB_POOL_SIZE"]), int(env["DB_MAX_OVERFLOW"])) == (20, 10)


def test_workers_and_instances(tmp_path: Path) -> None:
    args = ["--servers", "5", "--database", "postgresql"]
    path = generate(
        tmp_path, *args, "--gateway-instances", "3", "--gateway-workers", "4"
    )
    document = load(path)
    assert schema_errors(document) == []
    gateways = gateways_of(document)
    assert list(gateways) == ["gateway-1", "gateway-2", "gateway-3"]
    connections = 0
    for n, (name, service) in enumerate(gateways.items()):
        env = service["environment"]
        assert service["command"][-2:] == ["--workers", "4"]
        assert env["GUNICORN_WORKERS"] == "4"
        assert env["CACHE_TYPE"] == "redis"  # several instances share one cache
        needs = set(service["depends_on"])
        assert needs == ({"postgres", "redis"} | ({"gateway-1"} if n else set())), name
        connections += 4 * (int(env["DB_POOL_SIZE"]) + int(env["DB_MAX_OVERFLOW"]))
        assert host_ports(service) == [4444 + n]
    assert 0 < connections < 100  # PostgreSQL's max_connections
    assert document["services"]["postgres"]["command"][-1] == "max_connections=100"
    assert "build" in gateways["gateway-1"] and "build" not in gateways["gateway-2"]
    assert gateways["gateway-2"]["pull_policy"] == "never"


def test_one_image_build_per_image_and_contexts_resolve(tmp_path: Path) -> None:
    path = generate(tmp_path, "--servers", "3", name="stack.yml")
    document = load(path)
    builds = {n: s["build"] for n, s in document["services"].items() if "build" in s}
    assert set(builds) == {"gateway", "bench-server-1"}
    ours = [
        s for n, s in document["services"].items() if n not in {"postgres", "redis"}
    ]
    images = {service["image"] for service in ours}
    assert len(images) == 2  # the register service runs the bench-server image
    for build in builds.values():
        context = (path.parent / build["context"]).resolve()
        dockerfile = context / build["dockerfile"]
        assert dockerfile.is_file()
        for line in dockerfile.read_text().splitlines():
            if line.startswith("COPY "):
                for source in line.split()[1:-1]:
                    assert (context / source).is_file(), f"{dockerfile}: {line}"
    assert builds["gateway"]["args"] == {"GATEWAY_VERSION": "1.0.7.post20260921"}
    assert document["services"]["gateway"]["env_file"] == ["stack.env"]


def test_bench_server_image_pins_mcp_as_the_requirements_do() -> None:
    dockerfile = (KIT_ROOT / "utils" / "docker" / "bench-server.Dockerfile").read_text()
    pattern = re.search(r"grep -E '([^']+)' /tmp/requirements.txt", dockerfile)
    assert pattern is not None
    lines = (KIT_ROOT / "utils" / "pins" / "requirements.txt").read_text().splitlines()
    assert [x for x in lines if re.match(pattern.group(1), x)] == ["mcp>=1.20,<2"]


def test_gateway_version_from_config_then_environment_then_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = yaml.safe_load((KIT_ROOT / "config.yaml").read_text())
    version = str(config["service"]["gateway_version"])

    def image_of(path: Path) -> str:
        return str(load(path)["services"]["gateway"]["image"])

    assert (
        image_of(generate(tmp_path, "--servers", "1")) == f"perfkit-gateway:{version}"
    )
    monkeypatch.setenv("GATEWAY_VERSION", "1.0.6")
    assert image_of(generate(tmp_path, "--servers", "1")) == "perfkit-gateway:1.0.6"
    flagged = generate(tmp_path, "--servers", "1", "--gateway-version", "1.0.5")
    assert image_of(flagged) == "perfkit-gateway:1.0.5"


def test_secrets_live_in_a_private_env_file_never_in_the_yaml(tmp_path: Path) -> None:
    path = generate(tmp_path, "--servers", "2", "--database", "both")
    env_file = path.with_suffix(".env")
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = env_values(env_file)
    assert len(values["JWT_SECRET_KEY"]) >= 32
    assert values["PLATFORM_ADMIN_EMAIL"] == "admin@example.com"  # the kit's auth.email
    assert values["DATABASE_URL"].count(values["POSTGRES_PASSWORD"]) == 1
    text = path.read_text()
    for key in ("JWT_SECRET_KEY", "AUTH_ENCRYPTION_SECRET", "BASIC_AUTH_PASSWORD",
                "POSTGRES_PASSWORD", "PLATFORM_ADMIN_PASSWORD"):  # fmt: skip
        assert values[key] not in text, key
    assert len({values[k] for k in ("JWT_SECRET_KEY", "AUTH_ENCRYPTION_SECRET")}) == 2
    before = env_file.read_text()
    generate(tmp_path, "--servers", "7")  # generating again keeps the secrets
    assert env_file.read_text() == before


def test_special_characters_in_the_admin_password_are_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_AUTH_PASSWORD", "pa$$ #word")
    path = generate(tmp_path, "--servers", "1")
    assert (
        "PLATFORM_ADMIN_PASSWORD='pa$$ #word'" in path.with_suffix(".env").read_text()
    )


def run_error(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["compose", "generate", *args])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--servers", "0"], "--servers 0 is out of range: use 1-100"),
        (["--servers", "101"], "--servers 101 is out of range: use 1-100"),
        (["--servers", "2.5"], "--servers '2.5' is not a whole number"),
        (["--servers", "ten"], "--servers 'ten' is not a whole number"),
        (["--servers", "2", "--gateway-instances", "2"], "SQLite is one file per gateway process"),
        (["--servers", "2", "--database", "both", "--gateway-instances", "2"],
         "--gateway-instances 2 with --database both"),
        (["--servers", "2", "--gateway-instances", "9", "--database", "postgresql"],
         "--gateway-instances 9 is out of range: use 1-8"),
        (["--servers", "2", "--gateway-workers", "0"], "--gateway-workers 0 is out of range"),
        (["--servers", "2", "--database", "postgresql", "--gateway-instances", "8",
          "--gateway-workers", "16"], "128 PostgreSQL gateway processes"),
        (["--servers", "2", "--database", "mysql"], "'mysql' is not one of: sqlite, postgresql, both"),
        (["--servers", "3", "--gateway-port", "9102"],
         "host port 9102 is used by both gateway and bench-server-2"),
        (["--servers", "3", "--database", "both", "--gateway-port", "9100"],
         "host port 9101 is used by both gateway-postgresql and bench-server-1"),
        (["--servers", "2", "--server-memory", "lots"], "'lots' is not a memory size"),
        (["--servers", "2", "--gateway-cpus", "-1"], "'-1' is not a positive number of CPUs"),
        (["--servers", "2", "--gateway-version", "1.0 beta"], "is not a release name"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    output = tmp_path / "docker-compose.yaml"
    rc, err = run_error(capsys, *args, "--output", str(output))
    assert rc == 2
    assert message in err and err.startswith("perfkit compose: error: ")
    assert not output.exists() and not output.with_suffix(".env").exists()


def test_unwritable_output_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    rc, err = run_error(capsys, "--servers", "1", "--output", str(blocker / "x.yaml"))
    assert rc == 2
    assert f"cannot write {blocker / 'x.yaml'}" in err and "writable --output" in err


def test_output_must_be_yaml_and_a_foreign_file_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, err = run_error(capsys, "--servers", "1", "--output", str(tmp_path / "x.env"))
    assert rc == 2 and "must end in .yaml or .yml" in err
    mine = tmp_path / "docker-compose.yaml"
    mine.write_text("services: {}\n")
    rc, err = run_error(capsys, "--servers", "1", "--output", str(mine))
    assert rc == 2 and "was not generated by perfkit" in err and "--force" in err
    assert mine.read_text() == "services: {}\n"
    assert (
        main(
            ["compose", "generate", "--servers", "1", "--output", str(mine), "--force"]
        )
        == 0
    )
    assert "bench-server-1" in load(mine)["services"]


def test_an_env_file_lacking_keys_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docker-compose.env").write_text("JWT_SECRET_KEY=abc\n")
    rc, err = run_error(
        capsys, "--servers", "1", "--output", str(tmp_path / "docker-compose.yaml")
    )
    assert rc == 2 and "lacks AUTH_ENCRYPTION_SECRET" in err and "delete it" in err


def test_render_quotes_every_value_yaml_would_misread(tmp_path: Path) -> None:
    """`no`, `true`, `1.10` stay strings: each value is a JSON string in the template."""
    path = generate(tmp_path, "--servers", "1", "--gateway-version", "1.10")
    service = load(path)["services"]["gateway"]
    assert service["build"]["args"]["GATEWAY_VERSION"] == "1.10"
    assert all(isinstance(v, str) for v in service["environment"].values())
    assert (
        perfkit.compose.render.gateway_image("1.0+local") == "perfkit-gateway:1.0-local"
    )


def test_the_top_level_wrapper_is_perfkit_compose_generate(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in VARS and k != "GATEWAY_VERSION"
    }
    script = [sys.executable, str(KIT_ROOT / "utils" / "generate_docker_compose.py")]
    output = tmp_path / "docker-compose.yaml"

    def wrapper(servers: str) -> subprocess.CompletedProcess[str]:
        args = [*script, "--servers", servers, "--output", str(output)]
        return subprocess.run(
            args, env=env, capture_output=True, text=True, check=False
        )

    done = wrapper("2")
    assert (done.returncode, done.stdout) == (0, f"{output}\n")
    assert sorted(servers_of(load(output))) == ["bench-server-1", "bench-server-2"]
    done = wrapper("0")
    assert done.returncode == 2 and "--servers 0 is out of range" in done.stderr
