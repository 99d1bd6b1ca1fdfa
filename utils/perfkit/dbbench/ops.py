"""Runs inside the gateway's own venv with the gateway's settings (utils/local-stack.sh python):
operations on the gateway's database through its own service layer and models, no HTTP.

  python -m perfkit.dbbench.ops list
      the operations, one `NAME  what it does` a line
  python -m perfkit.dbbench.ops probe --op NAME [--limit N]
      the operation once: exit 0 and what it returned (rows, statements), exit 4 and why it
      failed, or exit 5 and what the database lacks for it (no team member, no tool: nothing
      to measure here, not a failure)
  python -m perfkit.dbbench.ops serve --socket PATH [--parent PID] [--idle S]
      the gateway's side made once (seconds: the gateway's imports), then `probe` and `run`
      requests one at a time over a Unix socket (perfkit.dbbench.client sends them), so a
      round costs its calls, not a new Python; ends on `stop`, when PID is gone, or idle
  python -m perfkit.dbbench.ops run --op NAME [--limit N] -n N -c C [--stats FILE]
      N calls, C at a time (threads, each call its own session as the API's requests have):
      one row per call in hey's `-o csv` layout on stdout (response-time in seconds, status
      200, or 500 for a call that raised), so a round is judged, compared and reported like a
      round of hey; --stats writes the SQL the calls sent: statements per call, the slowest
      statements with their time

Who calls: `admin` is the platform admin as the REST lists see it (its own private rows and
every public and team row), `member` a user of the kit's dataset with the most teams (their
teams' rows and public ones), `public` a caller without teams (public rows only). Writes
(create, update, delete of a tool) run in a transaction that is rolled back: the database is
the same afterwards. Standard library, SQLAlchemy and mcpgateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.names import BENCH_USER_EMAIL

PROG = "dbbench"
HEADER = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"
SLOWEST = 5
IDLE_S = 1800.0  # a worker with no request this long ends (its run is long gone)
SQL_KEEP = (
    4000  # characters of a statement kept (a tools SELECT lists ~50 columns first)
)


# -- the gateway's side ----------------------------------------------------------------------
class Gateway:
    """The gateway's models, sessions and services, and who calls."""

    def __init__(self) -> None:
        import mcpgateway.db as gdb
        from mcpgateway.config import settings
        from mcpgateway.services.prompt_service import PromptService
        from mcpgateway.services.resource_service import ResourceService
        from mcpgateway.services.server_service import ServerService
        from mcpgateway.services.tool_service import ToolService

        self.db, self.settings = gdb, settings
        self.tools, self.servers = ToolService(), ServerService()
        self.prompts, self.resources = PromptService(), ResourceService()
        self.admin = settings.platform_admin_email
        self.member, self.member_teams = self.busiest_member()
        self.server_id, self.tool_id, self.tool_name = self.samples()

    def session(self) -> Any:
        return self.db.SessionLocal()

    def busiest_member(self) -> tuple[str | None, list[str]]:
        """The user in the most teams, and those teams: not the admin, nor the user the kit's
        load runs as (its personal team is the kit's, not the gateway's data)."""
        from sqlalchemy import func, select

        members = self.db.EmailTeamMember
        with self.session() as db:
            row = db.execute(
                select(members.user_email, func.count())
                .where(
                    members.is_active.is_(True),
                    members.user_email.notin_([self.admin, BENCH_USER_EMAIL]),
                )
                .group_by(members.user_email)
                .order_by(func.count().desc(), members.user_email)
                .limit(1)
            ).first()
            if row is None:
                return None, []
            teams = db.execute(
                select(members.team_id).where(
                    members.user_email == row[0], members.is_active.is_(True)
                )
            ).scalars()
            return str(row[0]), sorted(str(t) for t in teams)

    def samples(self) -> tuple[str | None, str | None, str | None]:
        """The server with the most tools, and one tool: what lookups look up."""
        from sqlalchemy import func, select

        assoc = self.db.server_tool_association
        tool = self.db.Tool
        with self.session() as db:
            server = db.execute(
                select(assoc.c.server_id)
                .group_by(assoc.c.server_id)
                .order_by(func.count().desc(), assoc.c.server_id)
                .limit(1)
            ).scalar()
            picked = db.execute(
                select(tool.id, tool._computed_name).order_by(tool.id).limit(1)
            ).first()
        return (
            server,
            None if picked is None else str(picked[0]),
            None if picked is None else str(picked[1]),
        )


