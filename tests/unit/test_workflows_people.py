"""Users made on demand (perfkit.workflows.people): passwords the gateway's policy accepts, who
is in which team, the ledger, and removal in the right order with the gateway's refusals - the
gateway's answers played by a recorder here (tests/integration/test_workflows.py makes and
removes real users)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import KIT_ROOT
from perfkit.workflows import people
from perfkit.workflows.people import Ledger, Made

EMAIL = "loadtest_user_1@perfkit.example.com"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Xq7#kRmZ2pWr!sGh9T", None),
        ("Xq7#kR", "shorter than 12"),
        ("xq7kmzzpwrsgh9tq", "fewer than 3"),
        ("Xq7#kLmN2pWr!sGh9T", "sequential"),  # k-l-m
        ("Xq7#kR3210Wr!sGh9T", "sequential"),  # 3-2-1
        ("Xq7#CbaZ2pWr!sGh9T", "sequential"),  # c-b-a, any case
        ("Aa1!Aa1!Aa1!Aa1!", "different characters"),
        ("Zz9!loadtest_user_1", "user name"),
    ],
)
def test_the_gateways_password_policy(password: str, problem: str | None) -> None:
    found = people.password_problem(password, EMAIL)
    assert found == problem if problem is None else problem in (found or "")


def test_a_made_password_passes_even_after_a_draw_the_policy_refuses() -> None:
    # the first draw spells a sequence ("abc..."), the next ones are random
    scripted = itertools.chain(
        "abcA1!" + "abc" * 10, iter(lambda: people.secrets.choice("xyzQRT2468#*"), None)
    )
    password = people.strong_password(EMAIL, choice=lambda _alphabet: next(scripted))
    assert people.password_problem(password, EMAIL) is None
    assert len(password) == people.PASSWORD_LENGTH


def test_everyone_is_in_a_team_and_every_third_in_two() -> None:
    pairs = people.memberships(7, 3)
    teams_of = {n: [k for m, k in pairs if m == n] for n in range(1, 8)}
    assert teams_of == {1: [1], 2: [2], 3: [1, 3], 4: [1], 5: [2], 6: [1, 3], 7: [1]}
    assert people.memberships(4, 1) == [(1, 1), (2, 1), (3, 1), (4, 1)]


def test_a_team_is_owned_by_its_first_user_and_co_owned_by_those_in_two_teams() -> None:
    """3 users in 2 teams: team 1 has two editors (a collaboration with a concurrent update),
    team 2 one owner and a viewer (a share to a plain member, an edit refused)."""
    assert people.owners(people.memberships(3, 2)) == {1: {1, 3}, 2: {2}}
    assert people.owners(people.memberships(7, 3)) == {1: {1, 3, 6}, 2: {2}, 3: {3}}
    assert people.owners(people.memberships(2, 1)) == {1: {1}}


def test_the_ledger_keeps_what_was_made_and_refuses_a_foreign_file(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "l.jsonl")
    assert ledger.entries() == []
    ledger.add(Made("team", "t1", "loadtest_team_1_abc"))
    ledger.add(Made("user", EMAIL))
    assert ledger.entries() == [
        Made("team", "t1", "loadtest_team_1_abc"),
        Made("user", EMAIL),
    ]
    (tmp_path / "l.jsonl").write_text('{"kind": "user"}\n')
    with pytest.raises(KitError, match=r"l.jsonl:1: not a ledger line") as err:
        ledger.entries()
    assert err.value.code == ExitCode.USAGE


class Gateway:
    """Answers like 1.0.7: a former team member's delete is a 500, its deactivation a 200; a
    revoked token's delete a 409; a server its workflow deleted a 404."""

    def __init__(self, members: set[str]) -> None:
        self.members = members
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        self.calls.append((method, path, body))
        if method == "DELETE" and "/admin/users/" in path:
            email = path.rsplit("/", 1)[1].replace("%40", "@")
            return (
                (500, {"detail": "Failed to delete user"})
                if email in self.members
                else (200, {})
            )
        if method == "DELETE" and "/tokens/" in path:
            return 409, {"detail": "Token already revoked"}
        if method == "DELETE" and "/servers/" in path:
            return 404, {"detail": "Server not found"}
        return 200, {}


