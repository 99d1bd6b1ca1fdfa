"""Runs inside the gateway's own venv, with the gateway's settings in the environment
(utils/local-stack.sh python): writes a dataset's plan into the gateway's database with the
gateway's own tables, finds and removes what the kit made, and validates the result.

  python -m perfkit.dataset.writer populate --dataset-json FILE --seed N --batch-size N
      [--append] --report FILE --credentials FILE [--quiet]
  python -m perfkit.dataset.writer reset [--dry-run] --report FILE [--quiet]

Rows go in with SQLAlchemy Core, a batch per transaction, parents before children: an
interrupted populate leaves whole batches whose every row is marked (perfkit.dataset.plan), and
`reset` removes them. Columns the gateway's ORM events would fill (a tool's namespaced name,
slugs, display names) are filled the same way, with the gateway's own slugify and separator.
Users who can log in get one Argon2id hash made by the gateway's own password service; the
others the gateway's own "!disabled" sentinel, which never verifies. Every user gets the roles
the gateway gives a user it creates (global default role, team owner role on their teams,
member role on teams they joined).

Exit codes: 0 done, 2 refused (already populated; a dataset the release's models cannot hold),
3 the database does not answer, 130 interrupted. Standard library, SQLAlchemy and mcpgateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import string
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.dataset import plan as planning
from perfkit.dataset.spec import Dataset

PROG = "populate"
# report.json / reset.json (results/populate_<stamp>/), read by perfkit.dataset.cli.load_report:
#   1 - action (populate | reset); populate: dataset, seed, batch_id, generation,
#       planned, written, seconds, rows_per_s, state, login_users, credentials, validation,
#       visible_to_admin, analyzed (PostgreSQL: the tables ANALYZEd; optional, 2026-12-04) (and
#       `api`, added by `perfkit dataset check-api`); reset: deleted, nulled, dry_run
SCHEMA_VERSION = 1
MARKED = ("gateways", "tools", "prompts", "resources", "servers")
ASSOCIATIONS = {
    "server_tool_association": "tool_id",
    "server_prompt_association": "prompt_id",
    "server_resource_association": "resource_id",
}
# the order rows go in: every table after the tables it points to
ORDER = (
    "email_users",
    "email_teams",
    "email_team_members",
    "user_roles",
    "gateways",
    "tools",
    "prompts",
    "resources",
    "servers",
    "server_tool_association",
    "server_prompt_association",
    "server_resource_association",
    "tool_metrics",
    "prompt_metrics",
    "resource_metrics",
    "server_metrics",
)
# the federated gateways of a dataset stand for MCP servers that do not run here: a closed
# loopback port, and inserted unreachable, so the gateway's health checks (every row, every
# HEALTH_CHECK_INTERVAL) are refused at once and never write to them
GATEWAY_URL = "http://127.0.0.1:9/mcp"


class Refused(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def log(message: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# -- the gateway's side ----------------------------------------------------------------------
class Gateway:
    """What the writer uses of the gateway: its models, settings, slugify and tag format."""

    def __init__(self) -> None:
        try:
            import mcpgateway.db as gdb
            from mcpgateway.config import settings
            from mcpgateway.utils.create_slug import slugify
            from mcpgateway.validation.tags import validate_tags_field
        except Exception as exc:  # the release's own import errors, whatever they are
            raise Refused(f"cannot load the gateway's models: {exc}", 2) from exc
        self.db, self.settings, self.slugify = gdb, settings, slugify
        self.tags = validate_tags_field


def live_tables(engine: Any) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(engine).get_table_names())


def ensure_schema(gdb: Any, quiet: bool) -> None:
    """An empty database gets the gateway's schema from the gateway's own bootstrap."""
    if "tools" in live_tables(gdb.engine):
        return
    log(
        "the database has no gateway schema yet: running mcpgateway.bootstrap_db", quiet
    )
    from mcpgateway.bootstrap_db import main as bootstrap

    asyncio.run(bootstrap())


def check_models(gdb: Any) -> None:
    """The tables and columns the kit writes, as this release has them."""
    missing = []
    tables = live_tables(gdb.engine)
    for name in ORDER:
        if name not in gdb.Base.metadata.tables or name not in tables:
            missing.append(name)
    for name in MARKED:
        table = gdb.Base.metadata.tables.get(name)
        if table is not None and "import_batch_id" not in table.c:
            missing.append(f"{name}.import_batch_id")
    if missing:
        raise Refused(
            "this gateway release's database lacks what the kit writes: "
            + ", ".join(missing)
            + " (the kit knows ContextForge 1.0.7's models)"
        )


# -- what is there already -------------------------------------------------------------------
def kit_batches(conn: Any, gdb: Any) -> dict[str, int]:
    """The kit's batches in the database: batch id -> tools (or other marked rows)."""
    from sqlalchemy import func, select

    found: dict[str, int] = {}
    for name in MARKED:
        table = gdb.Base.metadata.tables[name]
        rows = conn.execute(
            select(table.c.import_batch_id, func.count())
            .where(table.c.import_batch_id.like(f"{planning.BATCH_PREFIX}%"))
            .group_by(table.c.import_batch_id)
        )
        for batch, count in rows:
            found[batch] = found.get(batch, 0) + int(count)
    return found


