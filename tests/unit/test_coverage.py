"""perfkit coverage: the gateway's OpenAPI operations against the requests runs made - groups,
template matching, exclusions with their reasons, and the refusals (not a document, not a run
folder, an exclusion without a reason)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import PLAN_HEADER
from perfkit.cli import main
from perfkit.coverage.exclusions import Exclusion, parse_exclusions
from perfkit.coverage.exercised import exercised
from perfkit.coverage.openapi import Matcher, operations
from perfkit.coverage.report import compute, load_coverage, shape
from perfkit.exitcodes import KitError


def op(tags: list[str] | None = None) -> dict[str, object]:
    return {"tags": tags or [], "responses": {}}


DOCUMENT = {
    "openapi": "3.1.0",
    "paths": {
        "/tools": {"get": op(["Tools"]), "post": op(["Tools"])},
        "/tools/{tool_id}": {"get": op(["Tools"]), "delete": op(["Tools"])},
        "/tools/plugin_bindings": {"get": op(["Tool Plugin Bindings"])},
        "/servers/{server_id}/mcp": {"post": op(["Servers"])},
        "/servers/{server_id}/sse": {"get": op(["Servers"])},
        "/servers/{server_id}/message": {"post": op(["Servers"])},
        "/rpc": {"post": op(["Utilities"])},
        "/llmchat/chat": {"post": op(["llmchat"])},
        "/admin/ui": {"get": op()},
        "/health": {"get": op()},
    },
}


def plan(run: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A run folder whose plan.tsv has these (id, kind, method, path) rows."""
    run.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(PLAN_HEADER)]
    for test_id, kind, method, path in rows:
        scenario = test_id.split("/")[0]
        fields = [
            test_id,
            scenario,
            kind,
            "-",
            method,
            path,
            "-",
            "-",
            "yes",
            "2",
            "10",
            "-",
        ]
        lines.append("\t".join(fields))
    (run / "plan.tsv").write_text("\n".join(lines) + "\n")
    return run


def test_operations_are_grouped_by_their_first_tag_else_their_first_segment() -> None:
    ops = operations(DOCUMENT)
    assert len(ops) == 12
    groups = {o.key: o.group for o in ops}
    assert groups["GET /tools/{tool_id}"] == "tools"
    assert groups["GET /tools/plugin_bindings"] == "tool plugin bindings"
    assert groups["GET /admin/ui"] == "admin"
    assert groups["GET /health"] == "health"


def test_a_request_matches_the_most_literal_template_it_fills() -> None:
    matcher = Matcher(operations(DOCUMENT))
    assert (
        matcher.match("GET", "/tools/plugin_bindings").path == "/tools/plugin_bindings"
    )
    assert matcher.match("get", "/tools/abc-123?x=1").path == "/tools/{tool_id}"
    assert matcher.match("POST", "http://127.0.0.1:4444/rpc").path == "/rpc"
    assert matcher.match("POST", "/servers/{server:bench-virtual}/mcp") is not None
    assert matcher.match("PUT", "/tools/abc") is None  # no such method there
    assert matcher.match("GET", "/tools/a/b") is None  # a parameter is one segment


def test_not_a_document_is_refused() -> None:
    with pytest.raises(KitError, match="not an OpenAPI 3 document"):
        operations({"detail": "Not authenticated"})


