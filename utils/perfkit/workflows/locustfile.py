"""The Locust users of a multi-user run: each one acts as a gateway user of `perfkit
workflows-people` (its own token) - and, in workflows that need them, as a teammate and as a
user of another team - back to back with no think time, as hey's clients are. Each request is
a step named `<workflow>:<step>` carrying its gateway user; each workflow a `WORKFLOW` event
with its whole time, failed when one of its steps failed; a wait (`WAIT`), a check (`CHECK`)
or a count (`TALLY`) is reported beside the steps, not counted as a request.

- `baseline`: each user's own operations - list tools, servers and prompts (limit 50), get one
  of the tools it sees, call the benchmark server's get_system_time over /rpc (weights 3:2:2:2:1)
- `share`: A, a team's owner, makes a team-visible virtual server over a tool -> B, a member
  of that team, lists the team's servers until it appears (the wait is step
  `share:visible_after`) -> B calls the tool through `/servers/{id}/mcp` -> C, outside the
  team, lists servers and must not see it (a visibility leak is a failure, named) -> A
  deletes the server
- `collaborate`: a team's owner makes a team prompt -> every member reads it at once (a 404
  just after it was made is read again) -> every member appends a line to what it read, all
  at once: an owner's edit is taken (or refused as a conflict, 409), a plain member's must be
  refused (403; taken, it is a permission leak, named) -> the owner reads the final text: an
  edit taken but missing from it is a lost update (the gateway's PUT overwrites, last writer
  wins). Kept, lost and conflicting edits are counted (`TALLY`), not failed -> the owner
  deletes the prompt
- `token`: a user makes an API token, uses it, revokes it, and the next use must get 401
- `agent`: an MCP client's session on the virtual server bench-virtual's `/servers/{id}/mcp` -
  initialize, notifications/initialized, tools/list, 3 tools/call of get_system_time, and the
  session closed (DELETE) when the gateway gave one
- `mixed`: baseline, share, collaborate, token and agent 50:25:15:5:5, in a fixed cycle of 20
  (10 baseline, 5 share, 3 collaborate, 1 token, 1 agent) each user entering at its own place

A JSON-RPC error in an HTTP 200 is a failure. Servers, prompts and tokens a workflow makes go into the
run's ledger as they are made, so `workflows-people clean` removes what an interrupted run left.
Imported by the driver after `locust` (whose import patches the process for gevent).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from gevent.pool import Group
from locust import FastHttpUser, User, constant, task

from perfkit.probe import document_of, rpc_error
from perfkit.workflows.people import Ledger, Made

PAGE = 50
CALLED_TOOL_SUFFIX = (
    "get-system-time"  # the benchmark MCP server's tool (bench_server.py)
)
MCP_ACCEPT = "application/json, text/event-stream"
VISIBLE_TRIES = 20  # B lists servers at most this often for A's new server ...
VISIBLE_PAUSE_S = 0.05  # ... this far apart
AGENT_SERVER = "bench-virtual"  # the virtual server the local stack registers
AGENT_CALLS = 3  # tool calls in an agent's session
# the steps that call a tool of a benchmark MCP server (each one call it serves)
TOOL_CALL_STEPS = frozenset(
    {"baseline:call_tool", "share:member_calls", "agent:tools_call"}
)


class StepFailed(Exception):
    """A step of a workflow failed (its request is already counted as failed)."""


@dataclass
class Seen:
    """What a request's answer was, beyond its JSON: its status and headers."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    email: str
    token: str
    teams: tuple[str, ...]
    owns: tuple[str, ...] = ()  # teams it owns: it may create servers in them


@dataclass(frozen=True)
class Sharing:
    """Who takes part in a share: the team, its owner (A), a member (B), an outsider (C)."""

    team: str
    owner: Person
    member: Person
    outsider: Person


def sharings(people: list[Person]) -> list[Sharing]:
    """Every team with an owner, another member (a plain one where it has one) and a user
    outside it."""
    found = []
    for owner in people:
        for team in owner.owns:
            others = [p for p in people if p != owner and team in p.teams]
            others.sort(key=lambda p: team in p.owns)  # plain members first
            outsider = next((p for p in people if team not in p.teams), None)
            if others and outsider is not None and owner == owners_of(team, people)[0]:
                found.append(Sharing(team, owner, others[0], outsider))
    return found