def kit_users(conn: Any, gdb: Any) -> list[str]:
    """The addresses of the kit's users (a dataset may hold users and nothing marked else)."""
    from sqlalchemy import select

    users = gdb.Base.metadata.tables["email_users"]
    found = conn.execute(
        select(users.c.email).where(users.c.email.like(f"%@{planning.MARK_DOMAIN}"))
    )
    return [str(email) for email in found.scalars()]


def next_generation(batches: Iterable[str], emails: Iterable[str]) -> int:
    """One more than the newest batch's: from the batch ids (...-gN) and the users (...gN...@)."""
    generations = [0]
    for batch in batches:
        tail = batch.rsplit("-g", 1)[-1]
        if tail.isdigit():
            generations.append(int(tail))
    for email in emails:
        found = re.search(r"\.g(\d+)\.", email)
        if found:
            generations.append(int(found.group(1)))
    return max(generations) + 1


# -- rows as the gateway's tables take them --------------------------------------------------
def login_password() -> str:
    """A password the gateway's policy takes: 20 characters of four classes, no runs."""
    alphabet = string.ascii_letters + string.digits + "!#%*+-=?@^_"
    while True:
        word = "".join(secrets.choice(alphabet) for _ in range(20))
        classes = [
            any(c.islower() for c in word),
            any(c.isupper() for c in word),
            any(c.isdigit() for c in word),
            any(not c.isalnum() for c in word),
        ]
        runs = any(
            abs(ord(word[i + 1]) - ord(word[i])) == 1
            and ord(word[i + 2]) - ord(word[i + 1]) == ord(word[i + 1]) - ord(word[i])
            for i in range(len(word) - 2)
        )
        if all(classes) and not runs:
            return word


def hash_password(password: str) -> str:
    from mcpgateway.services.argon2_service import Argon2PasswordService

    return str(asyncio.run(Argon2PasswordService().hash_password_async(password)))


