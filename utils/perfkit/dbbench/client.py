"""The kit's side of a perfkit.dbbench.ops worker (`serve`): one `probe` or `run` request sent
over its Unix socket, its answer printed and its exit code returned - what the same command
run in the gateway's venv would have done, without starting the gateway's Python again.

  python -m perfkit.dbbench.client --socket PATH [--timeout S] -- probe|run ARGS...
  python -m perfkit.dbbench.client --socket PATH -- stop

Exit 3 when no worker answers at PATH. Standard library only (the kit's venv runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

PROG = "dbbench-client"


def request(path: str, argv: list[str], timeout: float) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(path)
        conn.sendall(json.dumps({"argv": argv, "cwd": os.getcwd()}).encode() + b"\n")
        chunks = []
        while True:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
    answer: dict[str, object] = json.loads(b"".join(chunks).decode() or "{}")
    return answer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m perfkit.dbbench.client")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    try:
        answer = request(args.socket, rest, args.timeout)
    except (OSError, ValueError) as exc:
        print(
            f"{PROG}: no database worker answers at {args.socket}: {exc}",
            file=sys.stderr,
        )
        return 3
    sys.stdout.write(str(answer.get("stdout") or ""))
    sys.stderr.write(str(answer.get("stderr") or ""))
    code = answer.get("code")
    return code if isinstance(code, int) else 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
