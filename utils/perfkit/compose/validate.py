"""Check a Compose file: the Compose Specification JSON schema, then the kit's own invariants.

The schema is the public compose-spec/compose-spec schema/compose-spec.json at commit
170098ba07d9 (Apache-2.0), vendored in schemas/ unchanged (a unit test pins its digest). It
declares JSON-schema draft-07; the validator class is chosen from the `$schema` it declares, its
`format`s are checked and its `$ref`s resolve inside the document (a `$ref` that does not is
reported as a broken schema, never skipped).

Kit invariants, for a file from `perfkit compose generate`: every host port published once;
every service with CPU and memory limits; every service but the one-shot `register` with a
health check; `register` waiting for every gateway and MCP server to be healthy and naming
every MCP server in its command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import referencing.exceptions
import yaml

from perfkit.config_checks import usage
from perfkit.names import SCHEMAS_DIR

DEFAULT_SCHEMA = SCHEMAS_DIR / "compose-spec.schema.json"
DRAFTS: tuple[type[Any], ...] = (
    jsonschema.Draft202012Validator,
    jsonschema.Draft201909Validator,
    jsonschema.Draft7Validator,
    jsonschema.Draft6Validator,
    jsonschema.Draft4Validator,
    jsonschema.Draft3Validator,
)
REGISTER = "register"
SERVER_PREFIX = "bench-server-"
GATEWAY_PREFIX = "gateway"


def _uri(text: str) -> str:
    return re.sub(r"^https?://", "", text).rstrip("#/")


def validator_class(schema: dict[str, Any], path: Path) -> type[Any]:
    """The jsonschema validator of the draft the schema declares (`$schema`)."""
    declared = str(schema.get("$schema", ""))
    for cls in DRAFTS:
        meta = cls.META_SCHEMA
        if _uri(meta.get("$id", meta.get("id", ""))) == _uri(declared):  # draft-04: id
            return cls
    raise usage(
        f"{path}: declares $schema {declared!r}, not a JSON-schema draft; pass a schema"
    )


def load_schema(path: Path) -> Any:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise usage(
            f"cannot read the schema {path} ({exc}); pass --schema FILE"
        ) from None
    cls = validator_class(schema, path)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise usage(
            f"{path} is not a valid {cls.__name__} schema: {exc.message}"
        ) from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def load_compose(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise usage(
            f"cannot read {path} ({exc.strerror}); generate it: make compose-generate"
        ) from None
    except yaml.YAMLError as exc:
        raise usage(f"{path} is not YAML ({exc}); generate it again") from None
    if not isinstance(document, dict):
        raise usage(f"{path} is not a Compose file (a mapping with services)")
    return document


def schema_problems(document: dict[str, Any], validator: Any) -> list[str]:
    try:
        errors = sorted(
            validator.iter_errors(document), key=lambda e: list(e.absolute_path)
        )
    except referencing.exceptions.Unresolvable as exc:
        raise usage(
            f"the schema's $ref {exc} does not resolve; use a complete schema"
        ) from None
    return [f"{e.json_path}: {e.message}" for e in errors]


def published_ports(service: dict[str, Any]) -> list[int]:
    ports: list[int] = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            text = str(entry.get("published", ""))
        else:
            parts = str(entry).split("/")[0].split(":")
            text = parts[-2] if len(parts) >= 2 else ""
        low, _, high = text.partition("-")
        if low.isdigit():
            ports += range(int(low), int(high or low) + 1)
    return ports


def has_limits(service: dict[str, Any]) -> bool:
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    return bool(limits.get("cpus")) and bool(limits.get("memory"))


def has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    return bool(check.get("test")) and check.get("disable") not in (True, "true")


def register_problems(services: dict[str, Any]) -> list[str]:
    register = services.get(REGISTER)
    if not isinstance(register, dict):
        return [f"no `{REGISTER}` service: nothing registers the MCP servers"]
    needs = register.get("depends_on") or {}
    command = " ".join(str(part) for part in register.get("command") or [])
    problems = []
    for name in services:
        if not name.startswith((SERVER_PREFIX, GATEWAY_PREFIX)):
            continue
        condition = (
            needs.get(name, {}).get("condition") if isinstance(needs, dict) else None
        )
        if condition != "service_healthy":
            problems.append(f"{REGISTER} does not wait for {name} to be healthy")
        if name.startswith(SERVER_PREFIX) and f"//{name}:" not in command:
            problems.append(f"{REGISTER} does not register {name}")
    return problems


def kit_problems(document: dict[str, Any]) -> list[str]:
    services = document.get("services") or {}
    problems: list[str] = []
    owner: dict[int, str] = {}
    for name, service in services.items():
        for port in published_ports(service):
            if port in owner:
                problems.append(
                    f"host port {port} is published by both {owner[port]} and {name}"
                )
            owner[port] = name
        if not has_limits(service):
            problems.append(f"{name} has no deploy.resources.limits cpus and memory")
        if name != REGISTER and not has_healthcheck(service):
            problems.append(f"{name} has no health check")
    if not any(name.startswith(SERVER_PREFIX) for name in services):
        problems.append(f"no MCP server ({SERVER_PREFIX}<i>) services")
    return problems + register_problems(services)


def validate_file(path: Path, schema: Path = DEFAULT_SCHEMA) -> list[str]:
    """Every problem of the Compose file at path, schema first; [] when it is valid."""
    document = load_compose(path)
    problems = schema_problems(document, load_schema(schema))
    # the kit's checks read the structure the schema vouches for
    return problems or kit_problems(document)
