"""perfkit services: health, ready, database, servers, names, version and ids on the gateway's
recorded answers (tests/fixtures/gateway/) and on broken ones, through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import GATEWAY_FIXTURES, gateway_answer
from perfkit.cli import main
from perfkit.exitcodes import ExitCode

OK, DOWN = int(ExitCode.OK), int(ExitCode.ENV_NOT_READY)


def recorded(name: str) -> Any:
    status, body = gateway_answer(name)
    assert status == "200", f"{name} was recorded with HTTP {status}"
    return json.loads(body)


@pytest.fixture
def answer(tmp_path: Path) -> Any:
    """answer(doc_or_text) -> path of a file holding it (JSON-encoded unless a str)."""

    def write(content: Any) -> Path:
        path = tmp_path / f"answer-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main(["services", *map(str, argv)])
    return code, capsys.readouterr().out


def fixture(name: str) -> Path:
    return GATEWAY_FIXTURES / f"{name}.body"


# --- on the gateway's real answers ---


def test_real_health(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "health", fixture("health")) == (OK, "status 'healthy'\n")


def test_real_ready_and_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "ready", fixture("ready")) == (OK, "status 'ready'\n")
    assert run(capsys, "database", fixture("ready")) == (
        OK,
        "Database Connection Successful\n",
    )


def test_real_gateways(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "servers", fixture("gateways"), "--expected", "1") == (
        OK,
        "1 of 1 expected 'bench-time-*' MCP servers registered and reachable\n",
    )
    code, out = run(capsys, "servers", fixture("gateways"), "--expected", "2")
    assert (code, out) == (
        DOWN,
        "1 of 2 expected 'bench-time-*' MCP servers registered and reachable\n",
    )
    assert run(capsys, "names", fixture("gateways")) == (OK, "bench-time-1\n")
    assert run(capsys, "names", fixture("gateways"), "--prefix", "bench-virtual") == (
        OK,
        "",
    )


def test_real_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "version", fixture("version")) == (OK, "1.0.7-20260921\n")


def test_real_tool_ids(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "ids", fixture("tools"))
    ids = json.loads(out)
    assert code == OK
    assert ids == [tool["id"] for tool in recorded("tools")]
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


# --- on broken answers ---

NOT_JSON = ["docs-html", "tools-401", "not-found"]  # an HTML page, two error details


@pytest.mark.parametrize("name", NOT_JSON)
def test_health_refuses_other_answers(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run(capsys, "health", fixture(name)) == (
        DOWN,
        "answer is not the expected JSON\n",
    )


def test_health_reports_the_status_it_got(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    doc = recorded("health") | {"status": "unhealthy"}
    assert run(capsys, "health", answer(doc)) == (DOWN, "status 'unhealthy'\n")
    assert run(capsys, "health", answer([doc])) == (
        DOWN,
        "answer is not the expected JSON\n",
    )


def test_missing_file_is_not_the_expected_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "health", tmp_path / "none.json") == (
        DOWN,
        "answer is not the expected JSON\n",
    )


def test_ready_refuses_other_answers(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    assert run(capsys, "ready", fixture("docs-html")) == (
        DOWN,
        "answer is not the expected JSON\n",
    )
    assert run(capsys, "ready", fixture("not-found")) == (DOWN, "status None\n")
    not_ready = recorded("ready") | {"status": "not ready"}
    assert run(capsys, "ready", answer(not_ready)) == (DOWN, "status 'not ready'\n")


def test_database_down(capsys: pytest.CaptureFixture[str], answer: Any) -> None:
    doc = recorded("ready")
    doc["status_items"] = [{"name": "Database", "status_code": 503, "message": "unable to open database file"}]  # fmt: skip
    assert run(capsys, "database", answer(doc)) == (
        DOWN,
        "unable to open database file\n",
    )
    doc["status_items"] = [
        {"name": "database", "status_code": 500}
    ]  # no message: the code
    assert run(capsys, "database", answer(doc)) == (DOWN, "500\n")


@pytest.mark.parametrize(
    "items",
    [[], [{"name": "Redis", "status_code": 200, "message": "ok"}], "Database", None],
)
def test_database_item_missing(
    capsys: pytest.CaptureFixture[str], answer: Any, items: Any
) -> None:
    doc = recorded("ready") | {"status_items": items}
    assert run(capsys, "database", answer(doc)) == (
        DOWN,
        "the gateway's /ready answer has no Database item\n",
    )


def test_database_on_health_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "database", fixture("health"))
    assert (code, out) == (DOWN, "the gateway's /ready answer has no Database item\n")


@pytest.mark.parametrize(
    ("change", "down"),
    [({"reachable": False}, True), ({"enabled": False}, True), ({"reachable": None}, True),
     ({"name": "other-1"}, False)],
)  # fmt: skip
def test_servers_not_reachable(
    capsys: pytest.CaptureFixture[str], answer: Any, change: dict[str, Any], down: bool
) -> None:
    doc = recorded("gateways")
    doc[0] |= change
    code, out = run(capsys, "servers", answer(doc), "--expected", "1")
    assert code == DOWN
    assert out.startswith(
        "0 of 1 expected 'bench-time-*' MCP servers registered and reachable"
    )
    assert out.endswith("; not reachable: bench-time-1\n" if down else "reachable\n")


def test_servers_in_a_paginated_answer(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    doc = {"items": recorded("gateways"), "total": 1}
    assert run(capsys, "servers", answer(doc))[0] == OK
    assert run(capsys, "names", answer(doc)) == (OK, "bench-time-1\n")


@pytest.mark.parametrize(("name", "detail"), [
    ("docs-html", "GET /gateways did not answer JSON\n"),
    ("tools-401", "0 of 1 expected 'bench-time-*' MCP servers registered and reachable\n"),
])  # fmt: skip
def test_servers_on_broken_answers(
    capsys: pytest.CaptureFixture[str], name: str, detail: str
) -> None:
    assert run(capsys, "servers", fixture(name)) == (DOWN, detail)
    assert run(capsys, "names", fixture(name)) == (OK, "")


@pytest.mark.parametrize("name", NOT_JSON)
def test_version_without_app_version(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run(capsys, "version", fixture(name)) == (DOWN, "")


def test_version_empty_or_not_a_mapping(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    doc = recorded("version")
    assert run(capsys, "version", answer(doc | {"app": {"version": ""}})) == (DOWN, "")
    assert run(capsys, "version", answer(doc | {"app": "1.0.7"})) == (DOWN, "")


@pytest.mark.parametrize("name", NOT_JSON)
def test_ids_of_broken_answers_are_none(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run(capsys, "ids", fixture(name)) == (OK, "[]\n")


def test_ids_skip_rows_without_id(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    rows = recorded("tools")
    del rows[0]["id"]
    assert run(capsys, "ids", answer([*rows, "x", None])) == (
        OK,
        json.dumps([rows[1]["id"]]) + "\n",
    )


def test_ids_of_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    servers = recorded("servers")
    [virtual] = [s["id"] for s in servers if s["name"] == "bench-virtual"]
    assert run(capsys, "ids", fixture("servers"), "--name", "bench-virtual") == (
        OK,
        json.dumps([virtual]) + "\n",
    )
    assert run(capsys, "ids", fixture("servers"), "--name", "nope") == (OK, "[]\n")


def test_ids_leave_out_what_given_gateways_offer(
    capsys: pytest.CaptureFixture[str], answer: Any
) -> None:
    """The local stack's virtual server bundles no tool of a federated peer gateway."""
    tools = recorded("tools")
    [gateway] = {tool["gatewayId"] for tool in tools}
    peer = json.dumps(["0" * 32])
    kept = run(capsys, "ids", fixture("tools"), "--except-gateways", peer)
    assert kept == (OK, json.dumps([tool["id"] for tool in tools]) + "\n")
    left_out = json.dumps([gateway])
    assert run(capsys, "ids", fixture("tools"), "--except-gateways", left_out) == (
        OK,
        "[]\n",
    )
    assert run(capsys, "ids", fixture("tools"), "--except-gateways", "[]")[1] == kept[1]
    assert run(capsys, "ids", fixture("tools"), "--except-gateways", "nope")[0] == int(
        ExitCode.USAGE
    )


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["services", "redis", str(fixture("health"))])
    assert caught.value.code == ExitCode.USAGE
