"""The database worker's protocol (perfkit.dbbench.ops serve, perfkit.dbbench.client): one
request at a time over a Unix socket, answered with what the command would have printed and
returned. The gateway's side is replaced here by a stand-in (the real one needs the gateway's
venv: the integration tests run the database scenario through the worker)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from perfkit.dbbench import client, ops


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    seen: list[argparse.Namespace] = []

    def act(_gw: object, args: argparse.Namespace) -> int:
        seen.append(args)
        print(f"{args.action} {args.op} in {os.getcwd()}")
        print("a warning", file=sys.stderr)
        return 4 if args.op == "delete_tool" else 0

    monkeypatch.setattr(ops, "Gateway", lambda: object())
    monkeypatch.setattr(ops, "act", act)
    sock = Path(f"/tmp/perfkit-test-{os.getpid()}.sock")
    sock.unlink(missing_ok=True)
    done: list[int] = []
    thread = threading.Thread(
        target=lambda: done.append(ops.serve(sock, os.getpid(), 30.0)), daemon=True
    )
    thread.start()
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    yield sock, seen, done, thread
    if thread.is_alive():
        client.request(str(sock), ["stop"], 5)
        thread.join(5)


def test_requests_are_answered_with_output_and_exit_code(
    worker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    sock, seen, done, thread = worker
    monkeypatch.chdir(tmp_path)
    assert client.main(["--socket", str(sock), "--", "probe", "--op", "get_tool"]) == 0
    out = capsys.readouterr()
    assert out.out == f"probe get_tool in {tmp_path}\n"  # run where the client was
    assert out.err == "a warning\n"
    assert (
        client.main(
            [
                "--socket",
                str(sock),
                "--",
                "run",
                "--op",
                "delete_tool",
                "-n",
                "2",
                "-c",
                "1",
            ]
        )
        == 4
    )
    assert [a.action for a in seen] == ["probe", "run"] and seen[1].n == 2
    # a request argparse refuses: its usage message and exit 2, the worker still serving
    assert client.main(["--socket", str(sock), "--", "run", "--op", "nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert client.main(["--socket", str(sock), "--", "stop"]) == 0
    thread.join(5)
    assert done == [0] and not sock.exists()


def test_no_worker_is_exit_3_saying_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["--socket", "/tmp/perfkit-no-such.sock", "--", "probe"]) == 3
    assert (
        "no database worker answers at /tmp/perfkit-no-such.sock"
        in capsys.readouterr().err
    )


def test_a_worker_whose_parent_is_gone_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "Gateway", lambda: object())
    monkeypatch.setattr(ops, "_alive", lambda pid: False)
    sock = Path(f"/tmp/perfkit-test-parent-{os.getpid()}.sock")
    assert ops.serve(sock, 1, 30.0) == 0
    assert not sock.exists()


@pytest.mark.parametrize(
    ("op", "lacking", "why"),
    [
        (
            "list_tools_member",
            {"member": None},
            "no user besides the admin is in a team",
        ),
        ("get_tool", {"tool_id": None}, "the database holds no tool"),
    ],
)
def test_an_operation_the_database_lacks_rows_for_is_not_applicable(
    op: str, lacking: dict[str, None], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """exit 5, not a failure: the run records the test as skipped with this reason (an
    unpopulated gateway has no team member to list tools as)."""
    gw = argparse.Namespace(
        **{"member": "a@example.com", "server_id": "s", "tool_id": "t", **lacking}
    )
    args = argparse.Namespace(action="probe", op=op, limit=10)
    assert ops.act(gw, args) == ops.NOT_APPLICABLE == 5  # type: ignore[arg-type]
    assert why in capsys.readouterr().out
