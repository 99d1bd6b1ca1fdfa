"""run-advanced.sh for real: gateways on SQLite and on the machine's PostgreSQL, 1 and 2
benchmark MCP servers, tool calls counted by the servers themselves, the scalability report,
and nothing left behind (processes, the kit's PostgreSQL database, temporary folders) after a
normal end, an interrupt, and a PostgreSQL that does not answer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from conftest import KIT_ROOT, kit_env, readme_command, run

PORTS = {"sqlite": 4490, "postgresql": 4491}
SMOKE = {"PERF_REQUESTS": "8", "PERF_CONCURRENCY": "2"}


def kit_databases() -> list[str]:
    done = subprocess.run(
        [
            "psql",
            "-X",
            "-tA",
            "-d",
            "postgresql://postgres@127.0.0.1:5432/postgres",
            "-c",
            "SELECT datname FROM pg_database WHERE datname LIKE 'perfkit_advanced%'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def leftovers() -> list[str]:
    """Processes of run-advanced.sh's stacks (their ports are on the command line)."""
    found = []
    marks = [f"--port {p}" for p in PORTS.values()] + ["--port 97"]
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if ("mcpgateway" in cmd or "bench_server" in cmd) and any(
            m in cmd for m in marks
        ):
            found.append(cmd)
    return found


def assert_clean(adv_dir: Path) -> None:
    assert leftovers() == []
    assert kit_databases() == []
    assert not (adv_dir / ".runs").exists()
    for database in PORTS:
        assert not (KIT_ROOT / ".state" / f"advanced-{database}").exists()


def only_run(results: Path) -> Path:
    dirs = [p for p in results.iterdir() if p.name.startswith("advanced_")]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_readme_scale_command(results_dir: Path) -> None:
    """README's `./run-advanced.sh --servers 1,3 --profile smoke --database both
    --concurrency-sweep ...`, as written (the load scaled down through the environment)."""
    command = readme_command("./run-advanced.sh --servers 1,3")
    assert "--database both" in command and "--concurrency-sweep" in command
    sweep = command.split("--concurrency-sweep ")[1].split()[0]
    env = kit_env(PERF_RESULTS_DIR=str(results_dir), **SMOKE)
    done = run(["bash", "-c", command], env, timeout=600)
    assert done.code == 0, done.stderr[-3000:]
    adv = only_run(results_dir)
    points = json.loads((adv / "advanced.json").read_text())["points"]
    assert [(p["database"], p["servers"], p["exit_code"]) for p in points] == [
        (database, count, 0) for database in PORTS for count in (1, 3)
    ]
    for point in points:
        summary = json.loads((adv / point["run"] / "summary.json").read_text())
        servers = summary["servers"]
        # the servers' own counters: every one of them served tool calls
        assert sorted(servers) == sorted(
            f"bench-time-{i}" for i in range(1, point["servers"] + 1)
        )
        assert all(s["tool_calls"] > 0 for s in servers.values()), servers
        ids = [t["id"] for t in summary["tests"]]
        levels = (
            [f"sweep/c{c}" for c in sweep.split(",")] if point["servers"] == 3 else []
        )
        assert ids == ["scale/spread", *levels]
        assert summary["settings"]["db_backend"] == point["database"]
        if point["database"] == "postgresql":
            assert summary["resources"]["postgres_connections_max"] >= 1
    assert (adv / "report.html").stat().st_size > 10_000
    scal = json.loads((adv / "scalability.json").read_text())
    # per database, every count measured; speedup against 1 server is req/s over 1 server's
    assert [s["database"] for s in scal["scalability"]] == list(PORTS)
    for section in scal["scalability"]:
        rows = section["rows"]
        assert [(r["servers"], r["state"]) for r in rows] == [
            (count, "measured") for count in (1, 3)
        ]
        assert rows[0]["speedup"] == 1
        for row in rows[1:]:
            assert row["speedup"] == round(row["rps"] / rows[0]["rps"], 3)
        assert all(r["coverage"]["all_reached"] for r in rows)
    assert [c["servers"] for c in scal["comparison"]] == [1, 3]
    assert [s["database"] for s in scal["sweeps"]] == list(PORTS)
    assert "Scalability report" in (adv / "report.html").read_text()
    assert_clean(adv)


def test_interrupt_keeps_the_partial_point_and_cleans_up(results_dir: Path) -> None:
    env = kit_env(PERF_RESULTS_DIR=str(results_dir))
    proc = subprocess.Popen(
        [
            "./run-advanced.sh",
            "--servers",
            "2",
            "--profile",
            "light",
            "--database",
            "postgresql",
        ],
        cwd=KIT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if list(results_dir.glob("advanced_*/.runs/*/raw/scale/spread/round-1")):
                break
            time.sleep(0.5)
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"run-advanced.sh ended (exit {proc.returncode}) before the first round:\n"
                f"{out[-1500:]}\n{err[-3000:]}"
            )
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr
    adv = only_run(results_dir)
    points = json.loads((adv / "advanced.json").read_text())["points"]
    assert [(p["servers"], p["exit_code"]) for p in points] == [(2, 130)]
    summary = json.loads((adv / points[0]["run"] / "summary.json").read_text())
    assert summary["status"] == "partial"
    assert_clean(adv)


def test_postgresql_down_is_exit_3_and_leaves_nothing(results_dir: Path) -> None:
    env = kit_env(
        PERF_RESULTS_DIR=str(results_dir),
        PERF_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/postgres",
    )
    done = run(
        [
            "./run-advanced.sh",
            "--servers",
            "1",
            "--profile",
            "smoke",
            "--database",
            "postgresql",
        ],
        env,
        timeout=300,
    )
    assert done.code == 3, done.stderr[-2000:]
    assert (
        "PostgreSQL does not answer at postgresql://postgres@127.0.0.1:1/postgres"
        in (done.stderr)
    )
    adv = only_run(results_dir)
    points = json.loads((adv / "advanced.json").read_text())["points"]
    assert [(p["run"], p["exit_code"]) for p in points] == [(None, 3)]
    assert_clean(adv)


def test_a_port_taken_by_something_else_is_refused(
    results_dir: Path, tmp_path: Path
) -> None:
    """Something the kit did not start answers on run-advanced.sh's gateway port: exit 3
    before anything starts or any folder is made."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "health").write_text("{}")
    squatter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(PORTS["sqlite"]),
            "--bind",
            "127.0.0.1",
        ],
        cwd=tmp_path / "www",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        done = run(
            ["./run-advanced.sh", "--servers", "1", "--profile", "smoke"],
            kit_env(PERF_RESULTS_DIR=str(results_dir)),
            timeout=120,
        )
        assert done.code == 3, done.stderr
        assert "something already answers at http://127.0.0.1:4490" in done.stderr
        assert not list(results_dir.glob("advanced_*"))
    finally:
        squatter.terminate()
        squatter.wait(timeout=10)