def test_removal_order_and_what_the_gateway_cannot_delete() -> None:
    """tokens, servers, teams (their memberships end with them), other memberships, users;
    a former team member is deactivated."""
    quoted = EMAIL.replace("@", "%40")
    made = [
        Made("team", "t1", "loadtest_team_1_abc"),
        Made("user", EMAIL),
        Made("user", "loadtest_user_2@perfkit.example.com"),
        Made("member", f"t1 {EMAIL}"),
        Made("member", f"t1 {EMAIL}"),  # recorded twice: counted once
        Made("member", f"t9 {EMAIL}"),  # a team the kit did not make
        Made("server", "s1", "loadtest-share-1"),
        Made("token", "k1"),
    ]
    gateway = Gateway(members={EMAIL})
    removal = people.remove(gateway, made)
    assert [(m, p) for m, p, _ in gateway.calls] == [
        ("DELETE", "/v1/tokens/admin/k1"),
        ("DELETE", "/v1/servers/s1"),
        ("DELETE", "/v1/teams/t1"),
        ("DELETE", f"/v1/teams/t9/members/{quoted}"),
        ("DELETE", f"/v1/auth/email/admin/users/{quoted}"),
        ("GET", f"/v1/auth/email/admin/users/{quoted}"),
        ("PUT", f"/v1/auth/email/admin/users/{quoted}"),
        ("DELETE", "/v1/auth/email/admin/users/loadtest_user_2%40perfkit.example.com"),
    ]
    assert gateway.calls[6][2] == {"is_active": False}
    assert removal.deactivated == [f"user {EMAIL}"]
    assert removal.failed == []
    assert (
        people._counted(removal.removed)
        == "2 members, 1 server, 1 team, 1 token, 1 user"
    )


def test_what_the_workload_rest_made_goes_before_the_tools_and_teams_it_refers_to() -> (
    None
):
    """bindings and tokens first, then servers (they bundle tools), then what nothing refers
    to, then tools and gateways, then teams; a user its workflow deleted already (1.0.7's
    delete of an unknown user is a 500, its read a 404) counts as removed."""
    gone = "loadtest-rest-9@perfkit.example.com"
    made = [
        Made("team", "t2", "loadtest-rest-t"),
        Made("gateway", "g1"),
        Made("tool", "x1"),
        Made("role", "r1"),
        Made("root", "https://perfkit.example.com/loadtest-rest-1"),
        Made("agent", "a1"),
        Made("resource", "u1"),
        Made("prompt", "p1"),
        Made("server", "s1"),
        Made("agent-binding", "ab1"),
        Made("tool-binding", "tb1"),
        Made("user", gone),
    ]

    def gateway(method: str, path: str, body: Any) -> tuple[int, Any]:
        calls.append((method, path))
        if path.endswith("%40perfkit.example.com"):
            return (500, {}) if method == "DELETE" else (404, {})
        return (400, {}) if path == "/v1/tools/x1" else (200, {})

    calls: list[tuple[str, str]] = []
    removal = people.remove(gateway, made)
    assert [p for _, p in calls] == [
        "/v1/a2a-agents/plugin-bindings/ab1",
        "/v1/tools/plugin_bindings/tb1",
        "/v1/servers/s1",
        "/v1/a2a/a1",
        "/v1/roots/https%3A%2F%2Fperfkit.example.com%2Floadtest-rest-1",
        "/v1/prompts/p1",
        "/v1/rbac/roles/r1",
        "/v1/resources/u1",
        "/v1/gateways/g1",
        "/v1/tools/x1",  # 1.0.7's 400 for a tool it no longer has: removed
        "/v1/teams/t2",
        "/v1/auth/email/admin/users/loadtest-rest-9%40perfkit.example.com",
        "/v1/auth/email/admin/users/loadtest-rest-9%40perfkit.example.com",
    ]
    assert removal.failed == [] and removal.deactivated == []
    assert len(removal.removed) == len(made)


