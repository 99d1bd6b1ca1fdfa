"""`perfkit dataset`: the kit's side of `make populate` (utils/populate.sh drives it).

perfkit dataset list
    the datasets (datasets/*.yaml) with their counts
perfkit dataset plan NAME --backend sqlite|postgresql [--force] [--output FILE] [--dry-run]
    checks NAME and that it may be written to BACKEND (exit 2 naming the fix); --output
    writes it as JSON for the writer; --dry-run prints the rows per table and an estimate
    of size and time
perfkit dataset check-api REPORT --url URL
    the gateway's API against what the writer counted: each REST list's total as the
    platform admin sees it (token from $PERFKIT_TOKEN), and one login of a generated user
    (credentials from the 0600 file the report names); adds `api` to REPORT; exit 4 on a
    mismatch or a failed login
perfkit dataset show REPORT
    the report for people (what was made, how fast, what the checks found)
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.config import ArgumentParser
from perfkit.dataset import spec
from perfkit.dataset.estimate import estimate
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object
from perfkit.names import KIT_ROOT, TOKEN_ENV
from perfkit.table import Column, render_table

PROG = "perfkit dataset"
LISTS = {
    "tools": "/tools",
    "servers": "/servers",
    "prompts": "/prompts",
    "resources": "/resources",
}
HTTP_TIMEOUT_S = 30.0
PAGE = 500
MAX_PAGES = 10_000  # 5 million rows: more than the largest dataset


def plan_cmd(args: argparse.Namespace) -> int:
    dataset = spec.load(KIT_ROOT, args.name)
    if args.backend not in dataset.backends and not args.force:
        raise KitError(
            f"dataset '{dataset.name}' is too large for {args.backend} "
            f"(it is made for: {', '.join(dataset.backends)}); run the stack on PostgreSQL "
            "(PERF_DB_BACKEND=postgresql, service.database) or add --force",
            ExitCode.USAGE,
        )
    if args.output:
        write_json_atomic(args.output, dataset.to_json())
    if args.dry_run:
        print(dry_run_text(dataset, args.backend))
    return 0


def dry_run_text(dataset: spec.Dataset, backend: str) -> str:
    guess = estimate(dataset, backend)
    rows = [[table, f"{count:,}"] for table, count in guess.rows.items()]
    rows.append(["total", f"{guess.total:,}"])
    lines = [
        f"dataset {dataset.name}: {dataset.description}",
        render_table(rows, (Column("table", "<"), Column("rows (expected)", ">"))),
        (
            f"estimate on {backend}: about {guess.megabytes:,.0f} MB, "
            f"{guess.seconds:,.0f} s ({guess.basis})"
        ),
    ]
    if backend not in dataset.backends:
        lines.append(
            f"note: made for {', '.join(dataset.backends)}, not {backend} (--force)"
        )
    return "\n".join(lines)


def list_cmd(_args: argparse.Namespace) -> int:
    rows = []
    for name in spec.available(KIT_ROOT):
        dataset = spec.load(KIT_ROOT, name)
        c = dataset.counts
        guess = estimate(dataset, dataset.backends[0])
        rows.append(
            [
                name,
                f"{c['users']:,}",
                f"{c['teams']:,}",
                f"{c['tools']:,}",
                f"{c['servers']:,}",
                f"{guess.total:,}",
                ", ".join(dataset.backends),
            ]
        )
    titles = ("dataset", "users", "teams", "tools", "servers", "rows", "backends")
    columns = [Column(t, "<" if t in ("dataset", "backends") else ">") for t in titles]
    print(render_table(rows, columns))
    return 0


# -- the API's view --------------------------------------------------------------------------
def http_json(
    method: str, url: str, token: str = "", body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text
    except (OSError, ValueError) as exc:
        raise KitError(
            f"{url}: the gateway does not answer ({exc}); is it running? (make up)",
            ExitCode.ENV_NOT_READY,
        ) from exc


def list_total(base: str, name: str, token: str) -> int | None:
    """The rows a REST list shows the caller, counted page by page (its pagination gives a
    cursor, not a total); None when the list does not answer."""
    total, cursor = 0, ""
    for _ in range(MAX_PAGES):
        query = f"include_pagination=true&limit={PAGE}" + (
            f"&cursor={cursor}" if cursor else ""
        )
        status, body = http_json("GET", f"{base}{LISTS[name]}?{query}", token)
        if status != 200 or not isinstance(body, dict):
            return None
        total += len(body.get(name) or [])
        cursor = body.get("nextCursor") or ""
        if not cursor:
            return total
    return None


def check_login(base: str, credentials: Path | None) -> dict[str, Any]:
    if credentials is None:
        return {"checked": False, "why": "the dataset has no login users"}
    try:
        creds = json.loads(credentials.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"checked": True, "ok": False, "why": f"{credentials}: {exc}"}
    email = creds["users"][0]
    status, body = http_json(
        "POST",
        f"{base}/auth/email/login",
        body={"email": email, "password": creds["password"]},
    )
    ok = status == 200 and isinstance(body, dict) and bool(body.get("access_token"))
    return {
        "checked": True,
        "ok": ok,
        "email": email,
        "status": status,
        "why": None if ok else f"login answered {status}: {str(body)[:200]}",
    }


READABLE_VERSIONS = (1,)


def load_report(path: Path) -> dict[str, Any]:
    """A populate's report.json or reset.json (perfkit.dataset.writer writes them)."""
    data = read_object(path, path.name, fix="run make populate again")
    check_version(path, data, READABLE_VERSIONS)
    return data


