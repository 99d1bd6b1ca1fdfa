"""Users made on demand for multi-user runs, and removed again: `perfkit workflows-people`.

  perfkit workflows-people make --url URL --users N [--teams T] [--prefix P]
                                --ledger FILE [--tokens FILE]
      T teams `<P>_team_<k>_<run>` and N users `<P>_user_<n>@perfkit.example.com`, each with a random
      password the gateway's policy accepts, each in one team and every third in a second one,
      the first user placed in a team its owner, a user in two teams co-owner of the first
      (the others members, whose role may read but not edit),
      each logged in once (its token written to FILE, mode 0600, never printed). Every user,
      team and membership is written to the ledger the moment the gateway made it, so a run cut
      short still knows what to remove; a make that fails removes what it made. A user of an
      earlier run that the gateway could only deactivate is made active again, with a new
      password; an active user of that name is not the kit's to take (exit 3).
  perfkit workflows-people clean --url URL (--ledger FILE | --prefix P) [--dry-run]
      removes what a ledger records (tokens, servers, prompts, memberships, teams, users, and
      what the workload rest makes: plugin bindings, resources, A2A agents, roots, roles,
      tools, gateways), or what an earlier run left by prefix (users `<P>_user_*`, teams
      `<P>_team_*`, servers `<P>-share-*`, prompts `<P>-collab-*`, and everything named
      `<P>-rest-*`); --dry-run lists it first.

The admin's token comes in the environment (PERFKIT_TOKEN), never on a command line.

What the gateway cannot remove (1.0.7): a user who was ever in a team - the migrated schema's
email_team_member_history references email_team_members without ON DELETE CASCADE, so the
gateway's own delete fails (HTTP 500, "Cannot delete user due to existing references") - is
deactivated instead (it cannot log in), and said so; a team is soft-deleted (its row kept,
inactive), as the gateway does for every team.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import secrets
import string
import sys
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.dataset.cli import http_json
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import TOKEN_ENV

PROG = "perfkit workflows-people"
DOMAIN = "perfkit.example.com"
PARALLEL = 4  # requests to the gateway at once while making or removing people
PASSWORD_LENGTH = 20
SHOWN_FAILURES = 10  # what could not be removed, named one by one up to this many
SPECIALS = "!@#%^&*-_=+"
# the gateway's password policy (1.0.7 password_policy_service), mirrored so a made password is
# never refused: at least 12 characters, 3 of 4 kinds, no run of 3 ascending or descending
# letters or digits, not the user name; and at least 10 different characters
MIN_LENGTH = 12
MIN_UNIQUE = 10
SEQUENCE = 3

# (method, path, body) -> (HTTP status, decoded JSON or text)
Send = Callable[[str, str, "dict[str, Any] | None"], "tuple[int, Any]"]


# -- passwords -------------------------------------------------------------------------------
def _sequential(text: str) -> bool:
    for i in range(len(text) - SEQUENCE + 1):
        run = text[i : i + SEQUENCE].lower()
        if not (run.isdigit() or run.isalpha()):
            continue
        steps = {ord(b) - ord(a) for a, b in itertools.pairwise(run)}
        if steps in ({1}, {-1}):
            return True
    return False


def password_problem(password: str, email: str) -> str | None:
    """Why the gateway's policy would refuse `password` for `email`, or None."""
    kinds = sum(
        any(c in group for c in password)
        for group in (
            string.ascii_lowercase,
            string.ascii_uppercase,
            string.digits,
            SPECIALS,
        )
    )
    name = email.split("@")[0].lower()
    if len(password) < MIN_LENGTH:
        return f"shorter than {MIN_LENGTH} characters"
    if kinds < 3:
        return "fewer than 3 of lowercase, uppercase, digits, special characters"
    if len(name) >= 3 and name in password.lower():
        return "contains the user name"
    if _sequential(password):
        return f"{SEQUENCE} sequential letters or digits"
    if len(set(password)) < MIN_UNIQUE:
        return f"fewer than {MIN_UNIQUE} different characters"
    return None