def finish_rows(plan: planning.Plan, gw: Gateway, password_hash: str) -> None:
    """Fill what the gateway's ORM events and services fill, as they fill it."""
    now = datetime.now(UTC)
    slugify = gw.slugify
    sep = gw.settings.gateway_tool_name_separator
    for table in ("tools", "prompts", "resources", "servers"):
        for row in plan.tables.get(table, []):
            # stored as the API stores them: [{"id": normalized, "label": as given}]
            row["tags"] = gw.tags(row["tags"])
    for user in plan.tables.get("email_users", []):
        login = user.pop("login")
        user.update(
            password_hash=password_hash if login else "!disabled",
            is_admin=False,
            is_active=True,
            auth_provider="local",
            password_change_required=False,
            email_verified_at=now,
            password_changed_at=now,  # a password older than the policy's age must be changed first
            updated_at=user["created_at"],
        )
    for team in plan.tables.get("email_teams", []):
        team.update(updated_at=team["created_at"], is_active=True)
    for member in plan.tables.get("email_team_members", []):
        member.update(is_active=True)
    for gateway in plan.tables.get("gateways", []):
        gateway.update(
            url=GATEWAY_URL,
            transport="STREAMABLEHTTP",
            capabilities={"tools": {"listChanged": True}},
            reachable=False,
            enabled=True,
            tags=[],
        )
    for tool in plan.tables.get("tools", []):
        gateway_slug = tool.pop("gateway_slug")
        slug = slugify(tool["custom_name"])
        tool.update(
            custom_name_slug=slug,
            display_name=tool["custom_name"],
            name=f"{slugify(gateway_slug)}{sep}{slug}",
            integration_type="MCP",
            request_type="STREAMABLEHTTP",
            reachable=False,
            enabled=True,
            annotations={},
        )
    for prompt in plan.tables.get("prompts", []):
        slug = slugify(prompt["name"])
        prompt.update(
            original_name=prompt["name"],
            custom_name=prompt["name"],
            custom_name_slug=slug,
            display_name=prompt["name"],
            name=slug,
            enabled=True,
        )
    for table in ("resources", "servers"):
        for row in plan.tables.get(table, []):
            row.update(enabled=True)


def role_rows(
    plan: planning.Plan, conn: Any, gdb: Any, settings: Any
) -> list[dict[str, Any]]:
    """The roles the gateway gives a user it creates, and a member it adds to a team."""
    from sqlalchemy import select

    roles = gdb.Base.metadata.tables["roles"]
    by_name = {
        (name, scope): rid
        for rid, name, scope in conn.execute(
            select(roles.c.id, roles.c.name, roles.c.scope)
        )
    }
    wanted = {
        "global": (settings.default_user_role, "global"),
        "owner": (settings.default_team_owner_role, "team"),
        "member": (settings.default_team_member_role, "team"),
    }
    missing = [f"{n} ({s})" for n, s in wanted.values() if (n, s) not in by_name]
    if missing:
        raise Refused(
            "the gateway's roles are not there: " + ", ".join(missing) + " - start the "
            "gateway once on this database (it bootstraps its roles) before populating"
        )
    rows: list[dict[str, Any]] = []
    for user in plan.tables.get("email_users", []):
        rows.append(
            {
                "id": secrets.token_hex(16),
                "user_email": user["email"],
                "role_id": by_name[wanted["global"]],
                "scope": "global",
                "scope_id": None,
                "granted_by": user["email"],
                "is_active": True,
            }
        )
    for member in plan.tables.get("email_team_members", []):
        rows.append(
            {
                "id": secrets.token_hex(16),
                "user_email": member["user_email"],
                "role_id": by_name[wanted[member["role"]]],
                "scope": "team",
                "scope_id": member["team_id"],
                "granted_by": member["invited_by"] or member["user_email"],
                "is_active": True,
            }
        )
    return rows


