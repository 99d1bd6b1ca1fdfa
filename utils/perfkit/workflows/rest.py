"""The workload `rest`: the gateway's REST API beyond the MCP path, operation by operation, as
an administrator and its users work it - each workflow makes what it works on (names
`<prefix>-rest-<hex>`), checks every answer (status and body) and removes what it made, so
that `make coverage` counts the operations under load and every one of them is a test of the
scenario workflows (`workflows/<workflow>.<step>`) with its own figures.

Workflows (each a fixed sequence; a Locust user runs them in turn, each user from its own
place):
- `tools`: a REST tool made, read, listed, updated, deactivated and activated again, found by
  its tag and by search, bound to a plugin in a team and unbound (by id and by reference), its
  schema generated from the benchmark server's OpenAPI document, deleted
- `resources`, `prompts`: made, read (a resource by id, info and URI; a prompt rendered with
  and without its argument), listed, updated, deactivated and activated, a resource's URI
  completed (completion/complete; a prompt's argument is not: 1.0.7 finds none, "Argument
  not found", whatever the prompt), deleted
- `servers`: a virtual server over a tool with OAuth metadata, read, listed, its tools,
  resources and prompts, updated, deactivated and activated, its protected-resource metadata
  (the per-server well-known path and its redirect), deleted
- `gateways`: the benchmark MCP server registered once more (a URL of its own, so the gateway
  does not refuse it as a duplicate), read, listed, updated, its tools refreshed, deactivated
  and activated, deleted (its tools go with it)
- `agents`: an A2A agent on the benchmark server (its `/a2a/` route) registered, read,
  listed, updated, deactivated and activated, invoked three ways (by name, by id, JSON-RPC), bound to a plugin and unbound, deleted
- `teams`: a public team the admin owns: this user added and made owner, leaving; another
  invited, accepting, removed; an invitation cancelled; a third asking to join and approved,
  this user asking again and refused; listed, discovered, read, updated, deleted
- `tokens`: this user's API token made, listed, read, updated, its usage, used (who am I,
  a CSRF token); a team token made and listed; all tokens listed and the team token revoked
  by the admin; the token revoked by its owner
- `rbac`: a role made, listed, read, updated, given to this user, the user's roles and
  permissions read and a permission checked, taken back, deleted; this user's own roles and
  permissions; the permissions there are
- `users`: a user made by the admin, read, listed, updated (PATCH and the deprecated PUT),
  unlocked, logging in (both logins), reading itself and its events, logging out; the admin's
  view of the events; the user deleted
- `exports`: an export of tools and prompts, a selective export of one tool, imported again as
  a dry run (nothing written), its status read, all statuses listed, finished ones cleaned up
- `roots`: a root added (https), listed, read, renamed, exported, removed
- `observe`: what an operator reads - version, health, security health, readiness, the
  MCP runtime mode, the well-known configuration, metrics and their maintenance settings and
  table sizes, the catalog, log search, a trace, security events, audit trails, performance
  metrics (the last 6 minutes)
- `compliance`: the frameworks, a report made for the last 30 days, listed, read, exported
- `protocol`: initialize, ping and a notification (versioned and the deprecated unversioned
  initialize and notifications), a JSON-RPC ping on /rpc, a request cancelled and its status
  (unknown: 404, the answer the gateway gives for a run no longer in flight)

Admin operations go with the admin's token (PERFKIT_TOKEN, given to the driver in its
environment); the rest with the user's own. Whatever a workflow makes goes into the run's
ledger as it is made, so `workflows-people clean` removes what an interrupted run left.
"""

from __future__ import annotations

import datetime
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from locust import task

from perfkit.workflows.locustfile import (
    GatewayUser,
    Person,
    Roster,
    StepFailed,
    rpc,
)
from perfkit.workflows.people import DOMAIN, Made, strong_password
from perfkit.workflows.rounds import REST

TAG = "perfkit-rest"  # the tag the rest workflows put on what they make
PLUGIN = "OutputLengthGuardPlugin"  # a plugin id for the bindings (stored, not run)
OAUTH_SERVER = (
    "https://auth.perfkit.example.com"  # a server's authorization server (metadata)
)
ROOT_BASE = "https://perfkit.example.com/"  # roots the workflow adds (https: ROOT_ALLOWED_SCHEMES)


def quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