def owners_of(team: str, people: list[Person]) -> list[Person]:
    return [p for p in people if team in p.owns]


@dataclass(frozen=True)
class Collaboration:
    """A team's prompt and who works on it: the owner who makes it, every member (owners,
    who may edit it, and plain members, who may only read it)."""

    team: str
    owner: Person
    members: tuple[Person, ...]  # everyone in the team, the owner first


def collaborations(people: list[Person]) -> list[Collaboration]:
    """Every team with at least two people in it."""
    found = []
    for team in sorted({t for p in people for t in p.owns}):
        owner = owners_of(team, people)[0]
        members = [owner, *(p for p in people if p != owner and team in p.teams)]
        if len(members) > 1:
            found.append(Collaboration(team, owner, tuple(members)))
    return found


class Roster:
    """The run's gateway users, taken in turn, and where the workflows record what they make."""

    people: ClassVar[list[Person]] = []
    turn: ClassVar[itertools.count[int]] = itertools.count()
    shares: ClassVar[list[Sharing]] = []
    teamwork: ClassVar[list[Collaboration]] = []
    ledger: ClassVar[Ledger | None] = None
    prefix: ClassVar[str] = "loadtest"
    share_visibility: ClassVar[str] = "team"  # public only to see the leak check fail
    protocol_version: ClassVar[str] = (
        "2025-06-18"  # MCP-Protocol-Version the agents send
    )
    # the workload rest: the admin (its token from the driver's environment) and the
    # benchmark MCP server its gateways and A2A agents point at
    admin: ClassVar[Person | None] = None
    bench_url: ClassVar[str] = ""

    @classmethod
    def next(cls) -> Person:
        return cls.people[next(cls.turn) % len(cls.people)]

    @classmethod
    def sharing(cls, for_: Person) -> Sharing:
        """The share this user takes part in (as owner when it owns a team), else any."""
        mine = [s for s in cls.shares if for_ in (s.owner, s.member)]
        return (mine or cls.shares)[0]

    @classmethod
    def collaboration(cls, for_: Person) -> Collaboration:
        """The team prompt this user works on (in a team it owns when it owns one), else any."""
        mine = [c for c in cls.teamwork if c.team in for_.owns]
        mine = mine or [c for c in cls.teamwork if for_ in c.members]
        return (mine or cls.teamwork)[0]

    # a worker's way to the ledger: what it makes goes to its master, which writes it
    relay: ClassVar[Callable[[Made], None] | None] = None

    @classmethod
    def record(cls, made: Made) -> None:
        if cls.relay is not None:
            cls.relay(made)
        elif cls.ledger is not None:
            cls.ledger.add(made)


def load_people(path: Path) -> list[Person]:
    data = json.loads(path.read_text())
    return [
        Person(
            email,
            str(entry["token"]),
            tuple(entry.get("teams") or ()),
            tuple(entry.get("owns") or ()),
        )
        for email, entry in data.items()
    ]


def needs(workload: str, people: list[Person]) -> str | None:
    """What the roster lacks for `workload`, or None."""
    if workload in ("share", "mixed") and not sharings(people):
        return (
            f"workload {workload} needs a team with its owner, another member and a user "
            "outside it: at least 3 users in 2 teams (--users 3 --teams 2)"
        )
    if workload == "rest" and len(people) < 3:
        return (
            "workload rest needs 3 users at least (a team's member, an invitee and one "
            "asking to join): --users 3"
        )
    if workload in ("collaborate", "mixed") and not collaborations(people):
        return (
            f"workload {workload} needs a team of at least two users: at least 2 users in "
            "1 team (--users 2 --teams 1)"
        )
    return None


class GatewayUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.me = Roster.next()
        self.tool_id = ""
        self.tool_name = ""
        self.server_id = ""

    def call(
        self,
        step: str,
        method: str,
        path: str,
        who: Person | None = None,
        body: Any = None,
        *,
        token: str = "",
        expect: int | frozenset[int] = 200,
        mcp: bool = False,
        session: str = "",
        seen: Seen | None = None,
        anonymous: bool = False,
        redirects: bool = True,
    ) -> Any:
        """One request as step `step` by `who` (default this user); its JSON (None for an
        empty answer), or StepFailed when the status is not `expect` (one or a set) or the
        answer reports an error. `seen` gets the answer's status and headers; `anonymous`
        sends no token (a login), `redirects=False` takes a redirect as the answer."""
        expected = expect if isinstance(expect, frozenset) else frozenset({expect})
        who = who or self.me
        headers = {"Accept": MCP_ACCEPT if mcp else "application/json"}
        if not anonymous:
            headers["Authorization"] = f"Bearer {token or who.token}"
        if mcp:
            headers["MCP-Protocol-Version"] = Roster.protocol_version
        if session:
            headers["Mcp-Session-Id"] = session
        kwargs: dict[str, Any] = {
            "name": step,
            "catch_response": True,
            "context": {"user": who.email},
        }
        if body is not None:
            kwargs["data"] = json.dumps(body)
            headers["Content-Type"] = "application/json"
        kwargs["headers"] = headers
        if not redirects:
            kwargs["allow_redirects"] = False
        with self.client.request(method, path, **kwargs) as answer:
            if answer.status_code not in expected:
                wanted = " or ".join(str(code) for code in sorted(expected))
                said = said_of(answer.text or "")
                answer.failure(
                    f"HTTP {answer.status_code} (expected {wanted})"
                    + (f": {said}" if said else "")
                )
                raise StepFailed(step)
            if seen is not None:
                seen.status = answer.status_code
                seen.headers.update({k.lower(): v for k, v in answer.headers.items()})
            document, is_json = (
                document_of(answer.text) if answer.text else (None, True)
            )
            if not is_json:
                answer.failure("not JSON (nor an event stream of it)")
                raise StepFailed(step)
            why = (
                rpc_error(document, str(answer.status_code))
                if 200 <= answer.status_code < 300
                else None
            )
            if why:
                answer.failure(why)
                raise StepFailed(step)
            answer.success()
            return document

    def fire(
        self, kind: str, name: str, ms: float, error: str = "", at: float = 0.0
    ) -> None:
        """An event beside the requests: a workflow, wait, check or count (`at`: the
        wall-clock time it belongs to, default now)."""
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=ms,
            response_length=0,
            exception=StepFailed(error) if error else None,
            context={"user": self.me.email, "at": at or time.time()},
        )

    def workflow(self, name: str, steps: Any) -> None:
        """Run `steps` as workflow `name`: its whole time, failed with the first failed step
        (or a finding such as a visibility leak)."""
        begun = time.perf_counter()
        error = ""
        try:
            steps()
        except StepFailed as exc:
            error = f"step {exc} failed"
        self.fire("WORKFLOW", name, (time.perf_counter() - begun) * 1000, error)

    def see_tools(self, workflow: str) -> None:
        tools = self.call(f"{workflow}:list_tools", "GET", f"/tools?limit={PAGE}")
        if isinstance(tools, list) and tools:
            self.tool_id = str(tools[0].get("id", ""))
            called = [
                t for t in tools if str(t.get("name", "")).endswith(CALLED_TOOL_SUFFIX)
            ]
            if called:
                self.tool_id, self.tool_name = (
                    str(called[0]["id"]),
                    str(called[0]["name"]),
                )

    # -- baseline ----------------------------------------------------------------------------
    def baseline(self) -> None:
        def steps() -> None:
            self.see_tools("baseline")
            self.call("baseline:list_servers", "GET", f"/servers?limit={PAGE}")
            self.call("baseline:list_prompts", "GET", f"/prompts?limit={PAGE}")
            if self.tool_id:
                self.call("baseline:get_tool", "GET", f"/tools/{self.tool_id}")
            if self.tool_name:
                self.call(
                    "baseline:call_tool", "POST", "/rpc", body=tool_call(self.tool_name)
                )

        self.workflow("baseline", steps)

    # -- share -------------------------------------------------------------------------------
    def share(self) -> None:
        who = Roster.sharing(self.me)

        def steps() -> None:
            if not self.tool_name:
                self.see_tools("share")
            name = f"{Roster.prefix}-share-{uuid.uuid4().hex[:12]}"
            made = self.call(
                "share:create_server",
                "POST",
                "/v1/servers",
                who.owner,
                {
                    "server": {"name": name, "associated_tools": [self.tool_id]},
                    "team_id": who.team,
                    "visibility": Roster.share_visibility,
                },
                expect=201,
            )
            server = str(made["id"])
            Roster.record(Made("server", server, name))
            try:
                begun = time.perf_counter()
                for _ in range(VISIBLE_TRIES):
                    listed = self.call(
                        "share:member_lists",
                        "GET",
                        f"/servers?limit=0&team_id={who.team}",
                        who.member,
                    )
                    if any(s.get("id") == server for s in listed or []):
                        break
                    time.sleep(VISIBLE_PAUSE_S)
                else:
                    waited = (time.perf_counter() - begun) * 1000
                    self.fire("WAIT", "share:visible_after", waited, "never visible")
                    raise StepFailed("share:visible_after")
                self.fire(
                    "STEP", "share:visible_after", (time.perf_counter() - begun) * 1000
                )
                self.call(
                    "share:member_calls",
                    "POST",
                    f"/servers/{server}/mcp",
                    who.member,
                    tool_call(self.tool_name),
                    mcp=True,
                )
                listed = self.call(
                    "share:outsider_lists", "GET", "/servers?limit=0", who.outsider
                )
                if any(s.get("id") == server for s in listed or []):
                    leak = (
                        f"visibility leak: {who.outsider.email} (not in team {who.team}) "
                        "sees the team's new server"
                    )
                    self.fire("CHECK", "share:outsider_blind", 0.0, leak)
                    raise StepFailed("share:outsider_blind")
            finally:
                self.call(
                    "share:delete_server", "DELETE", f"/v1/servers/{server}", who.owner
                )

        self.workflow("share", steps)

    # -- collaborate -------------------------------------------------------------------------
    def collaborate(self) -> None:
        crew = Roster.collaboration(self.me)

        def steps() -> None:
            name = f"{Roster.prefix}-collab-{uuid.uuid4().hex[:12]}"
            made = self.call(
                "collaborate:create_prompt",
                "POST",
                "/prompts",
                crew.owner,
                {
                    "prompt": {
                        "name": name,
                        "description": "a team's shared prompt (perfkit)",
                        "template": "Summarize the team's notes.",
                    },
                    "team_id": crew.team,
                    "visibility": "team",
                },
            )
            prompt = str(made["id"])
            Roster.record(Made("prompt", prompt, name))
            try:
                texts = together(crew.members, lambda who: self.read_new(prompt, who))
                edits = {who: f"edit {uuid.uuid4().hex[:12]}" for who in crew.members}
                outcomes = together(
                    crew.members,
                    lambda who: self.edit(crew, prompt, who, texts[who], edits[who]),
                )
                final = prompt_text(
                    self.call(
                        "collaborate:owner_verifies",
                        "GET",
                        f"/prompts/{prompt}",
                        crew.owner,
                    )
                )
                for who, (status, at) in outcomes.items():
                    if status == 200:
                        kept = edits[who] in final
                        self.tally(
                            "collaborate:update_kept"
                            if kept
                            else "collaborate:update_lost",
                            at,
                        )
                    elif status == 409:
                        self.tally("collaborate:update_conflict", at)
            finally:
                self.call(
                    "collaborate:delete_prompt",
                    "DELETE",
                    f"/prompts/{prompt}",
                    crew.owner,
                    expect=frozenset({200, 204}),
                )

        self.workflow("collaborate", steps)

    def read_new(self, prompt: str, who: Person) -> Any:
        """`who` reads the team's new prompt. The gateway may answer 404 for a moment after
        making it (seen once in CI on a loaded machine: both members at once, the owner too;
        later reads in the run found their prompts), so a 404 is read again, like share's
        listing, at most VISIBLE_TRIES times; only a prompt never seen fails
        (`collaborate:never_visible`)."""
        begun = time.perf_counter()
        for _ in range(VISIBLE_TRIES):
            seen = Seen()
            read = self.call(
                "collaborate:member_reads",
                "GET",
                f"/prompts/{prompt}",
                who,
                expect=frozenset({200, 404}),
                seen=seen,
            )
            if seen.status == 200:
                return read
            self.tally("collaborate:read_again", time.time())
            time.sleep(VISIBLE_PAUSE_S)
        waited = (time.perf_counter() - begun) * 1000
        self.fire(
            "WAIT",
            "collaborate:never_visible",
            waited,
            f"{who.email} got 404 for the team's new prompt {VISIBLE_TRIES} times",
        )
        raise StepFailed("collaborate:never_visible")

    def edit(
        self, crew: Collaboration, prompt: str, who: Person, read: Any, mark: str
    ) -> tuple[int, float]:
        """`who` appends its mark to the template it read; an owner's edit is taken (200) or
        refused as a conflict (409), a plain member's must be refused (403). The status, and
        when it came."""
        editor = crew.team in who.owns
        seen = Seen()
        self.call(
            "collaborate:owner_updates" if editor else "collaborate:member_refused",
            "PUT",
            f"/prompts/{prompt}",
            who,
            {"template": f"{prompt_text(read).rstrip()}\n{mark}"},
            expect=frozenset({200, 409}) if editor else frozenset({200, 403}),
            seen=seen,
        )
        if not editor and seen.status == 200:
            leak = (
                f"permission leak: {who.email}, a plain member of team {crew.team}, "
                "changed the team's prompt"
            )
            self.fire("CHECK", "collaborate:member_cannot_edit", 0.0, leak)
            raise StepFailed("collaborate:member_cannot_edit")
        return seen.status, time.time()

    def tally(self, name: str, at: float) -> None:
        """Count one outcome (a kept or lost update, a conflict), dated by its request's
        answer (so the warm-up leaves out both or neither) - not a request."""
        self.fire("TALLY", name, 0.0, at=at)

    # -- agent -------------------------------------------------------------------------------
    def agent(self) -> None:
        def steps() -> None:
            if not self.server_id:
                servers = self.call("agent:list_servers", "GET", "/servers?limit=0")
                found = [v for v in servers or [] if v.get("name") == AGENT_SERVER]
                if not found:
                    self.fire(
                        "CHECK",
                        "agent:find_server",
                        0.0,
                        f"no server {AGENT_SERVER} visible",
                    )
                    raise StepFailed("agent:find_server")
                self.server_id = str(found[0]["id"])
            path = f"/servers/{self.server_id}/mcp"
            seen = Seen()
            self.call(
                "agent:initialize",
                "POST",
                path,
                body=rpc(
                    "initialize",
                    {
                        "protocolVersion": Roster.protocol_version,
                        "capabilities": {},
                        "clientInfo": {"name": "perfkit-agent", "version": "1"},
                    },
                ),
                mcp=True,
                seen=seen,
            )
            session = seen.headers.get("mcp-session-id", "")
            try:
                self.call(
                    "agent:initialized",
                    "POST",
                    path,
                    body=rpc("notifications/initialized", ident=None),
                    mcp=True,
                    session=session,
                    expect=202,
                )
                listed = self.call(
                    "agent:tools_list",
                    "POST",
                    path,
                    body=rpc("tools/list", {}, 2),
                    mcp=True,
                    session=session,
                )
                tools = [t for t in (listed or {}).get("result", {}).get("tools", [])]
                called = [
                    t
                    for t in tools
                    if str(t.get("name", "")).endswith(CALLED_TOOL_SUFFIX)
                ]
                if not called:
                    self.fire(
                        "CHECK",
                        "agent:find_tool",
                        0.0,
                        f"no *{CALLED_TOOL_SUFFIX} tool listed",
                    )
                    raise StepFailed("agent:find_tool")
                for ident in range(3, 3 + AGENT_CALLS):
                    self.call(
                        "agent:tools_call",
                        "POST",
                        path,
                        body=tool_call(str(called[0]["name"]), ident),
                        mcp=True,
                        session=session,
                    )
            finally:
                if session:
                    self.call("agent:close", "DELETE", path, mcp=True, session=session)

        self.workflow("agent", steps)

    # -- token -------------------------------------------------------------------------------
    def token(self) -> None:
        def steps() -> None:
            made = self.call(
                "token:create",
                "POST",
                "/v1/tokens",
                body={
                    "name": f"{Roster.prefix}-token-{uuid.uuid4().hex[:12]}",
                    "expires_in_days": 1,
                },
                expect=201,
            )
            token_id, secret = str(made["token"]["id"]), str(made["access_token"])
            Roster.record(Made("token", token_id))
            self.call("token:use", "GET", "/tools?limit=1", token=secret)
            self.call("token:revoke", "DELETE", f"/v1/tokens/{token_id}", expect=204)
            self.call(
                "token:use_revoked", "GET", "/tools?limit=1", token=secret, expect=401
            )

        self.workflow("token", steps)


