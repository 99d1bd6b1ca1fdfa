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
from test_mcp import token_for

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
