"""The benchmark token: what hey sends instead of the user's own token (`perfkit bench-token`).

hey takes its headers on its command line, which every local user can read (`ps`,
/proc/PID/cmdline) for as long as it runs. So the token hey sees is worth little: at the start
of a run the kit asks the gateway's token API (`POST /tokens` with `user_email`, an admin's
right) for a token of a dedicated benchmark user, scoped to what the scenarios send and
nothing administrative, for the shortest time the API allows (1.0.7: `expires_in_days` >= 1),
and revokes it (`DELETE /tokens/admin/{id}`) when the run ends. The ledger (mode 0600) names
every token a run issued until it is revoked, so the next run revokes what a killed one left.

  perfkit bench-token issue --url URL --ledger FILE --owner-pid PID [--run-dir DIR]
      the benchmark role and user made or brought back to what they must be, a token issued
      and written to the ledger; stdout: the token, its id, and the identity (JSON, no secret)
      one a line. Exit 3 with the reason when the gateway cannot issue one.
  perfkit bench-token revoke --url URL --ledger FILE (--id ID | --owner-pid PID)
      the token revoked (or found gone) and dropped from the ledger; exit 3 when not. With
      --owner-pid: every token the ledger records at URL for that process (a shell's own).
  perfkit bench-token leftovers --url URL --ledger FILE
      revokes the ledger's tokens for URL whose run is gone (its process ended); drops expired.
  perfkit bench-token as-user --email EMAIL --reason TEXT | --none
      the identity (JSON) of a run that sends the user's own token, or none.

The user's (admin's) token comes in the environment (PERFKIT_TOKEN), never on a command line.

Schema versions of the ledger (.state/auth/bench-tokens.json):
  1 - tokens: url, id, name, email, run_dir, pid, pid_started, created_at, expires_at
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from perfkit.atomic import write_json_atomic
from perfkit.clock import now_iso
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object
from perfkit.names import BENCH_USER_EMAIL, TOKEN_ENV
from perfkit.workflows.people import Send, sender, strong_password

PROG = "perfkit bench-token"
LEDGER_FILE = "bench-tokens.json"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)

BENCH_EMAIL = BENCH_USER_EMAIL
ROLE_NAME = "perfkit-benchmark"
# What the scenarios send, and nothing else: REST lists and reads, /rpc (tools/list, tools/call,
# resources/list|read, prompts/list|get, ping), MCP streamable HTTP on /mcp and
# /servers/{id}/mcp, legacy SSE. The token carries them as its scope, the user holds them as its
# one global role: the gateway grants a scoped token what both allow. No *.create, *.update,
# *.delete, tokens.*, users.*, teams.*, admin.*: creating a user, a token or a gateway is 403.
PERMISSIONS = (
    "tools.read",
    "tools.execute",
    "resources.read",
    "prompts.read",
    "servers.read",
    "servers.use",
    "gateways.read",
)
EXPIRES_IN_DAYS = 1  # 1.0.7's TokenCreateRequest: expires_in_days >= 1, no shorter unit


class Unavailable(KitError):
    """The gateway cannot issue a benchmark token (exit 3): the run says so, then goes on
    with the user's token, or refuses with --strict-secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.ENV_NOT_READY)


@dataclass(frozen=True)
class Issued:
    """A ledger line: a benchmark token a run issued and has not yet revoked."""

    url: str
    id: str
    name: str
    email: str
    run_dir: str
    pid: int
    pid_started: float | None
    created_at: str
    expires_at: str | None


@dataclass(frozen=True)
class Identity:
    """Who the load ran as (run.json's target.load_as): never the token itself."""

    kind: str  # benchmark-token | user-token | none
    email: str | None
    permissions: list[str] | None  # None: all the user's own
    token_id: str | None = None
    expires_at: str | None = None
    note: str | None = None