def rpc(
    method: str, params: dict[str, Any] | None = None, ident: int | None = 1
) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if ident is not None:
        message["id"] = ident
    return message


def said_of(text: str, limit: int = 200) -> str:
    """What a refused request's answer says: its `detail`, `message` or `error`, else its
    text (cut to `limit` characters) - so that a failure names the gateway's reason."""
    document, is_json = document_of(text) if text else (None, False)
    if isinstance(document, dict):
        said = next(
            (document[k] for k in ("detail", "message", "error") if document.get(k)), ""
        )
        text = said if isinstance(said, str) else json.dumps(said)
    elif is_json:
        text = json.dumps(document)
    return " ".join(text.split())[:limit]


def prompt_text(rendered: Any) -> str:
    """The text of a prompt as GET /prompts/{id} renders it (its messages' text joined)."""
    if not isinstance(rendered, dict):
        return ""
    texts = []
    for message in rendered.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, dict) and isinstance(content.get("text"), str):
            texts.append(content["text"])
    return "\n".join(texts)


def together(
    people: tuple[Person, ...], step: Callable[[Person], Any]
) -> dict[Person, Any]:
    """`step` for everyone at once (a greenlet each); each one's result, or StepFailed when
    any of them failed (after all have answered)."""
    group = Group()
    running = {who: group.spawn(step, who) for who in people}
    group.join()
    failed = next((g.exception for g in running.values() if g.exception), None)
    if failed is not None:
        raise failed
    return {who: g.value for who, g in running.items()}