# -- the operations --------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    name: str
    what: str
    call: Callable[[Gateway, Any, int], Any]  # (gateway, session, limit) -> result
    needs: str = ""  # what must exist: member, server, tool


def run_async(coro: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def listed(result: Any) -> int:
    """Rows a service list returned ((items, cursor), a dict page, or a list)."""
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, dict):
        result = result.get("data") or result.get("items") or []
    return len(result)


def list_op(
    service: str, caller: str, metrics: bool = False
) -> Callable[[Gateway, Any, int], Any]:
    """service.list_<service> as `caller`; with `metrics`, include_metrics=True (the REST
    list's ?include_metrics=true: each row's recorded calls aggregated)."""

    def call(gw: Gateway, db: Any, limit: int) -> Any:
        method = getattr(getattr(gw, service), f"list_{service}")
        if caller == "admin":
            kwargs: dict[str, Any] = {"user_email": gw.admin, "token_teams": None}
        elif caller == "member":
            kwargs = {"user_email": gw.member, "token_teams": gw.member_teams}
        else:
            kwargs = {"user_email": None, "token_teams": []}
        if metrics:
            kwargs["include_metrics"] = True
        return listed(run_async(method(db, limit=limit, **kwargs)))

    return call


def server_tools(gw: Gateway, db: Any, _limit: int) -> Any:
    found = run_async(
        gw.tools.list_server_tools(
            db, gw.server_id, user_email=gw.admin, token_teams=None
        )
    )
    return listed(found)


def get_tool(gw: Gateway, db: Any, _limit: int) -> Any:
    return 1 if run_async(gw.tools.get_tool(db, gw.tool_id)) else 0


def tool_by_name(gw: Gateway, db: Any, _limit: int) -> Any:
    from sqlalchemy import select

    tool = gw.db.Tool
    return len(
        db.execute(select(tool).where(tool._computed_name == gw.tool_name)).all()
    )


def write_op(kind: str) -> Callable[[Gateway, Any, int], Any]:
    """A tool created, updated or deleted and flushed, in a transaction rolled back."""

    def call(gw: Gateway, db: Any, _limit: int) -> Any:
        from sqlalchemy import delete, insert, update

        table = gw.db.Tool.__table__
        try:
            if kind == "create":
                name = f"perfkit-bench-{uuid.uuid4().hex[:12]}"
                db.execute(
                    insert(table).values(
                        id=uuid.uuid4().hex,
                        original_name=name,
                        custom_name=name,
                        custom_name_slug=name,
                        name=name,
                        input_schema={"type": "object", "properties": {}},
                        visibility="private",
                        owner_email=gw.admin,
                    )
                )
            elif kind == "update":
                db.execute(
                    update(table)
                    .where(table.c.id == gw.tool_id)
                    .values(description="x")
                )
            else:
                db.execute(delete(table).where(table.c.id == gw.tool_id))
            db.flush()
        finally:
            db.rollback()
        return 1

    return call