# -- the ledger --------------------------------------------------------------------------------
def load_ledger(path: Path) -> list[Issued]:
    """The ledger's tokens; a missing ledger is empty, one of an unknown version exit 2."""
    if not path.exists():
        return []
    data = read_object(
        path, LEDGER_FILE, fix=f"remove {path} (its tokens expire in a day)"
    )
    check_version(path, data, READABLE_VERSIONS)
    rows = data.get("tokens")
    if not isinstance(rows, list):
        raise KitError(f"{path}: {LEDGER_FILE} has no list 'tokens'", ExitCode.USAGE)
    try:
        return [Issued(**row) for row in rows]
    except TypeError as exc:
        raise KitError(
            f"{path}: a token line is malformed ({exc})", ExitCode.USAGE
        ) from None


def _save(path: Path, tokens: list[Issued]) -> None:
    data = {"schema_version": SCHEMA_VERSION, "tokens": [asdict(t) for t in tokens]}
    write_json_atomic(path, data, mode=0o600)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Two runs at once each see the other's lines: read-modify-write under a lock."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _add(path: Path, token: Issued) -> None:
    with _locked(path):
        _save(path, [*load_ledger(path), token])


def _drop(path: Path, url: str, ids: set[str]) -> None:
    with _locked(path):
        _save(
            path, [t for t in load_ledger(path) if not (t.url == url and t.id in ids)]
        )


