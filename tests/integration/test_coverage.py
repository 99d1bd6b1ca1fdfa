"""make coverage on the real gateway: its /openapi.json against a run's requests - the numbers
checked against a count of the document made here, independently of perfkit.coverage; the
report gains the section; a gateway that does not answer and a missing run are refusals, never
a coverage of 0% or 100%."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path

from conftest import kit_env, readme_command, run
from perfkit.workflows.rounds import REST, TIMED_STEPS
from test_mcp import token_for
from test_workflows import ask

METHODS = ("get", "put", "post", "delete", "patch")
TESTS = "rest_list_servers_limit_10,health,rpc_ping,server_tools_list"
SCALED = {
    "PERF_REQUESTS": "4",
    "PERF_CONCURRENCY": "2",
    "PERF_ITERATIONS": "1",
    "PERF_WARMUP": "0",
}


def document(url: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"{url}/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)  # type: ignore[no-any-return]


def counted(doc: dict[str, object]) -> Counter[str]:
    """Operations per first tag (lower case), a path and its trailing-slash twin once."""
    seen: dict[tuple[str, str], str] = {}
    for path, item in doc["paths"].items():  # type: ignore[attr-defined]
        for method in METHODS:
            if method in item:
                tags = item[method].get("tags") or [
                    path.strip("/").split("/")[0] or "root"
                ]
                seen.setdefault((method, path.rstrip("/") or "/"), tags[0].lower())
    return Counter(seen.values())


def test_readme_coverage_command_counts_the_document_and_the_run(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(PERF_RESULTS_DIR=str(tmp_path / "results"), **SCALED)
    done = run(
        ["./run-configurable.sh", "--profile", "smoke", "--scenarios", "gateway-core,mcp",
         "--tests", TESTS, "--baseline", "skip", "--url", stack_url, "--quiet"],
        env,
    )  # fmt: skip
    assert done.code == 0, done.stderr[-2000:]
    command = readme_command("make coverage")
    covered = run(
        ["bash", "-c", f"{command} GATEWAY_URL={stack_url}"], env, timeout=300
    )
    assert covered.code == 0, covered.stdout[-2000:] + covered.stderr[-2000:]
    latest = (tmp_path / "results" / "latest").resolve()
    data = json.loads((latest / "coverage.json").read_text())

    by_group = counted(document(stack_url, token_for(stack_url, {})))
    assert data["operations"] == sum(by_group.values())
    assert {g["group"]: g["operations"] for g in data["groups"]} == dict(by_group)
    # the admin UI (the local stack turns its API on) is excluded whole, with its reason
    admin = next(g for g in data["groups"] if g["group"] == "admin ui")
    assert admin["excluded"] == admin["operations"] == by_group["admin ui"] > 100
    assert all(e["reason"] for e in data["excluded_operations"])
    # what the run's tests hit: /servers is the deprecated alias of /v1/servers
    hit = {c["operation"]: c for c in data["covered_operations"]}
    assert {"GET /v1/servers", "GET /health", "POST /rpc"} <= set(hit)
    assert hit["GET /v1/servers"]["legacy_alias"]
    assert hit["GET /v1/servers"]["by"] == ["gateway-core/rest_list_servers_limit_10"]
    # the streamable-HTTP endpoint is served beside the API, not in its document
    assert [o["request"] for o in data["outside"]] == [
        "POST /servers/{server:bench-virtual}/mcp"
    ]
    assert data["covered"] == len(hit)
    total = data["covered"] + len(data["uncovered"]) + len(data["excluded_operations"])
    assert total == data["operations"]
    assert (
        f"{data['covered']} of {data['operations'] - data['excluded']} operations"
        in covered.stdout
    )
    assert "data-coverage" in (latest / "report.html").read_text()

    # nothing answers: exit 3 (the script's own code: make turns every failure into 2), and
    # the run keeps the coverage it had
    down = run(["utils/coverage.sh", "--url", "http://127.0.0.1:4499"], env)
    assert down.code == 3, down.stderr[-1000:]
    assert "does not answer" in down.stderr
    assert json.loads((latest / "coverage.json").read_text()) == data
    # no run yet: exit 2 naming what to do, before any gateway is touched
    for args in (
        ["utils/coverage.sh"],
        ["make", "coverage"],
    ):  # make names results/latest
        empty = run(args, kit_env(PERF_RESULTS_DIR=str(tmp_path / "none")))
        assert empty.code == 2 and "make test" in empty.stderr, empty.stderr[-1000:]


def test_the_rest_sweep_covers_most_operations_each_a_test(
    stack_url: str, tmp_path: Path
) -> None:
    """README's make rest-sweep, cut short (one round of the workload rest, a test of each
    other scenario): most operations not excluded covered, every step of every rest workflow
    sent and answered as checked (never a failure, never a 5xx), each a test of summary.json
    with its figures, the report's per-operation table, and nothing the workflows made left
    on the gateway."""
    env = kit_env(
        PERF_RESULTS_DIR=str(tmp_path / "results"),
        PERF_TESTS="rest_list_servers_limit_10,health,server_tools_list,workflows/*",
        PERF_WF_ROUND_SECONDS="40",
        **SCALED,
    )
    command = readme_command("make rest-sweep")
    done = run(["bash", "-c", f"{command} GATEWAY_URL={stack_url}"], env, timeout=600)
    assert done.code == 0, done.stdout[-2000:] + done.stderr[-3000:]
    latest = (tmp_path / "results" / "latest").resolve()
    data = json.loads((latest / "coverage.json").read_text())
    assert data["percent"] >= 70.0, data["uncovered"]
    assert (
        f"{data['covered']} of {data['operations'] - data['excluded']}" in done.stdout
    )

    kept = json.loads((latest / "raw" / "workflows" / "samples.json").read_text())
    sent = {s["step"] for s in kept["samples"] if s.get("kind", "step") == "step"}
    failed = [(s["step"], s.get("error")) for s in kept["samples"] if not s.get("ok")]
    assert failed == []
    steps = {f"{flow}:{step}" for flow in REST for step in TIMED_STEPS[flow]}
    assert steps <= sent, sorted(steps - sent)
    assert not [s for s in kept["samples"] if int(s.get("status") or 0) >= 500]

    summary = json.loads((latest / "summary.json").read_text())
    tests = {t["id"]: t for t in summary["tests"]}
    timed = [
        tests[f"workflows/{flow}.{step}"] for flow in REST for step in TIMED_STEPS[flow]
    ]
    assert all(t["status"] in ("ok", "skipped") for t in timed)
    measured = [t for t in timed if t["status"] == "ok"]
    assert len(measured) > len(timed) // 2
    assert all(t["aggregate"]["p50_ms"] > 0 for t in measured)
    report = (latest / "report.html").read_text()
    assert 'data-table="coverage-figures"' in report
    assert "workflows/teams.approve" in report

    admin = token_for(stack_url, {})
    for path, key in (("/v1/tools?limit=0&include_inactive=true", "tools"),
                      ("/v1/gateways?limit=0&include_inactive=true", "gateways"),
                      ("/v1/a2a?limit=0&include_inactive=true", "agents"),
                      ("/v1/rbac/roles", "roles"), ("/v1/roots", "roots")):  # fmt: skip
        status, found = ask(f"{stack_url}{path}", admin)
        assert status == 200, found
        rows = found.get(key, found) if isinstance(found, dict) else found
        left = [r for r in rows if "perfkit-run-rest-" in json.dumps(r)]
        assert left == [], (path, left)
