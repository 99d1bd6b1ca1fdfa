"""Shared helpers: the recorded hey fixtures (tests/fixtures/hey/, re-recorded by
tests/fixtures/record-fixtures.sh), the recorded gateway answers (tests/fixtures/gateway/,
tests/fixtures/record-gateway-fixtures.sh), a builder of run folders made from them, and a real
benchmark MCP server process (bench_server; indirect parameter: its --delay-ms)."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

KIT = Path(__file__).resolve().parents[2]
HEY_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hey"
GATEWAY_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gateway"
# docs/internals.md, "plan.tsv columns"
PLAN_HEADER = (
    "id", "scenario", "kind", "group", "method", "path", "payload", "expect", "auth",
    "concurrency", "requests", "duration",
)  # fmt: skip


def fixture_csv(case: str) -> Path:
    """tests/fixtures/hey/<case>/round-1.csv (a group case names <group>/round-1/<name>)."""
    return HEY_FIXTURES / case / "round-1.csv"


def gateway_answer(name: str) -> tuple[str, str]:
    """A recorded gateway answer: (HTTP status, body) of tests/fixtures/gateway/NAME.*."""
    status = (GATEWAY_FIXTURES / f"{name}.status").read_text().strip()
    return status, (GATEWAY_FIXTURES / f"{name}.body").read_text()


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV read with the csv module: an independent check on the pandas code."""
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def read_time(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1) for line in path.read_text().splitlines() if "=" in line
    )
    return dict(pairs)


@dataclass
class RunFolder:
    """A run folder under construction: run.json, plan.tsv, events.jsonl and raw/ rounds."""

    path: Path
    settings: dict[str, Any] = field(
        default_factory=lambda: {
            "error_threshold": 0.01,
            "generator_cpu_warning": 0.8,
            "iterations": 3,
        }
    )
    plan: list[dict[str, str]] = field(default_factory=list)

    def write_run_json(self, **overrides: Any) -> None:
        data = {
            "schema_version": 1,
            "profile": "smoke",
            "started_at": "2026-11-21T11:40:00Z",
            "target": {"base_url": "http://127.0.0.1:4444"},
            "environment": {"cpu_count": 2},
            "settings": self.settings,
        }
        data.update(overrides)
        (self.path / "run.json").write_text(json.dumps(data))

    def add_test(self, test_id: str, *, kind: str = "single", group: str = "-",
                 requests: int = 100, duration: str = "-", concurrency: int = 5,
                 auth: str = "no", path: str = "/health") -> None:  # fmt: skip
        self.plan.append({
            "id": test_id, "scenario": test_id.split("/")[0], "kind": kind, "group": group,
            "method": "GET", "path": path, "payload": "-", "expect": "-", "auth": auth,
            "concurrency": str(concurrency), "requests": str(requests), "duration": duration,
        })  # fmt: skip
        self.write_plan()

    def write_plan(self) -> None:
        lines = ["\t".join(PLAN_HEADER)]
        lines += ["\t".join(row[name] for name in PLAN_HEADER) for row in self.plan]
        (self.path / "plan.tsv").write_text("\n".join(lines) + "\n")

    def copy_round(self, test_id: str, case: str, k: int) -> Path:
        """Copy a recorded round (csv + time) as raw/<test_id>/round-<k>.*; returns the CSV."""
        raw = self.path / "raw" / test_id
        raw.mkdir(parents=True, exist_ok=True)
        source = HEY_FIXTURES / case
        if (source / "round-1").is_dir():
            shutil.copytree(source / "round-1", raw / f"round-{k}")
            return raw / f"round-{k}"
        shutil.copy(source / "round-1.csv", raw / f"round-{k}.csv")
        shutil.copy(source / "round-1.time", raw / f"round-{k}.time")
        return raw / f"round-{k}.csv"

    def event(
        self, test_id: str, status: str = "ok", reason: str | None = None
    ) -> None:
        line = {"id": test_id, "status": status, "reason": reason, "probe": None}
        with (self.path / "events.jsonl").open("a") as stream:
            stream.write(json.dumps(line) + "\n")


@pytest.fixture
def run_folder(tmp_path: Path) -> RunFolder:
    folder = RunFolder(tmp_path / "smoke_20261121-114000")
    folder.path.mkdir()
    folder.write_run_json()
    folder.write_plan()
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bench_server(request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    delay_ms = getattr(request, "param", 0)  # indirect: --delay-ms
    proc = subprocess.Popen(
        [
            sys.executable,
            str(KIT / "utils" / "servers" / "bench_server.py"),
            "--port",
            str(port),
            "--delay-ms",
            str(delay_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/stats", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