OPS = {
    op.name: op
    for op in (
        Op("list_tools_admin", "tool_service.list_tools as the platform admin", list_op("tools", "admin")),
        Op("list_tools_member", "tool_service.list_tools as a member of the most teams", list_op("tools", "member"), "member"),
        Op("list_tools_public", "tool_service.list_tools without teams (public rows)", list_op("tools", "public")),
        Op("list_servers_admin", "server_service.list_servers as the admin", list_op("servers", "admin")),
        Op("list_prompts_admin", "prompt_service.list_prompts as the admin", list_op("prompts", "admin")),
        Op("list_resources_admin", "resource_service.list_resources as the admin", list_op("resources", "admin")),
        Op("list_servers_metrics", "server_service.list_servers as the admin, include_metrics", list_op("servers", "admin", metrics=True)),
        Op("server_tools", "tool_service.list_server_tools of the server with most tools", server_tools, "server"),
        Op("get_tool", "tool_service.get_tool by id", get_tool, "tool"),
        Op("tool_by_name", "a tool by its name (the models' query)", tool_by_name, "tool"),
        Op("create_tool", "insert a tool, flush, roll back", write_op("create")),
        Op("update_tool", "update a tool, flush, roll back", write_op("update"), "tool"),
        Op("delete_tool", "delete a tool (its associations cascade), flush, roll back", write_op("delete"), "tool"),
    )
}  # fmt: skip


# -- the SQL a call sends --------------------------------------------------------------------
@dataclass
class SqlLog:
    """Statements per call (thread-local), and the slowest statements seen."""

    local: threading.local = field(default_factory=threading.local)
    per_call: list[int] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def detach(self, engine: Any) -> None:
        from sqlalchemy import event

        event.remove(engine, "before_cursor_execute", self.before)
        event.remove(engine, "after_cursor_execute", self.after)

    def before(self, _conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        self.local.started = time.perf_counter()
        self.local.count = getattr(self.local, "count", 0) + 1

    def after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        took = time.perf_counter() - getattr(self.local, "started", time.perf_counter())
        with self.lock:
            self.slowest.append((took, " ".join(statement.split())[:SQL_KEEP]))
            self.slowest.sort(reverse=True)
            del self.slowest[SLOWEST:]

    def start_call(self) -> None:
        self.local.count = 0

    def end_call(self) -> None:
        with self.lock:
            self.per_call.append(getattr(self.local, "count", 0))

    def summary(self) -> dict[str, Any]:
        counts = sorted(self.per_call)
        return {
            "calls": len(counts),
            "statements_per_call": counts[len(counts) // 2] if counts else None,
            "statements_max": counts[-1] if counts else None,
            "slowest": [{"ms": round(s * 1000, 3), "sql": q} for s, q in self.slowest],
        }


# -- the driver ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    offset: float
    seconds: float
    ok: bool
    error: str | None = None


# exit code of an operation the database lacks the rows for (the run records it as skipped)
NOT_APPLICABLE = 5


def missing(gw: Gateway, op: Op) -> str | None:
    """Why the database cannot run `op` (it lacks what the op needs), or None."""
    if op.needs == "member" and gw.member is None:
        return "no user besides the admin is in a team (make populate writes some)"
    if op.needs == "server" and gw.server_id is None:
        return "no virtual server has tools"
    if op.needs == "tool" and gw.tool_id is None:
        return "the database holds no tool"
    return None


def one(gw: Gateway, op: Op, limit: int, log: SqlLog, start: float) -> Sample:
    begun = time.perf_counter()
    log.start_call()
    try:
        with gw.session() as db:
            op.call(gw, db, limit)
        return Sample(begun - start, time.perf_counter() - begun, True)
    except Exception as exc:  # noqa: BLE001 - the call's own failure, reported as a failed request
        return Sample(
            begun - start,
            time.perf_counter() - begun,
            False,
            f"{type(exc).__name__}: {exc}",
        )
    finally:
        log.end_call()


def drive(
    gw: Gateway, op: Op, limit: int, count: int, clients: int, log: SqlLog
) -> list[Sample]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(lambda _: one(gw, op, limit, log, start), range(count)))


def csv_rows(samples: list[Sample]) -> list[str]:
    rows = [HEADER]
    for s in sorted(samples, key=lambda s: s.offset):
        status = 200 if s.ok else 500
        rows.append(f"{s.seconds:.6f},0,0,0,{s.seconds:.6f},0,{status},{s.offset:.6f}")
    return rows


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m perfkit.dbbench.ops", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list")
    for name in ("probe", "run"):
        action = sub.add_parser(name)
        action.add_argument("--op", required=True, choices=sorted(OPS))
        action.add_argument("--limit", type=int, default=50)
    run = sub.choices["run"]
    run.add_argument("-n", type=int, required=True)
    run.add_argument("-c", type=int, required=True)
    run.add_argument("--stats", type=Path)
    worker = sub.add_parser("serve")
    worker.add_argument("--socket", type=Path, required=True)
    worker.add_argument("--parent", type=int, help="end when this process is gone")
    worker.add_argument(
        "--idle", type=float, default=IDLE_S, help="end after this long idle"
    )
    return parser


