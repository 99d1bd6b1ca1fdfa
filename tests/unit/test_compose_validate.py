"""perfkit compose validate: the schema (draft chosen from `$schema`, `$ref`s resolved) and the
kit's invariants, each broken on purpose in a generated file."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from perfkit.cli import main
from perfkit.compose.validate import DEFAULT_SCHEMA, validator_class
from perfkit.config import VARS

Document = dict[str, Any]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [*VARS, "GATEWAY_VERSION"]:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Document:
    output = tmp_path_factory.mktemp("compose") / "docker-compose.yaml"
    args = ["--servers", "3", "--database", "both", "--output", str(output)]
    assert main(["compose", "generate", *args]) == 0
    document = yaml.safe_load(output.read_text())
    assert isinstance(document, dict)
    return document


def validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Document, *args: str
) -> tuple[int, str, str]:
    path = tmp_path / "docker-compose.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    rc = main(["compose", "validate", str(path), *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_a_generated_file_is_ok(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generated: Document
) -> None:
    rc, out, err = validate(tmp_path, capsys, generated)
    assert (rc, err) == (0, "")
    assert out.strip().endswith(
        "OK (Compose Specification schema and the kit's checks)"
    )


def drop_health(doc: Document) -> None:
    del doc["services"]["bench-server-2"]["healthcheck"]


def drop_limits(doc: Document) -> None:
    del doc["services"]["redis"]["deploy"]


def same_port(doc: Document) -> None:
    doc["services"]["bench-server-3"]["ports"][0]["published"] = "4445"


def short_port(doc: Document) -> None:
    doc["services"]["redis"]["ports"] = ["127.0.0.1:9101:6379"]


def unwaited(doc: Document) -> None:
    del doc["services"]["register"]["depends_on"]["bench-server-1"]


def unregistered(doc: Document) -> None:
    command = doc["services"]["register"]["command"]
    at = command.index("bench-time-2=http://bench-server-2:9102/mcp")
    del command[at - 1 : at + 1]


def no_register(doc: Document) -> None:
    del doc["services"]["register"]


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (drop_health, "bench-server-2 has no health check"),
        (drop_limits, "redis has no deploy.resources.limits cpus and memory"),
        (same_port, "host port 4445 is published by both gateway-postgresql and bench-server-3"),
        (short_port, "host port 9101 is published by both bench-server-1 and redis"),
        (unwaited, "register does not wait for bench-server-1 to be healthy"),
        (unregistered, "register does not register bench-server-2"),
        (no_register, "no `register` service"),
    ],
)  # fmt: skip
def test_kit_invariants(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    generated: Document,
    breakage: Callable[[Document], None],
    problem: str,
) -> None:
    document = copy.deepcopy(generated)
    breakage(document)
    rc, out, err = validate(tmp_path, capsys, document)
    assert rc == 2 and out == ""
    assert "1 problem(s)" in err and problem in err


def test_schema_errors_inside_referenced_definitions_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generated: Document
) -> None:
    """A service is checked through `$ref: #/definitions/service`: refs resolve."""
    document = copy.deepcopy(generated)
    document["services"]["gateway-sqlite"]["healthcheck"]["retries"] = [3]
    document["services"]["redis"]["restart_policy"] = "always"
    rc, _, err = validate(tmp_path, capsys, document)
    assert rc == 2 and "2 problem(s)" in err
    assert "$.services['gateway-sqlite'].healthcheck.retries: [3] is not of type" in err
    assert "$.services.redis: 'restart_policy' does not match any of the regexes" in err


def test_unquoted_no_is_a_schema_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generated: Document
) -> None:
    document = copy.deepcopy(generated)
    # what YAML makes of a bare `no`
    document["services"]["register"]["restart"] = False
    rc, _, err = validate(tmp_path, capsys, document)
    assert (
        rc == 2 and "$.services.register.restart: False is not of type 'string'" in err
    )


def test_validator_follows_the_declared_draft(tmp_path: Path) -> None:
    schema = json.loads(DEFAULT_SCHEMA.read_text())
    assert validator_class(schema, DEFAULT_SCHEMA) is jsonschema.Draft7Validator
    newer = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    assert validator_class(newer, tmp_path) is jsonschema.Draft202012Validator
    with pytest.raises(Exception, match="not a JSON-schema draft"):
        validator_class({"$schema": "https://example.com/mine"}, tmp_path)


def test_a_schema_with_a_dangling_ref_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generated: Document
) -> None:
    schema = json.loads(DEFAULT_SCHEMA.read_text())
    del schema["definitions"]["service"]
    broken = tmp_path / "broken.schema.json"
    broken.write_text(json.dumps(schema))
    rc, _, err = validate(tmp_path, capsys, generated, "--schema", str(broken))
    assert rc == 2 and "does not resolve" in err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("services: [unclosed\n", "is not YAML"),
        ("- a list\n", "is not a Compose file"),
    ],
)
def test_unreadable_files_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    problem: str,
) -> None:
    path = tmp_path / "docker-compose.yaml"
    if content is not None:
        path.write_text(content)
    assert main(["compose", "validate", str(path)]) == 2
    assert problem in capsys.readouterr().err
