"""docs/ci.md's jobs, run here as written through utils/ci-gate.sh: the pull-request job (two
source checkouts of the gateway - here both made from the release's sdist, an A/A through the
build path) and the nightly job (the configured release against a stored baseline, on a stack
of its own brought up on a fresh database). Load scaled down through the environment."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import KIT_ROOT, answers, kit_env, run, stack_processes

RELEASE = "1.0.7.post20260921"
SMALL = {"PERF_ITERATIONS": "3", "PERF_REQUESTS": "10", "PERF_CONCURRENCY": "2",
         "PERF_WARMUP": "0"}  # fmt: skip


def ci_lines() -> dict[str, str]:
    """docs/ci.md's ci-gate.sh command lines by job (pr, nightly); each written the same way
    wherever it appears (GitHub Actions and GitLab CI)."""
    text = (KIT_ROOT / "docs" / "ci.md").read_text()
    found = re.findall(
        r"(?:run: |- )(utils/ci-gate\.sh (pr|nightly) .*)$", text, re.MULTILINE
    )
    lines: dict[str, set[str]] = {}
    for line, job in found:
        lines.setdefault(job, set()).add(line.strip())
    assert set(lines) == {"pr", "nightly"}, lines
    assert all(len(v) == 1 for v in lines.values()), lines
    return {job: next(iter(v)) for job, v in lines.items()}


def gate(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The line as the CI's shell runs it (its "$VARS" expanded from env)."""
    return subprocess.run(["bash", "-c", line], cwd=KIT_ROOT, env=env, capture_output=True,
                          text=True, timeout=1500, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A source checkout of the gateway, as the release's sdist holds it."""
    where = tmp_path_factory.mktemp("sdist")
    subprocess.run(
        [str(KIT_ROOT / ".state/venv/bin/pip"), "download", "--no-deps", "--no-binary",
         ":all:", f"mcp-contextforge-gateway=={RELEASE}", "-d", str(where)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [sdist] = where.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(where / "src", filter="data")
    [folder] = (where / "src").iterdir()
    return folder


def test_the_pull_request_job(checkout: Path, tmp_path: Path) -> None:
    base, pr = tmp_path / "gateway-base", tmp_path / "gateway-pr"
    shutil.copytree(checkout, base)
    shutil.copytree(checkout, pr)
    results = tmp_path / "results"
    # CI time: three of the job's 15 tests, one of each kind (PERF_TESTS: the job's line
    # leaves it to the environment)
    env = kit_env(BASE_CHECKOUT=str(base), PR_CHECKOUT=str(pr), PERF_RESULTS_DIR=str(results),
                  PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
                  PERF_TESTS="rest_list_tools_limit_10,rpc_tools_call_get_system_time,health",
                  **SMALL)  # fmt: skip
    line = ci_lines()["pr"]
    assert shlex.split(line)[:2] == ["utils/ci-gate.sh", "pr"]
    done = gate(line, env)
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("ci-gate: pr job: exit 0 (all good); keep "), last
    [ab] = results.glob("light_ab_*")
    comparison = json.loads((ab / "candidate" / "comparison.json").read_text())
    assert (
        comparison["verdict"] != "regression" and comparison["summary"]["compared"] > 0
    )
    labels = {side: json.loads((ab / side / "run.json").read_text())["target"]["build"]
              for side in ("base", "candidate")}  # fmt: skip
    assert labels["base"]["kind"] == labels["candidate"]["kind"] == "source"
    assert labels["base"]["key"] == labels["candidate"]["key"]  # same tree: one venv
    for side in ("base", "candidate"):
        assert stack_processes(KIT_ROOT / ".state" / f"ab-{side}") == []


def test_the_nightly_job(tmp_path: Path) -> None:
    url = "http://127.0.0.1:4466"
    assert not answers(url)
    results = tmp_path / "results"
    env = kit_env(PERF_BASE_URL=url, PERF_SERVER_BASE_PORT="9466", PERF_STACK_NAME="it-nightly",
                  PERF_RESULTS_DIR=str(results), PERF_TOKEN_CACHE=str(tmp_path / "token.json"),
                  **SMALL)  # fmt: skip
    try:
        done = gate(ci_lines()["nightly"], env)
    finally:
        run(["utils/local-stack.sh", "down"], env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        done.stdout.strip().splitlines()[-1].startswith("ci-gate: nightly job: exit 0")
    )
    summary = json.loads((results / "latest" / "summary.json").read_text())
    assert summary["database"]["state"] == "fresh"
    baselines = Path(env["PERF_BASELINES_DIR"])
    [saved] = baselines.glob("baseline_light_*.json")
    jobs = baselines / "history" / saved.stem.removeprefix("baseline_") / "jobs.jsonl"
    assert [json.loads(line)["role"] for line in jobs.read_text().splitlines()] == [
        "baseline"
    ]
    assert stack_processes(KIT_ROOT / ".state" / "it-nightly") == []
