"""The requests a run folder shows the kit made, as (method, path) with the test that made
them: every test of its plan.tsv that was measured (summary.json: a skipped or failed test put
nothing under load; hey's, the components of a mixed group, the MCP paths with
their `{server:bench-virtual}` placeholders, the legacy SSE transport's two requests, a
session's set-up), and the workflows' requests (raw/workflows/samples.json as perfkit.workflows.drive
--keep-samples writes it: each request's method and path). The database scenario's tests call the gateway's service layer, not its API: they
make no request here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from perfkit.results.plan import read_plan
from perfkit.results.summary import summary_path

# plan kinds that send no HTTP request of their own: a group's rounds are its components',
# a db test calls the service layer, a workflow test is a window of the workflows' run
NO_REQUEST = ("group", "db", "workflow")
WORKFLOW_SAMPLES = Path("raw") / "workflows" / "samples.json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # no host, no query
    source: str  # the test (or workflow step) that sent it


def _path(url_or_path: str) -> str:
    return urlsplit(url_or_path).path or "/"


def not_run(run_dir: Path) -> set[str]:
    """The tests of the run's summary.json that were not measured (skipped, failed): their
    plan rows put nothing under load. Empty when there is no summary to tell (an interrupted
    run: its plan counts)."""
    try:
        tests = json.loads(summary_path(run_dir).read_text(encoding="utf-8"))["tests"]
        return {str(t["id"]) for t in tests if t.get("status") != "ok"}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def from_plan(run_dir: Path) -> list[Request]:
    found = []
    idle = not_run(run_dir)
    for row in read_plan(run_dir):
        if row.kind in NO_REQUEST or row.method in ("", "-") or row.id in idle:
            continue
        path = _path(row.path)
        if row.kind.startswith("sse-"):
            # the SSE transport beside the MCP endpoint: GET .../sse opens the stream, a
            # call is POSTed to the announced .../message
            base = path.removesuffix("/mcp")
            found.append(Request("GET", f"{base}/sse", row.id))
            if row.kind == "sse-call":
                found.append(Request("POST", f"{base}/message", row.id))
            continue
        found.append(Request(row.method.upper(), path, row.id))
    return found


def from_workflows(run_dir: Path) -> list[Request]:
    """The workflows' requests, once per distinct (method, path, step)."""
    path = run_dir / WORKFLOW_SAMPLES
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    samples = kept.get("samples") if isinstance(kept, dict) else None
    seen: dict[tuple[str, str, str], Request] = {}
    for sample in samples if isinstance(samples, list) else []:
        if not isinstance(sample, dict) or not sample.get("method"):
            continue
        request = Request(
            str(sample["method"]).upper(),
            _path(str(sample.get("path") or "/")),
            f"workflows/{sample.get('step', '')}",
        )
        seen.setdefault((request.method, request.path, request.source), request)
    return list(seen.values())


def exercised(run_dir: Path) -> list[Request]:
    return from_plan(run_dir) + from_workflows(run_dir)