def process_started(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def owner_gone(token: Issued) -> bool:
    """True when the run that issued token is no longer running (its PID is gone, or is now
    another process)."""
    started = process_started(token.pid)
    return started is None or (
        token.pid_started is not None and abs(started - token.pid_started) > 1
    )


def expired(token: Issued, now: float) -> bool:
    if token.expires_at is None:
        return False
    try:
        when = datetime.fromisoformat(token.expires_at)
    except ValueError:
        return False
    if when.tzinfo is None:  # the gateway writes UTC without an offset
        when = when.replace(tzinfo=UTC)
    return when.timestamp() <= now


# -- the gateway -------------------------------------------------------------------------------
def _detail(body: Any) -> str:
    text = body.get("detail", body) if isinstance(body, dict) else body
    return str(text)[:200]


def refused(what: str, status: int, body: Any) -> Unavailable:
    """Why the gateway would not do `what`, worded for the run's one warning."""
    if status == 404:
        why = "the gateway has no such API (an older release, or its email auth / token API switched off)"
    elif status in (401, 403):
        why = "the kit's login may not (it must be a platform admin's: auth.email)"
    elif status == 429:
        why = "the gateway rate-limited the kit"
    else:
        why = "the gateway refused"
    return Unavailable(f"{what}: HTTP {status} {_detail(body)} - {why}")


def ensure_role(send: Send) -> str:
    """The global role ROLE_NAME holding exactly PERMISSIONS; its id."""
    status, roles = send("GET", "/rbac/roles", None)
    if status != 200 or not isinstance(roles, list):
        raise refused("listing the RBAC roles", status, roles)
    found = [r for r in roles if isinstance(r, dict) and r.get("name") == ROLE_NAME]
    if not found:
        body = {
            "name": ROLE_NAME,
            "description": "MCP Gateway Performance Kit: the load's reads and calls, nothing administrative",
            "scope": "global",
            "permissions": list(PERMISSIONS),
        }
        status, made = send("POST", "/rbac/roles", body)
        if status not in (200, 201) or not isinstance(made, dict):
            raise refused(f"creating the role {ROLE_NAME}", status, made)
        return str(made["id"])
    role = found[0]
    if sorted(role.get("permissions") or []) != sorted(PERMISSIONS):
        status, body = send(
            "PUT", f"/rbac/roles/{role['id']}", {"permissions": list(PERMISSIONS)}
        )
        if status != 200:
            raise refused(
                f"setting the permissions of the role {ROLE_NAME}", status, body
            )
    return str(role["id"])


def ensure_user(send: Send, email: str) -> None:
    """The benchmark user: made when missing (a random password nobody keeps: it never logs
    in), made active again when deactivated; a platform admin of that name is refused."""
    status, user = send("GET", f"/auth/email/admin/users/{email}", None)
    if status == 404:
        body = {
            "email": email,
            "password": strong_password(email),
            "full_name": "perfkit benchmark load",
            "is_admin": False,
            "is_active": True,
            "password_change_required": False,
        }
        status, made = send("POST", "/auth/email/admin/users", body)
        if status not in (200, 201):
            raise refused(f"creating the benchmark user {email}", status, made)
        return
    if status != 200 or not isinstance(user, dict):
        raise refused(f"looking up the benchmark user {email}", status, user)
    if user.get("is_admin"):
        raise Unavailable(
            f"the benchmark user {email} is a platform admin on this gateway: its token would be "
            "worth as much as yours; make it a plain user again (PUT /auth/email/admin/users)"
        )
    if not user.get("is_active", True):
        status, body = send(
            "PUT", f"/auth/email/admin/users/{email}", {"is_active": True}
        )
        if status != 200:
            raise refused(f"activating the benchmark user {email}", status, body)


def ensure_grant(send: Send, email: str, role_id: str) -> None:
    """The user holds the role globally."""
    status, grants = send("GET", f"/rbac/users/{email}/roles", None)
    if status != 200 or not isinstance(grants, list):
        raise refused(f"listing the roles of {email}", status, grants)
    for grant in grants:
        if (
            isinstance(grant, dict)
            and grant.get("role_id") == role_id
            and grant.get("scope") == "global"
            and grant.get("is_active", True)
        ):
            return
    status, body = send(
        "POST", f"/rbac/users/{email}/roles", {"role_id": role_id, "scope": "global"}
    )
    if status not in (200, 201):
        raise refused(f"giving {email} the role {ROLE_NAME}", status, body)


def issue(
    send: Send, url: str, email: str, owner_pid: int, run_dir: str
) -> tuple[str, Issued]:
    """A token for the benchmark user, scoped to PERMISSIONS: (secret, its ledger line)."""
    ensure_user(send, email)
    ensure_grant(send, email, ensure_role(send))
    name = f"perfkit-run-{time.strftime('%Y%m%d-%H%M%S')}-{owner_pid}-{os.urandom(3).hex()}"
    body = {
        "name": name,
        "description": f"MCP Gateway Performance Kit run {run_dir or '-'}: revoked when it ends",
        "expires_in_days": EXPIRES_IN_DAYS,
        "user_email": email,
        "scope": {"permissions": list(PERMISSIONS)},
    }
    status, made = send("POST", "/tokens", body)
    if (
        status not in (200, 201)
        or not isinstance(made, dict)
        or "access_token" not in made
    ):
        raise refused("issuing a benchmark token (POST /tokens)", status, made)
    info = made.get("token") or {}
    owner = info.get("user_email")
    if owner is not None and str(owner).lower() != email.lower():
        # a release that ignores user_email issues the token to the caller: the admin's
        revoke(send, str(info["id"]))
        raise Unavailable(
            f"the gateway issued the token to {owner}, not {email} (a release whose token API "
            "ignores user_email): it was revoked at once"
        )
    issued = Issued(
        url=url,
        id=str(info["id"]),
        name=name,
        email=email,
        run_dir=run_dir,
        pid=owner_pid,
        pid_started=process_started(owner_pid),
        created_at=now_iso(),
        expires_at=info.get("expires_at"),
    )
    return str(made["access_token"]), issued


def revoke(send: Send, token_id: str) -> None:
    """Revoke token_id; one already gone is fine."""
    status, body = send("DELETE", f"/tokens/admin/{token_id}", None)
    if status not in (200, 204, 404):
        raise refused(f"revoking the benchmark token {token_id}", status, body)


def identity_of(issued: Issued) -> Identity:
    return Identity(
        kind="benchmark-token",
        email=issued.email,
        permissions=list(PERMISSIONS),
        token_id=issued.id,
        expires_at=issued.expires_at,
        note=(
            "issued for this run through the gateway's token API; revoked when the run ends "
            "(after a SIGKILL: by the next run at this gateway)"
        ),
    )


# -- the command -------------------------------------------------------------------------------
def _admin_token() -> str:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise KitError(
            f"no token in {TOKEN_ENV} (utils/setup-auth.sh --print gives one)",
            ExitCode.USAGE,
        )
    return token


def cmd_issue(args: argparse.Namespace) -> int:
    send = sender(args.url, _admin_token())
    secret, issued = issue(
        send, args.url.rstrip("/"), args.email, args.owner_pid, args.run_dir or ""
    )
    try:
        _add(args.ledger, issued)
    except (KitError, OSError):
        revoke(send, issued.id)  # a token no ledger names would outlive a killed run
        raise
    print(secret)
    print(issued.id)
    print(json.dumps(asdict(identity_of(issued)), sort_keys=True))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/")
    if args.id is not None:
        ids = [args.id]
    else:
        ids = [
            t.id
            for t in load_ledger(args.ledger)
            if t.url == url and t.pid == args.owner_pid
        ]
        if not ids:
            print(
                f"{PROG}: no benchmark token of process {args.owner_pid} at {url}",
                file=sys.stderr,
            )
            return 0
    send = sender(args.url, _admin_token())
    for token_id in ids:
        revoke(send, token_id)
    _drop(args.ledger, url, set(ids))
    return 0


def cmd_leftovers(args: argparse.Namespace) -> int:
    url, now = args.url.rstrip("/"), time.time()
    mine = [t for t in load_ledger(args.ledger) if t.url == url and owner_gone(t)]
    if not mine:
        return 0
    send = sender(args.url, _admin_token())
    done = {t.id for t in mine if expired(t, now)}
    for token in mine:
        if token.id not in done:
            revoke(send, token.id)
            done.add(token.id)
    _drop(args.ledger, url, done)
    print(
        f"{PROG}: revoked {len(done)} benchmark token(s) an earlier run at {url} left "
        f"(its run ended without revoking them: {', '.join(sorted({t.run_dir or '-' for t in mine}))})",
        file=sys.stderr,
    )
    return 0


def cmd_as_user(args: argparse.Namespace) -> int:
    if args.none:
        who = Identity(
            kind="none",
            email=None,
            permissions=[],
            note="no Authorization header (--no-auth)",
        )
    else:
        who = Identity(
            kind="user-token", email=args.email, permissions=None, note=args.reason
        )
    print(json.dumps(asdict(who), sort_keys=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    made = sub.add_parser(
        "issue", help="issue a benchmark token (stdout: token, id, identity)"
    )
    gone = sub.add_parser(
        "revoke", help="revoke a benchmark token and drop it from the ledger"
    )
    left = sub.add_parser(
        "leftovers", help="revoke the tokens of runs that ended without doing so"
    )
    for p in (made, gone, left):
        p.add_argument("--url", required=True)
        p.add_argument("--ledger", type=Path, required=True)
    made.add_argument("--owner-pid", type=int, required=True, help="the run's shell")
    made.add_argument("--run-dir", default="")
    made.add_argument(
        "--email",
        default=BENCH_EMAIL,
        help=f"the benchmark user (default {BENCH_EMAIL})",
    )
    which = gone.add_mutually_exclusive_group(required=True)
    which.add_argument("--id")
    which.add_argument(
        "--owner-pid", type=int, help="every token this process was issued at --url"
    )
    user = sub.add_parser(
        "as-user", help="the identity of a run that sends the user's own token"
    )
    user.add_argument("--email", default=None)
    user.add_argument("--reason", default=None)
    user.add_argument("--none", action="store_true", help="no token at all (--no-auth)")
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "issue": cmd_issue,
        "revoke": cmd_revoke,
        "leftovers": cmd_leftovers,
        "as-user": cmd_as_user,
    }
    return handlers[args.action](args)


def load_as_text(load_as: Any) -> str | None:
    """run.json's target.load_as in a line, for the report's configuration (None: unknown)."""
    if not isinstance(load_as, dict):
        return None
    kind, email = load_as.get("kind"), load_as.get("email") or "?"
    permissions = load_as.get("permissions")
    if kind == "none":
        return "no token (--no-auth)"
    if kind == "benchmark-token":
        scope = ", ".join(str(p) for p in permissions or [])
        return f"{email}: a benchmark token of this run's, revoked at its end; permissions {scope}"
    note = load_as.get("note")
    return f"{email}: the user's own token, all its permissions" + (
        f" ({note})" if note else ""
    )