def strong_password(email: str, choice: Callable[[str], str] = secrets.choice) -> str:
    """A random password the gateway accepts for `email` (every kind of character)."""
    alphabet = string.ascii_letters + string.digits + SPECIALS
    for _ in range(1000):
        chars = [
            choice(string.ascii_lowercase),
            choice(string.ascii_uppercase),
            choice(string.digits),
            choice(SPECIALS),
        ] + [choice(alphabet) for _ in range(PASSWORD_LENGTH - 4)]
        password = "".join(chars)
        if password_problem(password, email) is None:
            return password
    raise RuntimeError("no password passed the policy in 1,000 draws")


# -- who is in which team --------------------------------------------------------------------
def user_email(prefix: str, n: int) -> str:
    return f"{prefix}_user_{n}@{DOMAIN}"


def team_name(prefix: str, k: int, run: str) -> str:
    """A team's name carries its run's id: the gateway keeps a deleted team's name (its slug
    stays unique), so a name is never made twice."""
    return f"{prefix}_team_{k}_{run}"


def memberships(users: int, teams: int) -> list[tuple[int, int]]:
    """(user, team) pairs: user n in team n mod T, and every third user in the next team too
    (some users in several teams, as on a real gateway); users and teams count from 1."""
    if teams < 1:
        return []
    pairs = [(n, (n - 1) % teams + 1) for n in range(1, users + 1)]
    if teams > 1:
        pairs += [(n, n % teams + 1) for n in range(3, users + 1, 3)]
    return sorted(pairs)


def owners(pairs: list[tuple[int, int]]) -> dict[int, set[int]]:
    """team -> its owners: the first user placed in it, and a user in two teams co-owns the
    first of them, so some teams have two editors (a member's default role, viewer, may not
    create servers nor edit the team's prompts; an owner's, team_admin, may)."""
    owned: dict[int, set[int]] = {}
    home: dict[int, int] = {}
    for n, k in sorted(pairs):
        owned.setdefault(k, {n})
        home.setdefault(n, k)
    for n, k in sorted(pairs):
        if k != home[n]:  # n is in two teams: it co-owns its home team
            owned[home[n]].add(n)
    return owned


# -- the ledger ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Made:
    kind: str  # user | team | member | server | prompt | token, or a kind of REMOVED_BY
    key: str  # the user's email, the team's or server's or token's id, "<team id> <email>"
    name: str = ""