# -- writing ---------------------------------------------------------------------------------
class Progress:
    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.started = self.last = time.monotonic()

    def add(self, table: str, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last < 2 and self.done < self.total:
            return
        self.last = now
        rate = self.done / max(now - self.started, 1e-9)
        eta = (self.total - self.done) / rate if rate > 0 else 0
        log(
            f"{self.done:,}/{self.total:,} rows ({table}), {rate:,.0f} rows/s, "
            f"ETA {eta:.0f} s",
            self.quiet,
        )


def write_plan(
    engine: Any,
    gdb: Any,
    plan: planning.Plan,
    batch_size: int,
    quiet: bool,
    written: dict[str, int],
) -> None:
    """The plan's rows, parents first, a transaction a batch; `written` counts what went in."""
    from sqlalchemy import insert

    progress = Progress(sum(plan.rows().values()), quiet)
    for name in ORDER:
        rows: Iterable[dict[str, Any]] = (
            plan.tables.get(name) or plan.lazy.get(name) or []
        )
        table = gdb.Base.metadata.tables[name]
        for batch in planning.batches(rows, batch_size):
            with engine.begin() as conn:  # one transaction a batch
                conn.execute(insert(table), batch)
            written[name] = written.get(name, 0) + len(batch)
            progress.add(name, len(batch))


def refresh_statistics(engine: Any, tables: list[str]) -> list[str]:
    """PostgreSQL: ANALYZE the tables written, as autovacuum would soon after such a write -
    without it the planner of a benchmark run right away estimates a handful of rows where
    thousands are, and picks plans no production gateway runs. SQLite keeps no statistics
    unless asked (the gateway never runs ANALYZE): nothing to do. The tables analysed."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        for name in tables:
            conn.exec_driver_sql(f'ANALYZE "{name}"')
    return tables


def populate(args: argparse.Namespace) -> dict[str, Any]:
    gw = Gateway()
    gdb, settings = gw.db, gw.settings
    ensure_schema(gdb, args.quiet)
    check_models(gdb)
    dataset = Dataset.from_json(json.loads(Path(args.dataset_json).read_text()))
    with gdb.engine.connect() as conn:
        before = kit_batches(conn, gdb)
        users_before = kit_users(conn, gdb)
    if (before or users_before) and not args.append:
        raise Refused(
            f"the database already holds the kit's data ({', '.join(sorted(before)) or 'users'}"
            f"): add --append to add another batch, or remove it first (make populate-clean)"
        )
    generation = next_generation(before, users_before)
    plan = planning.build(dataset, args.seed, generation)
    password = login_password() if plan.login_emails else ""
    password_hash = hash_password(password) if password else "!disabled"
    finish_rows(plan, gw, password_hash)
    with gdb.engine.connect() as conn:
        plan.tables["user_roles"] = role_rows(plan, conn, gdb, settings)
    if password:
        write_credentials(Path(args.credentials), plan.login_emails, password)
    log(
        f"writing dataset {dataset.name} (seed {args.seed}, batch {plan.marks.batch_id}): "
        f"{sum(plan.rows().values()):,} rows in batches of {args.batch_size}",
        args.quiet,
    )
    started = time.monotonic()
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "action": "populate",
        "dataset": dataset.to_json(),
        "seed": args.seed,
        "batch_id": plan.marks.batch_id,
        "generation": generation,
        "planned": plan.rows(),
        "login_users": plan.login_emails,
        "credentials": str(args.credentials) if password else None,
        "state": "partial",
        "written": {},
    }
    try:
        write_plan(
            gdb.engine, gdb, plan, args.batch_size, args.quiet, report["written"]
        )
    except BaseException:
        # interrupted or refused: what went in is said, labelled partial
        report["seconds"] = round(time.monotonic() - started, 3)
        write_report(Path(args.report), report)
        raise
    report["seconds"] = round(time.monotonic() - started, 3)
    report["state"] = "complete"
    total = sum(report["written"].values())
    report["rows_per_s"] = round(total / max(report["seconds"], 1e-9), 1)
    report["analyzed"] = refresh_statistics(gdb.engine, sorted(report["written"]))
    if not args.skip_validation:
        report["validation"] = validate(gdb, plan)
    report["visible_to_admin"] = admin_visible(gdb, settings)
    return report


def write_credentials(path: Path, emails: list[str], password: str) -> None:
    """The login users' addresses and their one password: a file only its owner reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"password": password, "users": emails}, out)
        out.write("\n")


# -- validation ------------------------------------------------------------------------------
def batch_conditions(gdb: Any, plan: planning.Plan) -> dict[str, Any]:
    """Per table, the SQL condition that picks this batch's rows."""
    from sqlalchemy import select

    t = gdb.Base.metadata.tables
    tag = f".{plan.marks.tag}."
    users = t["email_users"].c.email.like(f"%{tag}%@{planning.MARK_DOMAIN}")
    conds: dict[str, Any] = {"email_users": users}
    batch_users = select(t["email_users"].c.email).where(users)
    conds["email_teams"] = t["email_teams"].c.created_by.in_(batch_users) & t[
        "email_teams"
    ].c.slug.like(f"{planning.MARK_SLUG}%")
    teams = select(t["email_teams"].c.id).where(conds["email_teams"])
    conds["email_team_members"] = t["email_team_members"].c.team_id.in_(teams)
    conds["user_roles"] = t["user_roles"].c.user_email.in_(batch_users)
    for name in MARKED:
        conds[name] = t[name].c.import_batch_id == plan.marks.batch_id
    servers = select(t["servers"].c.id).where(conds["servers"])
    for name in ASSOCIATIONS:
        conds[name] = t[name].c.server_id.in_(servers)
    for name, column, owner in (
        ("tool_metrics", "tool_id", "tools"),
        ("prompt_metrics", "prompt_id", "prompts"),
        ("resource_metrics", "resource_id", "resources"),
        ("server_metrics", "server_id", "servers"),
    ):
        owners = select(t[owner].c.id).where(conds[owner])
        conds[name] = t[name].c[column].in_(owners)
    return conds


def validate(gdb: Any, plan: planning.Plan) -> dict[str, Any]:
    """Counts of this batch per table against the plan; orphans and NULLs where the models
    say there must be none."""
    from sqlalchemy import func, select

    t = gdb.Base.metadata.tables
    conds = batch_conditions(gdb, plan)
    counts: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    with gdb.engine.connect() as conn:
        for name in ORDER:
            expected = plan.rows().get(name, 0)
            found = int(
                conn.execute(select(func.count()).where(conds[name])).scalar_one()
            )
            counts[name] = {"expected": expected, "found": found}
            if found != expected:
                problems.append(
                    f"{name}: {found} rows of this batch, {expected} planned"
                )
        for name in ORDER:
            table = t[name]
            for fk in table.foreign_keys:
                parent = fk.column
                orphans = conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where(conds[name])
                    .where(fk.parent.is_not(None))
                    .where(~fk.parent.in_(select(parent)))
                ).scalar_one()
                if orphans:
                    problems.append(
                        f"{name}.{fk.parent.name}: {orphans} row(s) point to no "
                        f"{parent.table.name}.{parent.name}"
                    )
            for column in table.columns:
                if column.nullable:
                    continue
                nulls = conn.execute(
                    select(func.count()).where(conds[name]).where(column.is_(None))
                ).scalar_one()
                if nulls:
                    problems.append(
                        f"{name}.{column.name}: {nulls} NULL(s) in a NOT NULL column"
                    )
    return {"counts": counts, "problems": problems, "ok": not problems}


