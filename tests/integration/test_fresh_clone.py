"""The first command on a fresh clone: `./run-configurable.sh --profile smoke --scenarios
gateway-core` in a clone with no .state/ sets the kit up itself (utils/setup.sh: its Python
environment, as `make setup` would) and runs, in auto mode, against the session's gateway:
exit 0 or 1 (a regression verdict is an answer; anything else is not), a summary.json with
every test ok, and the run's results and baseline inside the clone, nothing in this checkout.

The clone is of HEAD with the working tree's changes and new (not ignored) files put on top:
what committing them gives a user. The load is scaled down through the environment (as test_readme.py
does); pip's cache keeps the install to about half a minute.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import KIT_ROOT, kit_env

COMMAND = ["./run-configurable.sh", "--profile", "smoke", "--scenarios", "gateway-core"]
SCALED = {
    "PERF_REQUESTS": "4",
    "PERF_CONCURRENCY": "2",
    "PERF_ITERATIONS": "1",
    "PERF_WARMUP": "0",
}


def git(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kit = tmp_path_factory.mktemp("fresh") / "kit"
    git("clone", "-q", str(KIT_ROOT), str(kit), cwd=KIT_ROOT)
    uncommitted = git("diff", "HEAD", "--binary", cwd=KIT_ROOT)
    if uncommitted:
        git("apply", "--whitespace=nowarn", "-", cwd=kit, stdin=uncommitted)
    new = git("ls-files", "-z", "--others", "--exclude-standard", cwd=KIT_ROOT)
    for name in filter(None, new.decode().split("\0")):
        (kit / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KIT_ROOT / name, kit / name)
    return kit


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_first_command_sets_the_kit_up_and_runs(stack_url: str, clone: Path) -> None:
    assert not (clone / ".state").exists()
    ours = {name: listing(KIT_ROOT / name) for name in ("results", "baselines")}
    env = kit_env(PERF_BASE_URL=stack_url, PERF_MANAGE="auto", **SCALED)
    done = subprocess.run(
        COMMAND,
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-4000:]
    assert "setup.sh: installing Python dependencies" in done.stderr
    assert "make setup" not in done.stderr
    assert f"using the gateway answering at {stack_url}" in done.stderr
    assert (clone / ".state" / "venv" / "bin" / "python").is_file()

    run_dir = (clone / "results" / "latest").resolve()
    assert run_dir.parent == clone / "results"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "complete"
    assert summary["target"]["url"] == stack_url
    tests = summary["tests"]
    assert tests and {t["scenario"] for t in tests} == {"gateway-core"}
    assert [t["id"] for t in tests if t["status"] != "ok"] == []
    # the first run of its profile and scenarios became the clone's own baseline
    baselines = (clone / "baselines").glob("baseline_*.json")
    assert [p.name for p in baselines] == ["baseline_smoke_gateway-core.json"]
    assert {n: listing(KIT_ROOT / n) for n in ours} == ours, "nothing written here"