class Ledger:
    """What a run made, one JSON line each, written (and flushed to disk) as the gateway makes
    it: an interrupted run leaves a ledger that still names everything to remove."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, made: Made) -> None:
        line = json.dumps({"kind": made.kind, "key": made.key, "name": made.name})
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    def entries(self) -> list[Made]:
        if not self.path.exists():
            return []
        made = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                made.append(Made(data["kind"], data["key"], data.get("name", "")))
            except (ValueError, KeyError, TypeError) as exc:
                raise KitError(
                    f"{self.path}:{number}: not a ledger line ({exc}); the ledger is "
                    "written by `workflows-people make` only",
                    ExitCode.USAGE,
                ) from exc
        return made


# -- making people ---------------------------------------------------------------------------
def _refused(what: str, status: int, body: Any) -> KitError:
    detail = body.get("detail") if isinstance(body, dict) else body
    text = f"{what}: HTTP {status}: {str(detail)[:200]}"
    if what.startswith("login of ") and status in (401, 403, 423):
        return KitError(
            f"{text} - the gateway refused a user the kit just made: its account locked "
            "(MAX_FAILED_LOGIN_ATTEMPTS failed logins lock it for "
            "ACCOUNT_LOCKOUT_DURATION_MINUTES; an admin unlocks it: POST "
            "/v1/auth/email/admin/users/<email>/unlock), or a password change required "
            "(PASSWORD_MAX_AGE_DAYS, REQUIRE_PASSWORD_CHANGE_FOR_DEFAULT_PASSWORD); "
            "what was made is removed again",
            ExitCode.ENV_NOT_READY,
        )
    if status in (401, 403):
        return KitError(
            f"{text} - making users needs a platform admin's token "
            "(permission admin.user_management); log in as the gateway's admin",
            ExitCode.ENV_NOT_READY,
        )
    if status == 409 or (status == 400 and "already" in str(detail).lower()):
        return KitError(
            f"{text} - an earlier run's leftovers? `make workflows-clean` removes them by prefix",
            ExitCode.ENV_NOT_READY,
        )
    if status == 429:
        return KitError(
            f"{text} - the gateway rate-limited the kit; wait a minute, or raise its "
            "rate limits on the local stack",
            ExitCode.ENV_NOT_READY,
        )
    if status == 400 and "password" in str(detail).lower():
        return KitError(
            f"{text} - the gateway's password policy refused a made password; its policy "
            "settings (PASSWORD_*) differ from 1.0.7's defaults",
            ExitCode.ENV_NOT_READY,
        )
    return KitError(text, ExitCode.ENV_NOT_READY)


@dataclass(frozen=True)
class Person:
    email: str
    teams: tuple[str, ...]  # team ids
    token: str
    owns: tuple[str, ...] = ()  # the team ids of those it owns


def _revive(send: Send, email: str, password: str) -> bool:
    """An earlier run's user the gateway could only deactivate, active again with a new
    password (True); False when the user is active (someone uses it: not the kit's to take)."""
    path = f"/v1/auth/email/admin/users/{urllib.parse.quote(email)}"
    status, body = send("GET", path, None)
    if status != 200 or not isinstance(body, dict) or body.get("is_active", True):
        return False
    status, _ = send("PUT", path, {"is_active": True, "password": password})
    return status == 200


def make_people(
    send: Send, ledger: Ledger, prefix: str, users: int, teams: int, run: str = ""
) -> list[Person]:
    """Teams, users and memberships on the gateway, each recorded in the ledger as made; then
    each user's login. `run` names this run's teams (random when empty)."""
    run = run or secrets.token_hex(3)
    names = {k: team_name(prefix, k, run) for k in range(1, teams + 1)}
    team_ids: dict[int, str] = {}
    for k, name in names.items():
        status, body = send(
            "POST", "/v1/teams/", {"name": name, "visibility": "private"}
        )
        if status not in (200, 201) or not isinstance(body, dict) or "id" not in body:
            raise _refused(f"team {name}", status, body)
        team_ids[k] = str(body["id"])
        ledger.add(Made("team", team_ids[k], name))
    passwords = {n: strong_password(user_email(prefix, n)) for n in range(1, users + 1)}
    pairs = memberships(users, teams)
    owned = owners(pairs)

    def make_user(n: int) -> None:
        email = user_email(prefix, n)
        status, body = send(
            "POST",
            "/v1/auth/email/admin/users",
            {
                "email": email,
                "password": passwords[n],
                "full_name": f"{prefix} user {n}",
                "is_admin": False,
                "is_active": True,
                "password_change_required": False,
            },
        )
        if status == 409 and not _revive(send, email, passwords[n]):
            raise _refused(f"user {email}", status, body)
        if status not in (200, 201, 409):
            raise _refused(f"user {email}", status, body)
        ledger.add(Made("user", email))

    def join(pair: tuple[int, int]) -> None:
        n, k = pair
        email = user_email(prefix, n)
        role = "owner" if n in owned[k] else "member"
        status, body = send(
            "POST",
            f"/v1/teams/{team_ids[k]}/members",
            {"email": email, "role": role},
        )
        if status not in (200, 201):
            raise _refused(f"{email} into {names[k]}", status, body)
        ledger.add(Made("member", f"{team_ids[k]} {email}"))

    def login(n: int) -> str:
        email = user_email(prefix, n)
        status, body = send(
            "POST", "/v1/auth/email/login", {"email": email, "password": passwords[n]}
        )
        if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise _refused(f"login of {email}", status, body)
        return str(body["access_token"])

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(make_user, range(1, users + 1)))
        list(pool.map(join, pairs))
        tokens = list(pool.map(login, range(1, users + 1)))
    return [
        Person(
            user_email(prefix, n),
            tuple(team_ids[k] for m, k in pairs if m == n),
            tokens[n - 1],
            tuple(team_ids[k] for k, m in sorted(owned.items()) if n in m),
        )
        for n in range(1, users + 1)
    ]


