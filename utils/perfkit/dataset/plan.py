"""The rows a dataset stands for, made deterministically from its seed: plain dicts per table,
column names as the gateway's tables have them. Standard library only - the writer imports this
inside the gateway's own venv.

Shape (perfkit.dataset.spec.SHAPE): every user has a personal team, as the gateway gives one to
each user it creates; shared teams have an owner and members; tools are spread over gateways by
a Zipf law (a few gateways carry most); every tool, server, prompt and resource is owned by a
user, in one of that user's teams, with a visibility drawn from the shares; servers gather 5-50
tools, some prompts and resources; metric rows are calls of random items over the last hours
(the gateway rolls raw rows older than an hour up into its *_hourly tables and deletes them:
METRICS_DELETE_RAW_AFTER_ROLLUP).

Everything the kit makes is marked, so it can be found and removed again without touching
anything else (perfkit.dataset.reset): users' addresses end in MARK_DOMAIN, teams' slugs start
with MARK_SLUG, tools/servers/prompts/resources/gateways carry import_batch_id = the batch id.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from perfkit.dataset.spec import Dataset

MARK_DOMAIN = "perfkit.example.com"
MARK_SLUG = "perfkit-"
BATCH_PREFIX = "perfkit-"

FIRST = [
    "Ada",
    "Alan",
    "Barbara",
    "Carlos",
    "Chen",
    "Dana",
    "Elena",
    "Farid",
    "Grace",
    "Hana",
    "Ibrahim",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Mei",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Sara",
    "Tomas",
    "Uma",
    "Victor",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Abara",
    "Becker",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hoffmann",
    "Ito",
    "Jansen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Umarov",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
DEPARTMENTS = [
    "Payments",
    "Platform",
    "Search",
    "Identity",
    "Billing",
    "Analytics",
    "Support",
    "Logistics",
    "Marketing",
    "Security",
    "Infrastructure",
    "Mobile",
    "Data",
    "Research",
    "Finance",
    "Legal",
    "Sales",
    "Onboarding",
    "Compliance",
    "Growth",
]
SYSTEMS = [
    "crm",
    "erp",
    "jira",
    "github",
    "slack",
    "confluence",
    "salesforce",
    "zendesk",
    "stripe",
    "snowflake",
    "postgres",
    "s3",
    "kubernetes",
    "datadog",
    "pagerduty",
    "okta",
    "hubspot",
    "notion",
    "gitlab",
    "servicenow",
]
VERBS = [
    "get",
    "list",
    "create",
    "update",
    "delete",
    "search",
    "sync",
    "export",
    "import",
    "summarize",
    "check",
    "run",
]
NOUNS = [
    "customer",
    "invoice",
    "ticket",
    "issue",
    "order",
    "account",
    "report",
    "metric",
    "incident",
    "user",
    "document",
    "deployment",
    "alert",
    "payment",
    "contract",
    "lead",
    "page",
    "record",
    "build",
    "repository",
]
WORDS = [
    "the",
    "a",
    "returns",
    "for",
    "with",
    "from",
    "of",
    "and",
    "in",
    "to",
    "by",
    "an",
    "each",
    "when",
    "all",
    "its",
    "this",
    "that",
    "given",
    "record",
    "records",
    "customer",
    "account",
    "service",
    "request",
    "response",
    "status",
    "list",
    "current",
    "latest",
    "matching",
    "filter",
    "filters",
    "page",
    "pages",
    "result",
    "results",
    "field",
    "fields",
    "value",
    "values",
    "team",
    "teams",
    "project",
    "projects",
    "owner",
    "owners",
    "date",
    "range",
    "query",
    "queries",
    "summary",
    "details",
    "item",
    "items",
    "system",
    "systems",
    "data",
    "event",
    "events",
    "log",
    "logs",
    "metric",
    "metrics",
    "report",
    "reports",
    "error",
    "errors",
]
MIME = ("text/markdown", "text/plain", "application/json", "text/csv", "text/html")
ARG_TYPES = ("string", "integer", "boolean", "number")


@dataclass(frozen=True)
class Marks:
    """What marks this batch's rows: `generation` keeps an --append's names apart."""

    batch_id: str
    generation: int

    @property
    def tag(self) -> str:
        return f"g{self.generation}"


def batch_id(dataset: str, seed: int, generation: int) -> str:
    """At most 36 characters (the column's width): perfkit-<dataset>-s<seed>-g<generation>."""
    return f"{BATCH_PREFIX}{dataset[:12]}-s{seed % 10**8}-g{generation}"[:36]


@dataclass
class Plan:
    """Every row of one populate, by table; made once (`build`), written in batches."""

    dataset: Dataset
    seed: int
    marks: Marks
    now: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lazy: dict[str, MetricRows] = field(default_factory=dict)
    login_emails: list[str] = field(default_factory=list)

    def rows(self) -> dict[str, int]:
        made = {name: len(rows) for name, rows in self.tables.items()}
        return made | {name: len(rows) for name, rows in self.lazy.items()}


class Maker:
    """The random choices, all from one seeded generator, in a fixed order."""

    def __init__(
        self, dataset: Dataset, seed: int, marks: Marks, now: datetime
    ) -> None:
        self.ds = dataset
        # a batch of its own: --append with the same seed makes other rows (and ids)
        self.rng = random.Random(f"{seed}:{marks.generation}")
        self.marks = marks
        self.now = now
        self.shape = dataset.shape
        self.plan = Plan(dataset, seed, marks, now)
        # the teams a user belongs to, personal team first
        self.teams_of: dict[str, list[str]] = {}

    # -- primitives ---------------------------------------------------------------------
    def uid(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def between(self, key: str) -> int:
        lo, hi = self.shape[key]
        return self.rng.randint(lo, hi)

    def sentence(self) -> str:
        words = [
            self.rng.choice(WORDS) for _ in range(self.between("description_words"))
        ]
        return " ".join(words).capitalize() + "."

    def visibility(self) -> str:
        shares = self.shape["visibility"]
        names = [n for n in ("public", "team", "private") if shares.get(n, 0) > 0]
        return self.rng.choices(names, weights=[shares[n] for n in names])[0]

    def stamp(self, days: float) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(0, days * 86400))

    def owned(self, visibility: str) -> dict[str, Any]:
        """Owner, team and visibility as the gateway records them for a created item."""
        owner = self.rng.choice(self.users)
        teams = self.teams_of[owner]
        # a private item lives in its owner's personal team; others in any team of the owner
        team = teams[0] if visibility == "private" else self.rng.choice(teams)
        return {"owner_email": owner, "team_id": team, "visibility": visibility}

    def audit(self, owner: str) -> dict[str, Any]:
        created = self.stamp(180)
        return {
            "created_at": created,
            "updated_at": created,
            "created_by": owner,
            "created_via": "perfkit-populate",
            "import_batch_id": self.marks.batch_id,
            "version": 1,
        }

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.plan.tables.setdefault(table, []).append(row)

    # -- entities -----------------------------------------------------------------------
    def build(self) -> Plan:
        self.make_users()
        self.make_teams()
        self.make_gateways()
        self.make_tools()
        self.make_prompts()
        self.make_resources()
        self.make_servers()
        self.make_metrics()
        return self.plan

    def make_users(self) -> None:
        counts = self.ds.counts
        self.users: list[str] = []
        for i in range(counts["users"]):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            email = f"{first}.{last}.{self.marks.tag}.{i:06d}@{MARK_DOMAIN}".lower()
            self.users.append(email)
            created = self.stamp(365)
            if i < counts["login_users"]:
                # made by the gateway's own service (password hash, personal team, roles)
                self.plan.login_emails.append(email)
            self.add(
                "email_users",
                {
                    "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                    "email": email,
                    "full_name": f"{first} {last}",
                    "login": i < counts["login_users"],
                    "created_at": created,
                },
            )
            # the personal team the gateway gives every user it creates, its owner alone in it
            personal = self.uid()
            self.add(
                "email_teams",
                {
                    "id": personal,
                    "name": f"{first} {last}'s Team",
                    "slug": f"{MARK_SLUG}{email.split('@')[0].replace('.', '-')}",
                    "description": f"Personal workspace for {email}",
                    "created_by": email,
                    "is_personal": True,
                    "visibility": "private",
                    "created_at": created,
                },
            )
            self.add(
                "email_team_members",
                {
                    "id": self.uid(),
                    "team_id": personal,
                    "user_email": email,
                    "role": "owner",
                    "invited_by": None,
                    "joined_at": created,
                },
            )
            self.teams_of[email] = [personal]

    def make_teams(self) -> None:
        for i in range(self.ds.counts["teams"]):
            dept = self.rng.choice(DEPARTMENTS)
            team_id = self.uid()
            name = f"{dept} {i + 1:04d}"
            members = self.rng.sample(
                self.users,
                min(len(self.users), max(1, self.between("members_per_team"))),
            )
            owner = members[0]
            created = self.stamp(365)
            self.add(
                "email_teams",
                {
                    "id": team_id,
                    "name": name,
                    "slug": f"{MARK_SLUG}{self.marks.tag}-{dept.lower()}-{i + 1:04d}",
                    "description": self.sentence(),
                    "created_by": owner,
                    "is_personal": False,
                    "visibility": self.rng.choice(("private", "public")),
                    "created_at": created,
                },
            )
            for k, email in enumerate(members):
                self.add(
                    "email_team_members",
                    {
                        "id": self.uid(),
                        "team_id": team_id,
                        "user_email": email,
                        "role": "owner" if k == 0 else "member",
                        "invited_by": None if k == 0 else owner,
                        "joined_at": created,
                    },
                )
                self.teams_of[email].append(team_id)

    def make_gateways(self) -> None:
        self.gateways: list[tuple[str, str]] = []  # (id, slug)
        for i in range(self.ds.counts["gateways"]):
            system = self.rng.choice(SYSTEMS)
            slug = f"{system}-{self.marks.tag}-{i + 1:05d}"
            gid = self.uid()
            owner = self.owned(self.visibility())
            self.gateways.append((gid, slug))
            self.add(
                "gateways",
                {
                    "id": gid,
                    "name": slug,
                    "slug": slug,
                    "description": self.sentence(),
                    **owner,
                    **self.audit(owner["owner_email"]),
                },
            )
        skew = float(self.shape["gateway_skew"])
        self.gateway_weights = [
            1.0 / math.pow(rank + 1, skew) for rank in range(len(self.gateways))
        ]

    def input_schema(self) -> dict[str, Any]:
        props = {}
        for _ in range(self.rng.randint(1, 5)):
            name = (
                self.rng.choice(NOUNS)
                + "_"
                + self.rng.choice(("id", "name", "limit", "from", "to", "query"))
            )
            props[name] = {
                "type": self.rng.choice(ARG_TYPES),
                "description": self.sentence(),
            }
        required = sorted(
            self.rng.sample(sorted(props), self.rng.randint(0, len(props)))
        )
        return {"type": "object", "properties": props, "required": required}

    def make_tools(self) -> None:
        self.tools: list[str] = []
        gateway_of = (
            self.rng.choices(
                range(len(self.gateways)),
                weights=self.gateway_weights,
                k=self.ds.counts["tools"],
            )
            if self.gateways
            else []
        )
        for i, g in enumerate(gateway_of):
            gid, gslug = self.gateways[g]
            custom = f"{self.rng.choice(VERBS)}_{self.rng.choice(NOUNS)}_{i + 1:06d}"
            owner = self.owned(self.visibility())
            tid = self.uid()
            self.tools.append(tid)
            self.add(
                "tools",
                {
                    "id": tid,
                    "original_name": custom,
                    "custom_name": custom,
                    "gateway_id": gid,
                    "gateway_slug": gslug,
                    "description": self.sentence(),
                    "original_description": None,
                    "input_schema": self.input_schema(),
                    "tags": self.rng.sample(SYSTEMS, self.rng.randint(0, 3)),
                    **owner,
                    **self.audit(owner["owner_email"]),
                },
            )

    def make_prompts(self) -> None:
        self.prompts: list[str] = []
        for i in range(self.ds.counts["prompts"]):
            name = f"{self.rng.choice(VERBS)}-{self.rng.choice(NOUNS)}-{self.marks.tag}-{i + 1:06d}"
            args = sorted(
                {self.rng.choice(NOUNS) for _ in range(self.rng.randint(1, 3))}
            )
            owner = self.owned(self.visibility())
            pid = self.uid()
            self.prompts.append(pid)
            body = " ".join(f"{{{{ {a} }}}}" for a in args)
            self.add(
                "prompts",
                {
                    "id": pid,
                    "name": name,
                    "description": self.sentence(),
                    "template": f"{self.sentence()} {body}",
                    "argument_schema": {
                        "type": "object",
                        "properties": {a: {"type": "string"} for a in args},
                        "required": args[:1],
                    },
                    "tags": self.rng.sample(SYSTEMS, self.rng.randint(0, 2)),
                    **owner,
                    **self.audit(owner["owner_email"]),
                },
            )

    def make_resources(self) -> None:
        self.resources: list[str] = []
        for i in range(self.ds.counts["resources"]):
            noun = self.rng.choice(NOUNS)
            mime = self.rng.choice(MIME)
            text = " ".join(self.sentence() for _ in range(self.rng.randint(1, 8)))
            owner = self.owned(self.visibility())
            rid = self.uid()
            self.resources.append(rid)
            self.add(
                "resources",
                {
                    "id": rid,
                    "uri": f"file:///perfkit/{self.marks.tag}/{noun}s/{noun}-{i + 1:06d}",
                    "name": f"{noun}-{self.marks.tag}-{i + 1:06d}",
                    "description": self.sentence(),
                    "mime_type": mime,
                    "size": len(text),
                    "text_content": text,
                    "tags": self.rng.sample(SYSTEMS, self.rng.randint(0, 2)),
                    **owner,
                    **self.audit(owner["owner_email"]),
                },
            )

    def attach(
        self, table: str, column: str, sid: str, pool: list[str], key: str
    ) -> None:
        for item in self.rng.sample(pool, min(len(pool), self.between(key))):
            self.add(table, {"server_id": sid, column: item})

    def make_servers(self) -> None:
        self.servers: list[str] = []
        for i in range(self.ds.counts["servers"]):
            dept = self.rng.choice(DEPARTMENTS)
            owner = self.owned(self.visibility())
            sid = self.uid()
            self.servers.append(sid)
            self.add(
                "servers",
                {
                    "id": sid,
                    "name": f"{dept} toolkit {self.marks.tag} {i + 1:05d}",
                    "description": self.sentence(),
                    "tags": self.rng.sample(SYSTEMS, self.rng.randint(0, 2)),
                    **owner,
                    **self.audit(owner["owner_email"]),
                },
            )
            self.attach(
                "server_tool_association",
                "tool_id",
                sid,
                self.tools,
                "tools_per_server",
            )
            self.attach(
                "server_prompt_association",
                "prompt_id",
                sid,
                self.prompts,
                "prompts_per_server",
            )
            self.attach(
                "server_resource_association",
                "resource_id",
                sid,
                self.resources,
                "resources_per_server",
            )

    def make_metrics(self) -> None:
        """Metric rows are many (10x the tools): made lazily, each table from its own seed."""
        for table, column, pool in (
            ("tool_metrics", "tool_id", self.tools),
            ("prompt_metrics", "prompt_id", self.prompts),
            ("resource_metrics", "resource_id", self.resources),
            ("server_metrics", "server_id", self.servers),
        ):
            if self.ds.counts[table]:
                self.plan.lazy[table] = MetricRows(
                    column,
                    pool,
                    self.ds.counts[table],
                    self.rng.getrandbits(64),
                    self.now,
                    float(self.shape["metric_hours"]),
                )


@dataclass(frozen=True)
class MetricRows:
    """The calls of one metric table: random items, times over the last days, 2% failed."""

    column: str
    pool: list[str]
    count: int
    seed: int
    now: datetime
    hours: float

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        for _ in range(self.count):
            ok = rng.random() >= 0.02
            yield {
                self.column: rng.choice(self.pool),
                "timestamp": self.now
                - timedelta(seconds=rng.uniform(0, self.hours * 3600)),
                # a call's seconds: lognormal around 80 ms
                "response_time": round(rng.lognormvariate(math.log(0.08), 0.6), 4),
                "is_success": ok,
                "error_message": None if ok else "upstream timed out",
            }


def build(
    dataset: Dataset, seed: int, generation: int, now: datetime | None = None
) -> Plan:
    marks = Marks(batch_id(dataset.name, seed, generation), generation)
    return Maker(dataset, seed, marks, now or datetime.now(UTC)).build()


def batches(
    rows: Iterable[dict[str, Any]], size: int
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