def admin_visible(gdb: Any, settings: Any) -> dict[str, int]:
    """What the platform admin's REST lists should count: enabled rows that are not private,
    and the admin's own private ones (the gateway's access rule for an admin token)."""
    from sqlalchemy import func, or_, select

    t = gdb.Base.metadata.tables
    admin = settings.platform_admin_email
    seen: dict[str, int] = {}
    with gdb.engine.connect() as conn:
        for name in ("tools", "servers", "prompts", "resources"):
            table = t[name]
            query = select(func.count()).where(table.c.enabled.is_(True))
            query = query.where(
                or_(table.c.visibility != "private", table.c.owner_email == admin)
            )
            if name == "resources":
                query = query.where(table.c.uri_template.is_(None))
            seen[name] = int(conn.execute(query).scalar_one())
    return seen


# -- reset -----------------------------------------------------------------------------------
def kit_roots(gdb: Any) -> dict[str, Any]:
    """The rows the kit made, by their marks."""
    t = gdb.Base.metadata.tables
    roots = {
        "email_users": t["email_users"].c.email.like(f"%@{planning.MARK_DOMAIN}"),
        "email_teams": t["email_teams"].c.slug.like(f"{planning.MARK_SLUG}%"),
    }
    for name in MARKED:
        roots[name] = t[name].c.import_batch_id.like(f"{planning.BATCH_PREFIX}%")
    return roots