# -- removing them ---------------------------------------------------------------------------
@dataclass
class Removal:
    removed: list[str]
    deactivated: list[str]
    failed: list[str]


def _gone(status: int) -> bool:
    return status in (
        200,
        204,
        404,
    )  # 404: removed already (a workflow deletes its servers)


# what the workflows make, the order it is removed in (what refers to others first) and the
# request that removes it; a user, a team and a membership are handled apart (see remove)
REMOVED_BY: dict[str, tuple[int, str]] = {
    "token": (0, "/v1/tokens/admin/{key}"),
    "tool-binding": (0, "/v1/tools/plugin_bindings/{key}"),
    "agent-binding": (0, "/v1/a2a-agents/plugin-bindings/{key}"),
    "server": (1, "/v1/servers/{key}"),
    "prompt": (2, "/v1/prompts/{key}"),
    "resource": (2, "/v1/resources/{key}"),
    "agent": (2, "/v1/a2a/{key}"),
    "root": (2, "/v1/roots/{key}"),
    "role": (2, "/v1/rbac/roles/{key}"),
    "tool": (3, "/v1/tools/{key}"),
    "gateway": (3, "/v1/gateways/{key}"),
    "team": (4, "/v1/teams/{key}"),
}
MEMBER_ORDER, USER_ORDER = 5, 6


def remove(send: Send, made: list[Made], dry_run: bool = False) -> Removal:
    """What the workflows made (tokens and bindings, servers, prompts, resources, agents,
    roots, roles, tools, gateways), teams (their memberships end with them), other
    memberships, then users - the reverse of making them; a user the gateway cannot delete
    (a former team member, see the module's text) is deactivated."""
    result = Removal([], [], [])
    order = {kind: rank for kind, (rank, _) in REMOVED_BY.items()}
    order |= {"member": MEMBER_ORDER, "user": USER_ORDER}
    todo = sorted(
        {(m.kind, m.key): m for m in made}.values(),
        key=lambda m: (order.get(m.kind, MEMBER_ORDER), m.key),
    )
    our_teams = {m.key for m in todo if m.kind == "team"}
    for m in todo:
        label = f"{m.kind} {m.name or m.key}"
        if dry_run or (m.kind == "member" and m.key.split(" ", 1)[0] in our_teams):
            # a membership of a team the kit made ends with its team (the gateway marks it
            # inactive; removed first, its team's deletion would refuse it with a 403)
            result.removed.append(label)
            continue
        if m.kind == "member":
            team, email = m.key.split(" ", 1)
            status, _ = send(
                "DELETE",
                f"/v1/teams/{team}/members/{urllib.parse.quote(email)}",
                None,
            )
        elif m.kind in REMOVED_BY:
            key = urllib.parse.quote(m.key, safe="")
            status, _ = send("DELETE", REMOVED_BY[m.kind][1].format(key=key), None)
            if m.kind == "token" and status == 409:
                status = 204  # revoked already (its workflow)
            if m.kind == "tool" and status == 400:
                status = 404  # 1.0.7 answers 400 for a tool it no longer has
        else:
            path = f"/v1/auth/email/admin/users/{urllib.parse.quote(m.key)}"
            status, _ = send("DELETE", path, None)
            if not _gone(status) and send("GET", path, None)[0] == 404:
                status = 404  # deleted already (1.0.7 answers 500 for a user it lacks)
            if not _gone(status):
                status, _ = send("PUT", path, {"is_active": False})
                if status == 200:
                    result.deactivated.append(label)
                    continue
        (result.removed if _gone(status) else result.failed).append(
            label if _gone(status) else f"{label} (HTTP {status})"
        )
    return result