def tool_call(name: str, ident: int = 1) -> dict[str, Any]:
    return rpc(
        "tools/call", {"name": name, "arguments": {"timezone_name": "UTC"}}, ident
    )


class BaselineUser(GatewayUser):
    @task
    def run_baseline(self) -> None:
        self.baseline()


class ShareUser(GatewayUser):
    @task
    def run_share(self) -> None:
        self.share()


class TokenUser(GatewayUser):
    @task
    def run_token(self) -> None:
        self.token()


class CollaborateUser(GatewayUser):
    @task
    def run_collaborate(self) -> None:
        self.collaborate()


class AgentUser(GatewayUser):
    @task
    def run_agent(self) -> None:
        self.agent()


# mixed: 50:25:15:5:5 as a fixed cycle of 20 (not drawn at random: a short run still runs
# each workflow, and two runs run the same mix); the rare ones early, each user from its own
# place
MIXED_CYCLE = (
    "token", "baseline", "share", "collaborate", "baseline", "agent", "baseline", "share",
    "baseline", "collaborate", "baseline", "share", "baseline", "baseline", "share",
    "collaborate", "baseline", "share", "baseline", "baseline",
)  # fmt: skip


class MixedUser(GatewayUser):
    def on_start(self) -> None:
        super().on_start()
        start = Roster.people.index(self.me) if self.me in Roster.people else 0
        self.schedule = itertools.islice(itertools.cycle(MIXED_CYCLE), start, None)

    @task
    def run_mixed(self) -> None:
        getattr(self, next(self.schedule))()


WORKLOADS: dict[str, list[type[User]]] = {
    "baseline": [BaselineUser],
    "share": [ShareUser],
    "collaborate": [CollaborateUser],
    "token": [TokenUser],
    "agent": [AgentUser],
    "mixed": [MixedUser],
}