def act(gw: Gateway, args: argparse.Namespace) -> int:
    """probe or run with the gateway's side already made (a worker makes it once)."""
    op = OPS[args.op]
    why = missing(gw, op)
    if why is not None:
        print(f"{op.name}: {why}")
        return NOT_APPLICABLE
    if args.action == "run" and (args.n < 1 or args.c < 1):
        print(
            f"{PROG}: error: -n {args.n} -c {args.c}: both must be at least 1",
            file=sys.stderr,
        )
        return 2
    log = SqlLog()
    log.attach(gw.db.engine)
    try:
        if args.action == "probe":
            [sample] = drive(gw, op, args.limit, 1, 1, log)
            if not sample.ok:
                print(f"{op.name} failed: {sample.error}")
                return 4
            stats = log.summary()
            print(
                f"{op.name}: {sample.seconds * 1000:.1f} ms, {stats['statements_per_call']} statement(s)"
            )
            return 0
        samples = drive(gw, op, args.limit, args.n, min(args.c, args.n), log)
    finally:
        log.detach(gw.db.engine)
    print("\n".join(csv_rows(samples)))
    for error in sorted({s.error for s in samples if s.error}):
        print(f"{sum(s.error == error for s in samples)} x {error}", file=sys.stderr)
    if args.stats is not None:
        args.stats.write_text(
            json.dumps(log.summary(), indent=2) + "\n", encoding="utf-8"
        )
    return 0


def serve(socket_path: Path, parent: int | None, idle_s: float) -> int:
    """The gateway's side made once, then one request at a time over a Unix socket: a JSON line
    {"argv": [...], "cwd"} answered by {"code", "stdout", "stderr"} - what `probe` or `run`
    would have printed and returned. Ends on {"argv": ["stop"]}, when `parent` is gone, or
    after `idle_s` without a request."""
    import contextlib
    import io
    import os
    import socket

    gw = Gateway()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_path))
    server.listen(4)
    server.settimeout(1.0)
    idle_since = time.monotonic()
    try:
        while time.monotonic() - idle_since < idle_s:
            if parent is not None and not _alive(parent):
                return 0
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(None)
                request = json.loads(_read_line(conn) or "{}")
                argv = [str(a) for a in request.get("argv") or []]
                if argv == ["stop"]:
                    conn.sendall(b'{"code": 0, "stdout": "", "stderr": ""}\n')
                    return 0
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    os.chdir(request.get("cwd") or ".")
                    try:
                        code = act(gw, build_parser().parse_args(argv))
                    except (
                        SystemExit
                    ) as exc:  # argparse's refusal: its message is in err
                        code = exc.code if isinstance(exc.code, int) else 2
                answer = {
                    "code": code,
                    "stdout": out.getvalue(),
                    "stderr": err.getvalue(),
                }
                conn.sendall(json.dumps(answer).encode() + b"\n")
            idle_since = time.monotonic()
        return 0
    finally:
        server.close()
        socket_path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_line(conn: Any) -> str:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks).decode()


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.action == "list":
        for op in OPS.values():
            print(f"{op.name}  {op.what}")
        return 0
    if args.action == "serve":
        return serve(args.socket, args.parent, args.idle)
    return act(Gateway(), args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