def test_coverage_counts_excluded_operations_apart(tmp_path: Path) -> None:
    run = plan(tmp_path / "run", [
        ("gateway-core/rest_list_tools", "single", "GET", "/tools?limit=10"),
        ("gateway-core/tool_by_id", "single", "GET", "/tools/{tool:x}"),
        ("mcp/server_tools_list", "single", "POST", "/servers/{server:bench-virtual}/mcp"),
        ("mcp/server_sse_call", "sse-call", "POST", "/servers/{server:bench-virtual}/mcp"),
        ("mixed/mix", "group", "-", "-"),
        ("database/list_tools", "db", "DB", "db:list_tools?limit=50"),
        ("mcp/global", "single", "POST", "/mcp"),
        ("gateway-core/health", "single", "GET", "/health"),
    ])  # fmt: skip
    (run / "raw" / "workflows").mkdir(parents=True)
    samples = [{"step": "token:create", "method": "POST", "path": "/tools"},
               {"step": "token:create", "method": "POST", "path": "/tools"},
               {"step": "baseline:wait"}]  # fmt: skip
    kept = {"started": 0, "elapsed_s": 1, "cpu_s": 0, "samples": samples}
    (run / "raw" / "workflows" / "samples.json").write_text(json.dumps(kept))
    requests = exercised(run)
    assert ("POST", "/tools", "workflows/token:create") in {
        (r.method, r.path, r.source) for r in requests
    }
    exclusions = (
        Exclusion("group:llmchat", "needs an external LLM provider"),
        Exclusion("GET /admin/*", "HTMX admin UI partials"),
        Exclusion("GET /health", "measured anyway"),
        Exclusion("DELETE /nowhere", "a typo"),
    )
    coverage = compute(operations(DOCUMENT), requests, exclusions, "doc", [str(run)])
    data = coverage.to_dict()
    # 12 operations, 2 excluded (llmchat, admin; /health was exercised), 7 covered
    assert (data["operations"], data["excluded"], data["covered"]) == (12, 2, 7)
    assert data["percent"] == 70.0 and data["percent_of_all"] == 58.3
    tools = next(g for g in data["groups"] if g["group"] == "tools")
    assert (tools["operations"], tools["covered"], tools["percent"]) == (4, 3, 75.0)
    assert {u["operation"] for u in data["uncovered"]} == {
        "DELETE /tools/{tool_id}", "GET /tools/plugin_bindings", "POST /rpc"}  # fmt: skip
    assert {e["operation"]: e["reason"] for e in data["excluded_operations"]} == {
        "POST /llmchat/chat": "needs an external LLM provider",
        "GET /admin/ui": "HTMX admin UI partials",
    }
    assert data["outside"] == [{"request": "POST /mcp", "by": ["mcp/global"]}]
    assert shape("/servers/3f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d/mcp") == "/servers/{id}/mcp"
    assert any("GET /health is excluded" in n for n in data["notes"])
    assert any("'DELETE /nowhere' matches no operation" in n for n in data["notes"])