class RestUser(GatewayUser):
    """Runs the rest workflows in turn, each user from its own place in the cycle."""

    def on_start(self) -> None:
        super().on_start()
        # users spread over the cycle: a short run still runs every workflow
        place = Roster.people.index(self.me) if self.me in Roster.people else 0
        self.turn = place * len(REST) // max(1, len(Roster.people))
        self.others = [p for p in Roster.people if p != self.me]

    @property
    def admin(self) -> Person:
        assert Roster.admin is not None  # the driver refuses the workload without it
        return Roster.admin

    @task
    def run_next(self) -> None:
        flow = REST[self.turn % len(REST)]
        self.turn += 1

        def steps() -> None:
            try:
                FLOWS[flow](self)
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                # an answer that passed its status check but lacks what the next step needs
                why = f"an answer not shaped as the gateway documents it: {exc!r}"
                self.fire("CHECK", f"{flow}:answer_shape", 0.0, why)
                raise StepFailed(f"{flow}:answer_shape") from None

        self.workflow(flow, steps)

    # -- helpers -----------------------------------------------------------------------------
    def name(self) -> str:
        return f"{Roster.prefix}-rest-{uuid.uuid4().hex[:12]}"

    def step(self, flow: str, step: str, method: str, path: str, **kwargs: Any) -> Any:
        """One timed step `<flow>:<step>` (as the admin unless `who` says otherwise)."""
        who = kwargs.pop("who", None) or self.admin
        return self.call(f"{flow}:{step}", method, path, who, **kwargs)

    def check(self, flow: str, what: str, ok: bool, why: str) -> None:
        """A check of an answer's body: a failed one fails the workflow, named."""
        if not ok:
            self.fire("CHECK", f"{flow}:{what}", 0.0, why)
            raise StepFailed(f"{flow}:{what}")

    def made(self, kind: str, key: str, name: str = "") -> None:
        Roster.record(Made(kind, key, name))

    def bench(self, flow: str) -> str:
        """The benchmark MCP server's base URL (the driver's first --server)."""
        self.check(
            flow,
            "bench_server",
            bool(Roster.bench_url),
            "no benchmark MCP server given to the driver (--server)",
        )
        return Roster.bench_url.rstrip("/")

    def team_of_mine(self) -> str:
        """A team this user is in (the people of the run are each in one at least)."""
        return self.me.teams[0] if self.me.teams else ""

    def update_and_toggle(self, flow: str, path: str) -> None:
        """What every kind of the catalog takes: its description updated (steps `update`), then
        deactivated and activated again (`deactivate`, `activate`: .../state)."""
        self.step(flow, "update", "PUT", path, body={"description": "updated"})
        self.step(flow, "deactivate", "POST", f"{path}/state?activate=false")
        self.step(flow, "activate", "POST", f"{path}/state?activate=true")

    def lasting_tool(self, flow: str, step: str) -> list[str]:
        """The id of a tool no rest workflow made (one that will not vanish under the next
        step: another user's workflow deletes its own), in a list; [] when there is none."""
        tools = self.step(flow, step, "GET", "/v1/tools?limit=50")
        ours = f"{Roster.prefix}-rest-"
        return [str(t["id"]) for t in tools or [] if ours not in str(t.get("name"))][:1]

    def cleanup(self, flow: str, step: str, path: str, **kwargs: Any) -> None:
        """A deletion run in `finally`: its failure is counted (a failed request), never
        raised over the failure that brought the workflow there."""
        try:
            self.step(flow, step, "DELETE", path, **kwargs)
        except StepFailed:
            pass

    # -- tools -------------------------------------------------------------------------------
    def flow_tools(self) -> None:
        f, name = "tools", self.name()
        bench = self.bench(f)
        made = self.step(f, "create", "POST", "/v1/tools", body={
            "tool": {
                "name": name, "url": f"{bench}/stats", "integration_type": "REST",
                "request_type": "GET", "description": "perfkit rest tool", "tags": [TAG],
            },
        })  # fmt: skip
        tool = str(made["id"])
        self.made("tool", tool, name)
        try:
            got = self.step(f, "get", "GET", f"/v1/tools/{tool}")
            self.check(
                f, "get_is_it", got.get("id") == tool, "GET returned another tool"
            )
            self.step(f, "list", "GET", "/v1/tools?limit=50")
            self.update_and_toggle(f, f"/v1/tools/{tool}")
            tags = self.step(f, "tags", "GET", "/v1/tags?entity_types=tools")
            self.check(
                f, "tag_listed", any(t.get("name") == TAG for t in tags or []),
                f"tag {TAG} not among the tags",
            )  # fmt: skip
            self.step(
                f, "tag_entities", "GET", f"/v1/tags/{TAG}/entities?entity_types=tools"
            )
            self.step(
                f, "search", "GET", f"/v1/search?q={quoted(name)}&entity_types=tools"
            )
            self.bindings(f, name)
            schemas = self.step(f, "schemas", "POST", "/v1/tools/generate-schemas-from-openapi",
                                body={"url": f"{bench}/stats", "request_type": "GET"})  # fmt: skip
            self.check(
                f, "schemas_made", bool(schemas and schemas.get("success")),
                "no schema generated from the benchmark server's OpenAPI document",
            )  # fmt: skip
        finally:
            self.cleanup(f, "delete", f"/v1/tools/{tool}")

    def bindings(self, f: str, tool: str) -> None:
        """Two plugin bindings of the tool in a team: one removed by id, one by reference."""
        team, ref = self.team_of_mine(), self.name()
        base, by_ref = "/v1/tools/plugin_bindings/", f"?binding_reference_id={ref}"
        policy = {"plugin_id": PLUGIN, "config": {}, "binding_reference_id": ref}
        made = self.step(f, "bind", "POST", base, body={
            "teams": {team: {"policies": [{**policy, "tool_names": [tool, f"{tool}-b"]}]}},
        })  # fmt: skip
        ids = [str(b["id"]) for b in (made or {}).get("bindings") or []]
        for binding in ids:
            self.made("tool-binding", binding, tool)
        self.check(f, "bound", len(ids) == 2, f"2 bindings made, {len(ids)} reported")
        listed = self.step(f, "bindings", "GET", f"{base}{by_ref}")
        self.check(f, "bindings_listed", (listed or {}).get("total") == 2,
                   "the reference's 2 bindings not listed")  # fmt: skip
        self.step(f, "team_bindings", "GET", f"{base}{team}")
        self.step(f, "unbind", "DELETE", f"{base}{ids[0]}")
        gone = self.step(f, "unbind_ref", "DELETE", f"{base}{by_ref}")
        self.check(f, "unbound_ref", (gone or {}).get("total") == 1,
                   "the reference's remaining binding not removed")  # fmt: skip

    # -- resources ---------------------------------------------------------------------------
    def flow_resources(self) -> None:
        f, name = "resources", self.name()
        uri = f"perfkit:{name}"
        made = self.step(f, "create", "POST", "/v1/resources", body={
            "resource": {"uri": uri, "name": name, "content": "perfkit rest resource",
                         "mime_type": "text/plain", "tags": [TAG]},
            "visibility": "public",
        })  # fmt: skip
        resource = str(made["id"])
        self.made("resource", resource, name)
        try:
            read = self.step(f, "read", "GET", f"/v1/resources/{resource}")
            self.check(f, "read_content", "perfkit rest resource" in str(read),
                       "the resource's content not in its answer")  # fmt: skip
            self.step(f, "info", "GET", f"/v1/resources/{resource}/info")
            self.step(f, "read_uri", "GET", f"/v1/resources/test/{uri}")
            self.step(f, "templates", "GET", "/v1/resources/templates/list")
            self.step(f, "list", "GET", "/v1/resources?limit=50")
            self.update_and_toggle(f, f"/v1/resources/{resource}")
            done = self.step(f, "complete", "POST", "/v1/protocol/completion/complete", body={
                "ref": {"type": "ref/resource", "uri": uri},
                "argument": {"name": "uri", "value": name},
            })  # fmt: skip
            values = ((done or {}).get("completion") or {}).get("values") or []
            self.check(
                f, "completed", uri in values, f"{uri} not among the completions"
            )
        finally:
            self.cleanup(f, "delete", f"/v1/resources/{resource}")

    # -- prompts -----------------------------------------------------------------------------
    def flow_prompts(self) -> None:
        f, name = "prompts", self.name()
        made = self.step(f, "create", "POST", "/v1/prompts", body={
            "prompt": {"name": name, "template": "Hello {{ person }} from perfkit",
                       "arguments": [{"name": "person", "required": True}], "tags": [TAG]},
            "visibility": "public",
        })  # fmt: skip
        prompt = str(made["id"])
        self.made("prompt", prompt, name)
        try:
            self.step(f, "get", "GET", f"/v1/prompts/{prompt}")
            rendered = self.step(f, "render", "POST", f"/v1/prompts/{prompt}",
                                 body={"person": "Ada"})  # fmt: skip
            self.check(f, "rendered", "Hello Ada from perfkit" in str(rendered),
                       "the argument not rendered into the prompt")  # fmt: skip
            self.step(f, "list", "GET", "/v1/prompts?limit=50")
            self.update_and_toggle(f, f"/v1/prompts/{prompt}")
        finally:
            self.cleanup(f, "delete", f"/v1/prompts/{prompt}")

    # -- servers -----------------------------------------------------------------------------
    def flow_servers(self) -> None:
        f, name = "servers", self.name()
        bundle = self.lasting_tool(f, "tools_to_bundle")
        made = self.step(f, "create", "POST", "/v1/servers", expect=201, body={
            "server": {
                "name": name, "description": "perfkit rest server", "associated_tools": bundle,
                "tags": [TAG], "oauth_enabled": True,
                "oauth_config": {"authorization_servers": [OAUTH_SERVER]},
            },
            "visibility": "public",
        })  # fmt: skip
        server = str(made["id"])
        self.made("server", server, name)
        try:
            self.step(f, "get", "GET", f"/v1/servers/{server}")
            self.step(f, "list", "GET", "/v1/servers?limit=50")
            listed = self.step(f, "server_tools", "GET", f"/v1/servers/{server}/tools")
            self.check(f, "bundled", [str(t.get("id")) for t in listed or []] == bundle,
                       "the server does not list the tool it bundles")  # fmt: skip
            self.step(f, "server_resources", "GET", f"/v1/servers/{server}/resources")
            self.step(f, "server_prompts", "GET", f"/v1/servers/{server}/prompts")
            self.update_and_toggle(f, f"/v1/servers/{server}")
            self.step(f, "well_known_redirect", "GET",
                      f"/servers/{server}/.well-known/oauth-protected-resource",
                      expect=301, redirects=False)  # fmt: skip
            meta = self.step(f, "protected_resource", "GET",
                             f"/.well-known/oauth-protected-resource/{quoted(f'servers/{server}/mcp')}")  # fmt: skip
            self.check(f, "oauth_metadata", OAUTH_SERVER in ((meta or {}).get(
                "authorization_servers") or []), "the server's authorization server not named")  # fmt: skip
        finally:
            self.cleanup(f, "delete", f"/v1/servers/{server}")

    # -- gateways ----------------------------------------------------------------------------
    def flow_gateways(self) -> None:
        f, name = "gateways", self.name()
        bench = self.bench(f)
        made = self.step(f, "create", "POST", "/v1/gateways", body={
            "name": name, "url": f"{bench}/mcp?perfkit={uuid.uuid4().hex[:12]}",
            "transport": "STREAMABLEHTTP", "description": "perfkit rest gateway", "tags": [TAG],
        })  # fmt: skip
        gateway = str(made["id"])
        self.made("gateway", gateway, name)
        try:
            self.step(f, "get", "GET", f"/v1/gateways/{gateway}")
            self.step(f, "list", "GET", "/v1/gateways?limit=50")
            refreshed = self.step(
                f, "refresh", "POST", f"/v1/gateways/{gateway}/tools/refresh"
            )
            self.check(f, "refreshed", bool((refreshed or {}).get("success")),
                       f"tools not refreshed: {(refreshed or {}).get('error')}")  # fmt: skip
            self.update_and_toggle(f, f"/v1/gateways/{gateway}")
        finally:
            self.cleanup(f, "delete", f"/v1/gateways/{gateway}")

    # -- agents (A2A) ------------------------------------------------------------------------
    def flow_agents(self) -> None:
        f, name = "agents", self.name()
        bench = self.bench(f)
        made = self.step(f, "create", "POST", "/v1/a2a", expect=201, body={
            "agent": {"name": name, "endpoint_url": f"{bench}/a2a/",
                      "description": "perfkit rest agent", "tags": [TAG]},
            "visibility": "public",
        })  # fmt: skip
        agent = str(made["id"])
        self.made("agent", agent, name)
        try:
            self.step(f, "get", "GET", f"/v1/a2a/{agent}")
            self.step(f, "list", "GET", "/v1/a2a?limit=50")
            self.update_and_toggle(f, f"/v1/a2a/{agent}")
            said = self.step(f, "invoke_by_name", "POST", f"/v1/a2a/{quoted(name)}/invoke",
                             body={"parameters": {"query": "time"}, "interaction_type": "query"})  # fmt: skip
            self.check(f, "agent_answered", "perfkit agent" in str(said),
                       "the agent's answer not passed on")  # fmt: skip
            self.step(f, "invoke", "POST", "/v1/a2a/invoke",
                      body={"agent_id": agent, "parameters": {"query": "time"}})  # fmt: skip
            self.step(f, "jsonrpc", "POST", f"/v1/a2a/{quoted(name)}/jsonrpc", body=rpc(
                "SendMessage", {"message": {"messageId": uuid.uuid4().hex, "role": "ROLE_USER",
                                            "parts": [{"text": "time"}]}}))  # fmt: skip
            self.agent_bindings(f, name)
        finally:
            self.cleanup(f, "delete", f"/v1/a2a/{agent}")

    def agent_bindings(self, f: str, agent: str) -> None:
        """A plugin binding of the agent in a team: listed, removed by id. 1.0.7 takes no
        reference id for an agent's binding (its request has no such field), so removing by
        reference finds nothing the kit made: the step measures the lookup, and must remove
        nothing."""
        team, ref = self.team_of_mine(), self.name()
        base = "/v1/a2a-agents/plugin-bindings/"
        made = self.step(f, "bind", "POST", f"{base}?team_id={team}", body={
            "agent_name": agent, "plugin_id": PLUGIN, "config": {},
        })  # fmt: skip
        binding = str(made["id"])
        self.made("agent-binding", binding, agent)
        listed = self.step(f, "bindings", "GET", f"{base}?limit=1000")
        self.check(f, "binding_listed", any(b.get("id") == binding for b in
                   (listed or {}).get("bindings") or []), "the new binding not listed")  # fmt: skip
        self.step(f, "team_bindings", "GET", f"{base}{team}")
        self.step(f, "unbind", "DELETE", f"{base}{binding}")
        gone = self.step(
            f, "unbind_ref", "DELETE", f"{base}?binding_reference_id={ref}"
        )
        self.check(f, "nothing_else_removed", (gone or {}).get("total") == 0,
                   "removing by an unused reference removed bindings")  # fmt: skip

    # -- teams -------------------------------------------------------------------------------
    def flow_teams(self) -> None:
        f, name = "teams", self.name()
        me, invited, joiner = self.me, self.others[0], self.others[-1]
        made = self.step(f, "create", "POST", "/v1/teams/", expect=201,
                         body={"name": name, "visibility": "public", "description": "perfkit"})  # fmt: skip
        team = str(made["id"])
        self.made("team", team, name)
        try:
            self.step(f, "get", "GET", f"/v1/teams/{team}")
            self.step(f, "list", "GET", "/v1/teams/?limit=50")
            self.step(
                f, "update", "PUT", f"/v1/teams/{team}", body={"description": "updated"}
            )
            self.step(f, "add_member", "POST", f"/v1/teams/{team}/members", expect=201,
                      body={"email": me.email, "role": "member"})  # fmt: skip
            members = self.step(f, "members", "GET", f"/v1/teams/{team}/members")
            self.check(f, "member_listed", any(m.get("user_email") == me.email
                                               for m in members or []), "the new member not listed")  # fmt: skip
            self.step(f, "set_role", "PUT", f"/v1/teams/{team}/members/{quoted(me.email)}",
                      body={"role": "owner"})  # fmt: skip
            self.step(f, "leave", "DELETE", f"/v1/teams/{team}/leave", who=me)
            invitation = self.step(f, "invite", "POST", f"/v1/teams/{team}/invitations",
                                   expect=201, body={"email": invited.email, "role": "member"})  # fmt: skip
            self.step(f, "invitations", "GET", f"/v1/teams/{team}/invitations")
            self.step(f, "accept", "POST", f"/v1/teams/invitations/{invitation['token']}/accept",
                      who=invited)  # fmt: skip
            self.step(f, "remove_member", "DELETE",
                      f"/v1/teams/{team}/members/{quoted(invited.email)}")  # fmt: skip
            again = self.step(f, "invite_again", "POST", f"/v1/teams/{team}/invitations",
                              expect=201, body={"email": invited.email, "role": "member"})  # fmt: skip
            self.step(
                f, "cancel_invitation", "DELETE", f"/v1/teams/invitations/{again['id']}"
            )
            found = self.step(
                f, "discover", "GET", "/v1/teams/discover?limit=100", who=me
            )
            self.check(f, "discoverable", any(t.get("id") == team for t in found or []),
                       "the public team not discoverable by a user outside it")  # fmt: skip
            request = self.step(f, "join", "POST", f"/v1/teams/{team}/join", who=joiner,
                                body={"message": "perfkit"})  # fmt: skip
            pending = self.step(
                f, "join_requests", "GET", f"/v1/teams/{team}/join-requests"
            )
            self.check(f, "request_listed", any(r.get("id") == request["id"]
                                                for r in pending or []), "the join request not listed")  # fmt: skip
            self.step(f, "approve", "POST",
                      f"/v1/teams/{team}/join-requests/{request['id']}/approve")  # fmt: skip
            refused = self.step(f, "join_again", "POST", f"/v1/teams/{team}/join", who=me,
                                body={"message": "perfkit"})  # fmt: skip
            self.step(
                f, "reject", "DELETE", f"/v1/teams/{team}/join-requests/{refused['id']}"
            )
        finally:
            self.cleanup(f, "delete", f"/v1/teams/{team}")

    # -- tokens ------------------------------------------------------------------------------
    def flow_tokens(self) -> None:
        f, me = "tokens", self.me
        made = self.step(f, "create", "POST", "/v1/tokens", who=me, expect=201,
                         body={"name": self.name(), "expires_in_days": 1})  # fmt: skip
        token, secret = str(made["token"]["id"]), str(made["access_token"])
        self.made("token", token)
        team_token = ""
        try:
            self.step(f, "list", "GET", "/v1/tokens", who=me)
            self.step(f, "get", "GET", f"/v1/tokens/{token}", who=me)
            self.step(f, "update", "PUT", f"/v1/tokens/{token}", who=me,
                      body={"description": "updated"})  # fmt: skip
            self.step(f, "usage", "GET", f"/v1/tokens/{token}/usage", who=me)
            whoami = self.step(
                f, "whoami", "GET", "/v1/auth/email/me", who=me, token=secret
            )
            self.check(f, "token_is_mine", (whoami or {}).get("email") == me.email,
                       "the API token speaks for another user")  # fmt: skip
            self.step(f, "csrf", "GET", "/v1/auth/csrf-token", who=me, token=secret)
            team = self.team_of_mine()
            made = self.step(f, "team_create", "POST", f"/v1/tokens/teams/{team}", who=me,
                             expect=201, body={"name": self.name(), "expires_in_days": 1})  # fmt: skip
            team_token = str(made["token"]["id"])
            self.made("token", team_token)
            self.step(f, "team_list", "GET", f"/v1/tokens/teams/{team}", who=me)
            self.step(
                f,
                "admin_list",
                "GET",
                f"/v1/tokens/admin/all?user_email={quoted(me.email)}",
            )
            self.step(
                f,
                "admin_revoke",
                "DELETE",
                f"/v1/tokens/admin/{team_token}",
                expect=204,
            )
        finally:
            self.cleanup(f, "revoke", f"/v1/tokens/{token}", who=me, expect=204)

    # -- rbac --------------------------------------------------------------------------------
    def flow_rbac(self) -> None:
        f, me, name = "rbac", self.me, self.name()
        self.step(f, "available", "GET", "/v1/rbac/permissions/available", who=me)
        self.step(f, "my_roles", "GET", "/v1/rbac/my/roles", who=me)
        self.step(f, "my_permissions", "GET", "/v1/rbac/my/permissions", who=me)
        made = self.step(f, "create", "POST", "/v1/rbac/roles", body={
            "name": name, "scope": "global", "permissions": ["tools.read"],
            "description": "perfkit rest role",
        })  # fmt: skip
        role = str(made["id"])
        self.made("role", role, name)
        email = quoted(me.email)
        try:
            self.step(f, "list", "GET", "/v1/rbac/roles?scope=global")
            self.step(f, "get", "GET", f"/v1/rbac/roles/{role}")
            self.step(f, "update", "PUT", f"/v1/rbac/roles/{role}",
                      body={"description": "updated"})  # fmt: skip
            self.step(f, "assign", "POST", f"/v1/rbac/users/{email}/roles",
                      body={"role_id": role, "scope": "global"})  # fmt: skip
            roles = self.step(f, "user_roles", "GET", f"/v1/rbac/users/{email}/roles")
            self.check(f, "role_given", any(r.get("role_id") == role for r in roles or []),
                       "the role given is not among the user's roles")  # fmt: skip
            self.step(
                f, "user_permissions", "GET", f"/v1/rbac/permissions/user/{email}"
            )
            checked = self.step(f, "check", "POST", "/v1/rbac/permissions/check",
                                body={"user_email": me.email, "permission": "tools.read"})  # fmt: skip
            self.check(f, "granted", bool((checked or {}).get("granted")),
                       "tools.read not granted to a user holding a role with it")  # fmt: skip
            self.step(
                f,
                "revoke",
                "DELETE",
                f"/v1/rbac/users/{email}/roles/{role}?scope=global",
            )
        finally:
            self.cleanup(f, "delete", f"/v1/rbac/roles/{role}")

    # -- users -------------------------------------------------------------------------------
    def flow_users(self) -> None:
        f = "users"
        email = f"{self.name()}@{DOMAIN}"
        password = strong_password(email)
        path = f"/v1/auth/email/admin/users/{quoted(email)}"
        self.step(f, "create", "POST", "/v1/auth/email/admin/users", expect=201,
                  body={"email": email, "password": password, "full_name": "Perfkit Rest"})  # fmt: skip
        self.made("user", email)
        try:
            self.step(f, "get", "GET", path)
            self.step(f, "list", "GET", "/v1/auth/email/admin/users?limit=50")
            self.step(
                f, "update", "PATCH", path, body={"full_name": "Perfkit Rest Patched"}
            )
            self.step(f, "replace", "PUT", path, body={"full_name": "Perfkit Rest Put"})
            self.step(f, "unlock", "POST", f"{path}/unlock")
            credentials = {"email": email, "password": password}
            self.login(f, "login", "/v1/auth/login", credentials)
            session = self.login(f, "email_login", "/v1/auth/email/login", credentials)
            user = Person(email, session, ())
            me = self.step(f, "me", "GET", "/v1/auth/email/me", who=user)
            self.check(
                f, "is_me", (me or {}).get("email") == email, "/me names another user"
            )
            self.step(f, "events", "GET", "/v1/auth/email/events?limit=20", who=user)
            self.step(f, "admin_events", "GET",
                      f"/v1/auth/email/admin/events?limit=20&user_email={quoted(email)}")  # fmt: skip
            self.step(f, "logout", "POST", "/v1/auth/logout", who=user)
        finally:
            self.cleanup(f, "delete", path)

    def login(self, f: str, step: str, path: str, credentials: dict[str, str]) -> str:
        """A login (no token sent); the session token it gave."""
        nobody = Person("-", "", ())  # who the sample names: no one is logged in yet
        answer = self.call(
            f"{f}:{step}", "POST", path, nobody, credentials, anonymous=True
        )
        token = str((answer or {}).get("access_token") or "")
        self.check(f, f"{step}_token", bool(token), f"{path} gave no access token")
        return token

    # -- exports -----------------------------------------------------------------------------
    def flow_exports(self) -> None:
        f = "exports"
        whole = self.step(f, "export", "GET", "/v1/export?types=tools,prompts")
        self.check(
            f, "exported", "entities" in (whole or {}), "the export has no entities"
        )
        ids = self.lasting_tool(f, "tools_to_pick")
        chosen = self.step(f, "export_selected", "POST", "/v1/export/selective",
                           body={"tools": ids})  # fmt: skip
        imported = self.step(f, "import_dry_run", "POST", "/v1/import", body={
            "import_data": chosen, "conflict_strategy": "skip", "dry_run": True,
        })  # fmt: skip
        status = str((imported or {}).get("status"))
        self.check(f, "import_checked", status == "completed",
                   f"the dry-run import of the selective export ended {status}")  # fmt: skip
        self.step(
            f, "import_status", "GET", f"/v1/import/status/{imported['import_id']}"
        )
        self.step(f, "import_statuses", "GET", "/v1/import/status")
        self.step(f, "import_cleanup", "POST", "/v1/import/cleanup?max_age_hours=0")

    # -- roots -------------------------------------------------------------------------------
    def flow_roots(self) -> None:
        f, name = "roots", self.name()
        uri = f"{ROOT_BASE}{name}"
        self.step(f, "add", "POST", "/v1/roots", body={"uri": uri, "name": name})
        self.made("root", uri, name)
        try:
            listed = self.step(f, "list", "GET", "/v1/roots")
            self.check(f, "root_listed", any(r.get("uri") == uri for r in listed or []),
                       f"{uri} not among the roots")  # fmt: skip
            self.step(f, "get", "GET", f"/v1/roots/{quoted(uri)}")
            self.step(
                f,
                "rename",
                "PUT",
                f"/v1/roots/{quoted(uri)}",
                body={"name": f"{name}-b"},
            )
            self.step(f, "export", "GET", f"/v1/roots/export?uri={quoted(uri)}")
        finally:
            self.cleanup(f, "remove", f"/v1/roots/{quoted(uri)}")

    # -- observe -----------------------------------------------------------------------------
    def flow_observe(self) -> None:
        f = "observe"
        reads = (
            ("version", "/v1/version"), ("health", "/health"), ("ready", "/ready"),
            ("security_health", "/health/security"), ("root", "/"),
            ("mcp_mode", "/v1/admin/runtime/mcp-mode"),
            ("well_known", "/v1/admin/well-known"),
            ("metrics", "/v1/metrics"), ("metrics_config", "/v1/api/metrics/config"),
            ("metrics_stats", "/v1/api/metrics/stats"), ("catalog", "/v1/catalog?limit=20"),
            ("trace", f"/api/logs/trace/{uuid.uuid4().hex}"),
            ("security_events", "/api/logs/security-events?limit=20"),
            ("audit_trails", "/api/logs/audit-trails?limit=20"),
            ("performance", "/api/logs/performance-metrics?hours=0.1"),
        )  # fmt: skip
        for step, path in reads:
            self.step(f, step, "GET", path)
        self.step(f, "log_search", "POST", "/api/logs/search", body={"limit": 20})

    # -- compliance --------------------------------------------------------------------------
    def flow_compliance(self) -> None:
        f = "compliance"
        self.step(f, "frameworks", "GET", "/v1/compliance/frameworks")
        end = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
        made = self.step(f, "report", "POST", "/v1/compliance/reports", expect=201, body={
            "framework": "soc2_type2",
            "period_start": (end - datetime.timedelta(days=30)).isoformat(),
            "period_end": end.isoformat(),
        })  # fmt: skip
        report = str(made["id"])
        self.step(f, "reports", "GET", "/v1/compliance/reports")
        self.step(f, "get_report", "GET", f"/v1/compliance/reports/{report}")
        self.step(f, "export_report", "GET",
                  f"/v1/compliance/reports/{report}/export?export_format=json")  # fmt: skip

    # -- protocol ----------------------------------------------------------------------------
    def flow_protocol(self) -> None:
        f, me = "protocol", self.me
        hello = {"protocol_version": Roster.protocol_version, "capabilities": {}}
        said = self.step(
            f, "initialize", "POST", "/v1/protocol/initialize", who=me, body=hello
        )
        self.check(
            f,
            "initialized",
            "serverInfo" in (said or {}),
            "initialize gave no serverInfo",
        )
        self.step(f, "ping", "POST", "/v1/protocol/ping", who=me, body=rpc("ping"))
        note = {"method": "notifications/initialized"}
        self.step(f, "notify", "POST", "/v1/protocol/notifications", who=me, body=note)
        self.step(
            f, "initialize_unversioned", "POST", "/initialize", who=me, body=hello
        )
        self.step(f, "notify_unversioned", "POST", "/notifications", who=me, body=note)
        self.step(f, "rpc_ping", "POST", "/rpc", who=me, body=rpc("ping"))
        run = self.name()
        cancelled = self.step(f, "cancel", "POST", "/v1/cancellation/cancel",
                              body={"requestId": run, "reason": "perfkit"})  # fmt: skip
        self.check(f, "cancel_queued", (cancelled or {}).get("status") in ("queued", "cancelled"),
                   f"cancel answered {cancelled}")  # fmt: skip
        self.step(
            f, "cancel_status", "GET", f"/v1/cancellation/status/{run}", expect=404
        )


# the flows' methods, checked against the names rounds.REST gives them
FLOWS: dict[str, Callable[[RestUser], None]] = {
    flow: getattr(RestUser, f"flow_{flow}") for flow in REST
}