def _listed(send: Send, path: str, key: str) -> list[dict[str, Any]]:
    status, body = send("GET", path, None)
    if status != 200:
        raise _refused(f"GET {path}", status, body)
    rows = body.get(key) if isinstance(body, dict) else body
    return [r for r in rows or [] if isinstance(r, dict)]


# what the workload rest makes, listed to find an earlier run's leftovers by name: kind, the
# list (inactive ones too: a run cut short may leave one deactivated), its key in the answer
REST_LISTS = (
    ("server", "/v1/servers?limit=0&include_inactive=true", "servers"),
    ("prompt", "/v1/prompts?limit=0&include_inactive=true", "prompts"),
    ("resource", "/v1/resources?limit=0&include_inactive=true", "resources"),
    ("agent", "/v1/a2a?limit=0&include_inactive=true", "agents"),
    ("role", "/v1/rbac/roles", "roles"),
    ("tool", "/v1/tools?limit=0&include_inactive=true", "tools"),
    ("gateway", "/v1/gateways?limit=0&include_inactive=true", "gateways"),
)


def leftovers(send: Send, prefix: str) -> list[Made]:
    """What earlier runs with this prefix left on the gateway: their users, active teams and
    shared servers and prompts (their tokens end with their users), and what the workload
    rest made (named `<prefix>-rest-...`)."""
    users = _listed(send, "/v1/auth/email/admin/users?limit=0", "users")
    teams = _listed(send, "/v1/teams/?limit=500", "teams")
    made = [
        Made("team", str(t["id"]), str(t.get("name", "")))
        for t in teams
        if str(t.get("name", "")).startswith((f"{prefix}_team_", f"{prefix}-rest-"))
    ]
    made += [
        Made("server", str(v["id"]), str(v.get("name", "")))
        for v in _listed(send, "/v1/servers?limit=0", "servers")
        if str(v.get("name", "")).startswith(f"{prefix}-share-")
    ]
    made += [
        Made("prompt", str(p["id"]), str(p.get("name", "")))
        for p in _listed(send, "/prompts?limit=0", "prompts")
        if str(p.get("name", "")).startswith(f"{prefix}-collab-")
    ]
    for kind, path, key in REST_LISTS:
        made += [
            Made(kind, str(x["id"]), str(x.get("name", "")))
            for x in _listed(send, path, key)
            if str(x.get("name", "")).startswith(f"{prefix}-rest-")
        ]
    made += [
        Made("user", str(u["email"]))
        for u in users
        if str(u.get("email", "")).startswith((f"{prefix}_user_", f"{prefix}-rest-"))
        and str(u.get("email", "")).endswith(f"@{DOMAIN}")
        and u.get("is_active", True)
    ]
    return made


def made_in_teams(send: Send, made: list[Made]) -> list[Made]:
    """What is in the teams the ledger records, found by listing: whatever sits in a team the
    kit made is the kit's. A workflow's server or prompt whose making was cut short (its
    answer never came, or a worker's word of it never reached the ledger) is found so."""
    teams = {m.key for m in made if m.kind == "team"}
    if not teams:
        return []
    return [
        Made(kind, str(x["id"]), str(x.get("name", "")))
        for kind, path, key in REST_LISTS
        if kind != "role"
        for x in _listed(send, path, key)
        if str(x.get("teamId") or x.get("team_id") or "") in teams
    ]