def test_the_command_writes_coverage_json_and_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = plan(tmp_path / "run", [("tools/list", "single", "GET", "/tools")])
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(DOCUMENT))
    config = tmp_path / "config.yaml"
    config.write_text(
        "coverage:\n  exclude:\n    - match: group:llmchat\n      reason: LLM\n"
    )
    argv = ["coverage", str(run), "--openapi", str(document), "--config", str(config)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 of 11 operations not excluded are covered (9.1%)" in out
    saved = load_coverage(run)
    assert saved is not None and saved["excluded"] == 1
    # a login page instead of the document: exit 3, never 0% or 100%
    document.write_text("<html>login</html>")
    assert main(argv) == 3
    assert "not JSON" in capsys.readouterr().err
    assert main(["coverage", str(tmp_path), "--openapi", str(document)]) == 2
    config.write_text("coverage:\n  exclude:\n    - match: group:llmchat\n")
    document.write_text(json.dumps(DOCUMENT))
    assert main(argv) == 2
    assert "has no reason" in capsys.readouterr().err


def test_a_test_that_was_not_measured_puts_nothing_under_load(tmp_path: Path) -> None:
    """A plan row whose test was skipped or failed (summary.json) covers nothing; without a
    summary (an interrupted run) the plan counts."""
    run = plan(tmp_path / "run", [
        ("mcp/server_sse_connect", "sse-connect", "GET", "/servers/{server:bench-virtual}/mcp"),
        ("mcp/server_sse_tools_call", "sse-call", "POST", "/servers/{server:bench-virtual}/mcp"),
        ("gateway-core/health", "single", "GET", "/health"),
    ])  # fmt: skip
    every = {(r.method, r.source) for r in exercised(run)}
    assert ("POST", "mcp/server_sse_tools_call") in every
    tests = [{"id": "mcp/server_sse_connect", "status": "ok"},
             {"id": "mcp/server_sse_tools_call", "status": "skipped"},
             {"id": "gateway-core/health", "status": "failed"}]  # fmt: skip
    (run / "summary.json").write_text(json.dumps({"tests": tests}))
    assert {(r.method, r.path, r.source) for r in exercised(run)} == {
        ("GET", "/servers/{server:bench-virtual}/sse", "mcp/server_sse_connect")
    }


def test_exclusion_entries_are_checked() -> None:
    assert parse_exclusions(None, "c") == ()
    for bad in (
        {"match": "x"},
        [{"match": "", "reason": "r"}],
        [{"match": "x", "reason": "r", "y": 1}],
    ):
        with pytest.raises(KitError):
            parse_exclusions(bad, "c")


def test_the_report_shows_the_run_s_coverage(tmp_path: Path) -> None:
    """A run folder with coverage.json gets a coverage section (per group, uncovered and
    excluded listed); one without has none."""
    from perfkit.report import run_page
    from perfkit.report.run_data import build_report

    run = tmp_path / "run"
    shutil.copytree(
        Path(__file__).resolve().parents[1] / "fixtures" / "runs" / "smoke_all", run
    )
    assert 'id="coverage"' not in run_page.render(build_report(run))
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(DOCUMENT))
    config = tmp_path / "config.yaml"
    config.write_text(
        "coverage:\n  exclude:\n    - match: group:llmchat\n      reason: needs an LLM\n"
    )
    assert (
        main(
            [
                "coverage",
                str(run),
                "--openapi",
                str(document),
                "--config",
                str(config),
                "--quiet",
            ]
        )
        == 0
    )
    html = run_page.render(build_report(run))
    assert 'id="coverage"' in html and 'data-table="coverage"' in html
    assert "of 11 operations not excluded are covered" in html
    assert "POST /llmchat/chat</span>: needs an LLM" in html
    # each covered operation with the figures of the tests that measured it
    report = build_report(run)
    assert report.coverage is not None
    figures = report.coverage["figures"]
    covered = {c["operation"] for c in report.coverage["covered_operations"]}
    assert {f["operation"] for f in figures} == covered
    measured = [f for f in figures if f["values"]]
    assert measured and all(f["values"]["p50"] is not None for f in measured)
    table = html.split('data-table="coverage-figures"', 1)[1].split("</table>", 1)[0]
    assert f'<td class="mono">{measured[0]["test"]}</td>' in table


def test_the_recorded_1_0_7_document_counts_as_the_gateway_describes_itself() -> None:
    """The local stack's real /openapi.json (1.0.7, admin API on; reduced to its operations by
    tests/fixtures/record-gateway-fixtures.sh): 543 listed operations, 481 once the
    trailing-slash twins are one; the REST API under /v1, its unversioned aliases matched."""
    from conftest import gateway_answer

    status, body = gateway_answer("openapi")
    assert status == "200"
    document = json.loads(body)
    listed = sum(
        1
        for item in document["paths"].values()
        for m in item
        if m in ("get", "post", "put", "delete", "patch")
    )
    ops = operations(document)
    assert (listed, len(ops)) == (543, 481)
    groups = Counter(o.group for o in ops)
    assert groups["admin ui"] == 204 and groups["teams"] == 19 and groups["tools"] == 8
    matcher = Matcher(ops)
    assert matcher.match("GET", "/tools?limit=10").key == "GET /v1/tools"
    assert matcher.legacy("GET", "/tools") and not matcher.legacy("GET", "/v1/tools")
    assert (
        matcher.match("GET", "/v1/tools/plugin_bindings").group
        == "tool plugin bindings"
    )
    assert matcher.match("POST", "/servers/abc/mcp") is None  # served beside the API
    # config.yaml's exclusions all match something, and each says why
    from perfkit.config import load_settings
    from perfkit.coverage.exclusions import unused
    from perfkit.names import KIT_ROOT

    exclusions = load_settings(KIT_ROOT, "light", {}, {}).coverage_exclude
    assert exclusions and unused(exclusions, ops) == []