def test_what_sits_in_the_ledgers_teams_is_removed_even_when_unrecorded() -> None:
    """a server or prompt made in a team the kit made is the kit's: found by listing, so a
    making whose answer (or a worker's word of it) never reached the ledger is removed too;
    what sits in other teams, or in none, is left alone."""
    rows = {
        "/v1/servers": [
            {"id": "s1", "name": "loadtest-share-1", "teamId": "t1"},
            {"id": "s2", "name": "someone-elses", "teamId": "t9"},
            {"id": "s3", "name": "global", "teamId": None},
        ],
        "/v1/prompts": [{"id": "p1", "name": "loadtest-collab-1", "teamId": "t1"}],
    }
    asked = []

    def send(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        asked.append(path)
        return 200, rows.get(path.split("?")[0], [])

    ledger = [Made("team", "t1", "loadtest_team_1_abc"), Made("user", EMAIL)]
    assert people.made_in_teams(send, ledger) == [
        Made("server", "s1", "loadtest-share-1"),
        Made("prompt", "p1", "loadtest-collab-1"),
    ]
    assert all("include_inactive=true" in path for path in asked)
    no_team = [Made("user", EMAIL)]  # nothing asked
    assert people.made_in_teams(send, no_team) == []


def test_a_refused_listing_still_removes_what_the_ledger_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, str]] = []

    def send(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        calls.append((method, path))
        return (500, {"detail": "boom"}) if method == "GET" else (204, None)

    monkeypatch.setattr(people, "sender", lambda _url, _token: send)
    monkeypatch.setenv("PERFKIT_TOKEN", "t")
    ledger = tmp_path / "l.jsonl"
    Ledger(ledger).add(Made("team", "t1", "loadtest_team_1_abc"))
    assert people.cli(["clean", "--url", "u", "--ledger", str(ledger)]) == 0
    assert ("DELETE", "/v1/teams/t1") in calls
    err = capsys.readouterr().err
    assert "removing what the ledger records only" in err
    assert (
        "utils/workflows.sh clean --prefix P, P the run's prefix, once the gateway"
        in err
    )


def test_a_dry_run_asks_nothing() -> None:
    gateway = Gateway(members=set())
    removal = people.remove(gateway, [Made("user", EMAIL)], dry_run=True)
    assert gateway.calls == [] and removal.removed == [f"user {EMAIL}"]


def test_a_refused_make_removes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """the second user exists and is active (not the kit's): exit 3 naming the fix, and the
    team and first user made before it are removed again."""
    calls: list[tuple[str, str]] = []

    def send(method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        calls.append((method, path))
        if path == "/v1/teams/":
            return 201, {"id": "t1"}
        if method == "POST" and path.endswith("/admin/users"):
            assert body is not None
            if body["email"].startswith("loadtest_user_2"):
                return 409, {"detail": "User already exists"}
            return 201, {}
        if method == "GET":
            return 200, {"is_active": True}
        return 200, {}

    monkeypatch.setattr(people, "sender", lambda _url, _token: send)
    monkeypatch.setattr(people, "PARALLEL", 1)
    monkeypatch.setenv("PERFKIT_TOKEN", "t")
    ledger = tmp_path / "l.jsonl"
    with pytest.raises(
        KitError, match="already exists - an earlier run's leftovers"
    ) as err:
        people.cli(
            [
                "make",
                "--url",
                "u",
                "--users",
                "2",
                "--teams",
                "1",
                "--ledger",
                str(ledger),
            ]
        )
    assert err.value.code == ExitCode.ENV_NOT_READY
    assert ("DELETE", "/v1/teams/t1") in calls
    assert (
        "DELETE",
        "/v1/auth/email/admin/users/loadtest_user_1%40perfkit.example.com",
    ) in calls
    assert "removed 2" in capsys.readouterr().out
    assert [json.loads(line)["kind"] for line in ledger.read_text().splitlines()] == [
        "team",
        "user",
    ]


def test_no_token_no_prefix_no_second_make_on_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERFKIT_TOKEN", raising=False)
    with pytest.raises(KitError, match="no admin token in PERFKIT_TOKEN"):
        people.cli(["clean", "--url", "u", "--prefix", "loadtest"])
    with pytest.raises(SystemExit):
        people.cli(["clean", "--url", "u", "--prefix", "a_b"])
    monkeypatch.setenv("PERFKIT_TOKEN", "t")
    (tmp_path / "l.jsonl").write_text('{"kind": "user", "key": "x"}\n')
    with pytest.raises(KitError, match="records an earlier run: clean it first"):
        people.cli(
            [
                "make",
                "--url",
                "u",
                "--users",
                "1",
                "--ledger",
                str(tmp_path / "l.jsonl"),
            ]
        )


ROLES = """
import json, sys
from perfkit.workflows import people
from perfkit.workflows.locustfile import Person, collaborations, needs, sharings
users, teams = int(sys.argv[1]), int(sys.argv[2])
pairs = people.memberships(users, teams)
owned = people.owners(pairs)
roster = [
    Person(f"u{n}", "t", tuple(f"t{k}" for m, k in pairs if m == n),
           tuple(f"t{k}" for k, o in sorted(owned.items()) if n in o))
    for n in range(1, users + 1)
]
print(json.dumps({
    "share": [[s.team, s.owner.email, s.member.email, s.outsider.email] for s in sharings(roster)],
    "collaborate": [[c.team, [p.email for p in c.members]] for c in collaborations(roster)],
    "needs": {w: needs(w, roster) for w in ("share", "collaborate", "mixed", "token")},
}))
"""


def roles(users: int, teams: int) -> dict[str, Any]:
    """Who takes which part in the workflows, for the people `make` would make (in a process
    of its own: importing the Locust file patches the process for gevent)."""
    done = subprocess.run(
        [sys.executable, "-c", ROLES, str(users), str(teams)],
        env={"PYTHONPATH": str(KIT_ROOT / "utils"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_workflows_parts_follow_the_roles_people_get() -> None:
    three = roles(3, 2)
    # team 1 shares to its co-owner, team 2 to its plain member; the other team's user looks
    assert three["share"] == [["t1", "u1", "u3", "u2"], ["t2", "u2", "u3", "u1"]]
    # the owner first; team 1 edits with two owners, team 2 with an owner and a viewer
    assert three["collaborate"] == [["t1", ["u1", "u3"]], ["t2", ["u2", "u3"]]]
    assert set(three["needs"].values()) == {None}
    alone = roles(2, 2)  # nobody in two teams: no team of two
    assert alone["collaborate"] == [] and alone["share"] == []
    assert "at least 3 users in 2 teams" in alone["needs"]["mixed"]
    assert "a team of at least two users" in alone["needs"]["collaborate"]
    assert alone["needs"]["token"] is None
    pair = roles(2, 1)  # a team of two, nobody outside it
    assert pair["collaborate"] == [["t1", ["u1", "u2"]]]
    assert pair["needs"]["collaborate"] is None and pair["needs"]["share"] is not None


@pytest.mark.parametrize(
    ("what", "status", "body", "fix"),
    [
        ("user x", 429, {"detail": "Too many requests"}, "rate-limited the kit"),
        ("user x", 400, {"detail": "Password too weak"}, "password policy"),
        ("login of x", 401, {"detail": "Invalid email or password"}, "account locked"),
        ("login of x", 403, {"detail": "Password change required"}, "password change"),
        (
            "user x",
            403,
            {"detail": "Insufficient permissions"},
            "admin.user_management",
        ),
    ],
)
def test_each_refusal_names_what_to_do(
    what: str, status: int, body: dict[str, str], fix: str
) -> None:
    err = people._refused(what, status, body)
    assert err.code == ExitCode.ENV_NOT_READY
    assert f"{what}: HTTP {status}: {body['detail']}" in str(err) and fix in str(err)