# -- the command -----------------------------------------------------------------------------
def sender(url: str, token: str) -> Send:
    base = url.rstrip("/")

    def send(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        return http_json(method, f"{base}{path}", token, body)

    return send


def _token() -> str:
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise KitError(
            f"no admin token in {TOKEN_ENV} (utils/setup-auth.sh --print gives one)",
            ExitCode.USAGE,
        )
    return token


def _prefix(text: str) -> str:
    if not text or not all(c.isalnum() or c in "-" for c in text) or len(text) > 32:
        raise argparse.ArgumentTypeError(
            f"'{text}': letters, digits and '-' only, at most 32 characters"
        )
    return text


def _count(text: str) -> int:
    value = int(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"{text}: from 1 to 1000")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG)
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("make", help="teams and users, logged in")
    make.add_argument("--url", required=True)
    make.add_argument("--users", type=_count, required=True)
    make.add_argument("--teams", type=_count, default=2)
    make.add_argument("--prefix", type=_prefix, default="loadtest")
    make.add_argument("--ledger", type=Path, required=True)
    make.add_argument("--tokens", type=Path, default=None)
    clean = sub.add_parser(
        "clean", help="remove what a ledger records or a prefix names"
    )
    clean.add_argument("--url", required=True)
    which = clean.add_mutually_exclusive_group(required=True)
    which.add_argument("--ledger", type=Path)
    which.add_argument("--prefix", type=_prefix)
    clean.add_argument("--dry-run", action="store_true")
    return parser


def _counted(labels: list[str]) -> str:
    """'2 teams, 3 users' from labels such as 'team loadtest_team_1_abc'."""
    kinds = Counter(label.split(" ", 1)[0] for label in labels)
    return ", ".join(
        f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items())
    )


def _say(removal: Removal, dry_run: bool) -> None:
    verb = "would remove" if dry_run else "removed"
    print(f"{verb} {len(removal.removed)}: {_counted(removal.removed) or 'nothing'}")
    if dry_run and removal.removed:
        print("\n".join(f"  {label}" for label in removal.removed))
    if removal.deactivated:
        print(
            f"deactivated {len(removal.deactivated)} (the gateway cannot delete a user who "
            f"was in a team; they cannot log in): {', '.join(removal.deactivated)}"
        )
    if removal.failed:
        shown = removal.failed[:SHOWN_FAILURES]
        more = len(removal.failed) - len(shown)
        print(
            f"not removed {len(removal.failed)}: {', '.join(shown)}"
            + (f" and {more} more" if more else "")
        )


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    send = sender(args.url, _token())
    if args.action == "make":
        if args.ledger.exists() and args.ledger.stat().st_size:
            raise KitError(
                f"{args.ledger} records an earlier run: clean it first "
                f"({PROG} clean --ledger {args.ledger})",
                ExitCode.USAGE,
            )
        ledger = Ledger(args.ledger)
        try:
            people = make_people(send, ledger, args.prefix, args.users, args.teams)
        except (KitError, KeyboardInterrupt) as exc:
            # whatever was made is removed again before the error is told
            if isinstance(exc, KeyboardInterrupt):
                print(f"{PROG}: interrupted: removing what was made", file=sys.stderr)
            _say(remove(send, ledger.entries()), dry_run=False)
            raise
        if args.tokens is not None:
            write_json_atomic(
                args.tokens,
                {
                    p.email: {
                        "token": p.token,
                        "teams": list(p.teams),
                        "owns": list(p.owns),
                    }
                    for p in people
                },
                mode=0o600,
            )
        print(
            f"made {len(people)} users in {args.teams} teams "
            f"({sum(len(p.teams) for p in people)} memberships); ledger {args.ledger}"
        )
        return 0
    if args.ledger is not None:
        made = Ledger(args.ledger).entries()
        try:
            made += made_in_teams(send, made)
        except KitError as exc:  # what the ledger records is removed all the same
            print(
                f"{PROG}: warning: {exc}; removing what the ledger records only (a server "
                "or prompt of the run it lacks: utils/workflows.sh clean --prefix P, P "
                "the run's prefix, once the gateway lists them)",
                file=sys.stderr,
            )
    else:
        made = leftovers(send, args.prefix)
    removal = remove(send, made, args.dry_run)
    _say(removal, args.dry_run)
    if removal.failed:
        print(f"{PROG}: not everything was removed (above)", file=sys.stderr)
        return int(ExitCode.ENV_NOT_READY)
    return 0