def reset(args: argparse.Namespace) -> dict[str, Any]:
    """Remove the kit's rows and the rows that exist only because of them (rows pointing to
    them through a NOT NULL or cascading key: memberships, roles, metrics, a kit user's login
    events); a row of anyone else that points to one through a nullable key is kept, the key
    set to NULL as the database itself does (ON DELETE SET NULL)."""
    from sqlalchemy import delete, func, or_, select, update

    gdb = Gateway().db
    if "tools" not in live_tables(gdb.engine):
        return {
            "schema_version": SCHEMA_VERSION,
            "action": "reset",
            "deleted": {},
            "nulled": {},
            "dry_run": args.dry_run,
        }
    tables = live_tables(gdb.engine)
    meta = gdb.Base.metadata
    ordered = [t for t in meta.sorted_tables if t.name in tables]
    gone: dict[str, Any] = dict(kit_roots(gdb))
    nulls: list[tuple[Any, Any, Any]] = []  # (table, column, condition)
    for table in ordered:  # parents first: a row goes when what it needs goes
        conds = [gone[table.name]] if table.name in gone else []
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name not in gone or parent.name not in tables:
                continue
            pointing = fk.parent.in_(select(fk.column).where(gone[parent.name]))
            if fk.parent.nullable and (fk.ondelete or "").upper() != "CASCADE":
                nulls.append((table, fk.parent, pointing))
            else:
                conds.append(pointing)
        if conds:
            gone[table.name] = or_(*conds)
    deleted: dict[str, int] = {}
    nulled: dict[str, int] = {}
    with gdb.engine.begin() as conn:  # all or nothing
        for table, column, pointing in nulls:
            keep = ~gone[table.name] if table.name in gone else None
            query = select(func.count()).select_from(table).where(pointing)
            if keep is not None:
                query = query.where(keep)
            count = int(conn.execute(query).scalar_one())
            if count:
                nulled[f"{table.name}.{column.name}"] = count
                if not args.dry_run:
                    stmt = update(table).where(pointing).values({column.name: None})
                    if keep is not None:
                        stmt = stmt.where(keep)
                    conn.execute(stmt)
        for table in reversed(ordered):  # children first
            if table.name not in gone:
                continue
            count = int(
                conn.execute(
                    select(func.count()).select_from(table).where(gone[table.name])
                ).scalar_one()
            )
            if count:
                deleted[table.name] = count
                if not args.dry_run:
                    conn.execute(delete(table).where(gone[table.name]))
        if args.dry_run:
            conn.rollback()
    return {
        "schema_version": SCHEMA_VERSION,
        "action": "reset",
        "deleted": deleted,
        "nulled": nulled,
        "dry_run": args.dry_run,
    }


def write_report(path: Path, report: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


# -- the command -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m perfkit.dataset.writer", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", required=True)
    pop = sub.add_parser("populate")
    pop.add_argument("--dataset-json", required=True)
    pop.add_argument("--seed", type=int, required=True)
    pop.add_argument("--batch-size", type=int, required=True)
    pop.add_argument("--append", action="store_true")
    pop.add_argument("--skip-validation", action="store_true")
    pop.add_argument("--credentials", required=True)
    rst = sub.add_parser("reset")
    rst.add_argument("--dry-run", action="store_true")
    for p in (pop, rst):
        p.add_argument("--report", required=True)
        p.add_argument("--quiet", action="store_true")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    action = {"populate": populate, "reset": reset}[args.action]
    try:
        report = action(args)
    except Refused as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted: the batches written so far stay, every row marked as the "
            f"kit's ({args.report} says how many, state partial); `make populate-clean` "
            "removes them",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        from sqlalchemy.exc import IntegrityError, OperationalError

        if isinstance(exc, IntegrityError):
            print(
                f"{PROG}: error: the database refused a row: {exc.orig}; the batches written "
                "so far stay, every row marked as the kit's; `make populate-clean` removes them",
                file=sys.stderr,
            )
            return 4
        if isinstance(exc, OperationalError):
            print(
                f"{PROG}: error: the database does not answer: {exc.orig}",
                file=sys.stderr,
            )
            return 3
        raise
    write_report(Path(args.report), report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