def check_api_cmd(args: argparse.Namespace) -> int:
    report = load_report(args.report)
    token = os.environ.get(TOKEN_ENV, "")
    base = args.url.rstrip("/")
    expected = report.get("visible_to_admin") or {}
    lists: dict[str, dict[str, Any]] = {}
    problems = []
    for name, path in LISTS.items():
        total = list_total(base, name, token)
        want = expected.get(name)
        lists[name] = {"api_total": total, "database": want}
        if total is None:
            problems.append(f"GET {path}?include_pagination=true did not answer a list")
        elif want is not None and total != want:
            problems.append(
                f"GET {path} shows {total} rows where the database holds {want} the admin "
                "may see (the gateway's log says why it left some out)"
            )
    creds = report.get("credentials")
    login = check_login(base, Path(creds) if creds else None)
    if login.get("checked") and not login.get("ok"):
        problems.append(f"a generated user could not log in: {login['why']}")
    report["api"] = {
        "lists": lists,
        "login": login,
        "problems": problems,
        "ok": not problems,
    }
    write_json_atomic(args.report, report)
    if problems:
        raise KitError(
            "the gateway's API does not see the data as written: "
            + "; ".join(problems),
            ExitCode.BENCHMARK_FAILED,
        )
    return 0


def show_cmd(args: argparse.Namespace) -> int:
    print(report_text(load_report(args.report)))
    return 0


def report_text(report: dict[str, Any]) -> str:
    if report.get("action") == "reset":
        verb = "would remove" if report.get("dry_run") else "removed"
        deleted = report.get("deleted") or {}
        if not deleted:
            return "the database holds none of the kit's data: nothing to remove"
        rows = [[t, f"{n:,}"] for t, n in deleted.items()]
        text = f"{verb} {sum(deleted.values()):,} rows the kit made:\n" + render_table(
            rows, (Column("table", "<"), Column("rows", ">"))
        )
        for column, count in (report.get("nulled") or {}).items():
            text += f"\n{column}: {count} row(s) of others pointed there; set to NULL"
        return text
    written = report.get("written") or {}
    planned = report.get("planned") or {}
    rows = [[t, f"{planned.get(t, 0):,}", f"{n:,}"] for t, n in written.items()]
    name = (report.get("dataset") or {}).get("name", "?")
    lines = [
        (
            f"dataset {name} (seed {report.get('seed')}, batch {report.get('batch_id')}): "
            f"{sum(written.values()):,} rows in {report.get('seconds', 0):.1f} s "
            f"({report.get('rows_per_s', 0):,.0f} rows/s)"
        ),
        render_table(
            rows, (Column("table", "<"), Column("planned", ">"), Column("written", ">"))
        ),
    ]
    validation = report.get("validation")
    if validation is None:
        lines.append("database checks: skipped (--skip-validation)")
    else:
        lines.append(
            "database checks: "
            + (
                "counts, keys and NOT NULLs as planned"
                if validation["ok"]
                else "; ".join(validation["problems"])
            )
        )
    api = report.get("api")
    if api:
        seen = ", ".join(f"{name} {v['api_total']}" for name, v in api["lists"].items())
        login = api["login"]
        who = f"; {login['email']} logged in" if login.get("ok") else ""
        lines.append(
            "API: "
            + (
                f"the admin's lists count {seen}{who}"
                if api["ok"]
                else "; ".join(api["problems"])
            )
        )
    if report.get("credentials"):
        lines.append(
            f"login users' credentials: {report['credentials']} (readable by you only)"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", prog=f"{PROG} list", help="the datasets")
    plan = sub.add_parser(
        "plan", prog=f"{PROG} plan", help="check a dataset, estimate it"
    )
    plan.add_argument("name", metavar="NAME")
    plan.add_argument("--backend", choices=spec.BACKENDS, required=True)
    plan.add_argument("--force", action="store_true")
    plan.add_argument("--output", type=Path)
    plan.add_argument("--dry-run", action="store_true")
    check = sub.add_parser("check-api", prog=f"{PROG} check-api", help="the API's view")
    check.add_argument("report", type=Path, metavar="REPORT")
    check.add_argument("--url", required=True)
    show = sub.add_parser("show", prog=f"{PROG} show", help="a report for people")
    show.add_argument("report", type=Path, metavar="REPORT")
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    actions = {
        "list": list_cmd,
        "plan": plan_cmd,
        "check-api": check_api_cmd,
        "show": show_cmd,
    }
    return actions[args.action](args)
