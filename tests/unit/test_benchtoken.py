"""The benchmark token (perfkit.benchtoken): the role, user and grant brought to what they must
be, the token's request, the ledger, leftovers of killed runs, the gateway's refusals - the
gateway played by a small in-memory fake here (tests/integration/test_secrets.py issues, uses
and revokes real tokens)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from perfkit import benchtoken
from perfkit.benchtoken import BENCH_EMAIL, PERMISSIONS, Issued, Unavailable
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import KIT_ROOT
from perfkit.results.run import parse_load_as

URL = "http://127.0.0.1:4487"


class FakeGateway:
    """The few endpoints the module calls, with 1.0.7's answers; `fail` maps a
    (METHOD, path) to the status it answers instead."""

    def __init__(self, **state: Any) -> None:
        self.roles: list[dict[str, Any]] = state.get("roles", [])
        self.users: dict[str, dict[str, Any]] = state.get("users", {})
        self.grants: list[dict[str, Any]] = state.get("grants", [])
        self.tokens: dict[str, dict[str, Any]] = {}
        self.fail: dict[tuple[str, str], int] = state.get("fail", {})
        self.calls: list[tuple[str, str, Any]] = []
        self.owner: str | None = state.get("owner")  # whom POST /tokens issues to

    def __call__(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[int, Any]:
        self.calls.append((method, path, body))
        if (method, path) in self.fail:
            return self.fail[(method, path)], {"detail": "Access denied"}
        if (method, path) == ("GET", "/rbac/roles"):
            return 200, self.roles
        if (method, path) == ("POST", "/rbac/roles"):
            role = {**(body or {}), "id": f"role-{len(self.roles) + 1}"}
            self.roles.append(role)
            return 200, role
        if method == "PUT" and path.startswith("/rbac/roles/"):
            [role] = [r for r in self.roles if r["id"] == path.rsplit("/", 1)[1]]
            role.update(body or {})
            return 200, role
        if path.startswith("/auth/email/admin/users"):
            email = path.rsplit("/", 1)[1]
            if method == "GET":
                return (
                    (200, self.users[email])
                    if email in self.users
                    else (404, {"detail": "no"})
                )
            if method == "POST":
                assert body is not None
                self.users[body["email"]] = dict(body)
                return 201, body
            self.users[email].update(body or {})
            return 200, self.users[email]
        if path.endswith("/roles") and path.startswith("/rbac/users/"):
            if method == "GET":
                return 200, self.grants
            self.grants.append({**(body or {}), "is_active": True})
            return 200, self.grants[-1]
        if (method, path) == ("POST", "/tokens"):
            token_id = f"tok-{len(self.tokens) + 1}"
            self.tokens[token_id] = dict(body or {})
            owner = self.owner or (body or {}).get("user_email")
            info = {
                "id": token_id,
                "expires_at": "2026-12-07T08:00:00.000001",
                "user_email": owner,
            }
            return 201, {"token": info, "access_token": f"secret-{token_id}"}
        if method == "DELETE" and path.startswith("/tokens/admin/"):
            token_id = path.rsplit("/", 1)[1]
            return (
                (204, None)
                if self.tokens.pop(token_id, None) is not None
                else (404, {})
            )
        raise AssertionError(f"unexpected call {method} {path}")


def test_a_fresh_gateway_gets_the_role_the_user_the_grant_then_a_scoped_day_long_token() -> (
    None
):
    gateway = FakeGateway()
    secret, issued = benchtoken.issue(
        gateway, URL, BENCH_EMAIL, os.getpid(), "/runs/r1"
    )
    assert secret == "secret-tok-1" and issued.id == "tok-1"
    [role] = gateway.roles
    assert role["name"] == benchtoken.ROLE_NAME and role["scope"] == "global"
    assert role["permissions"] == list(PERMISSIONS)
    user = gateway.users[BENCH_EMAIL]
    assert user["is_admin"] is False and user["password_change_required"] is False
    assert gateway.grants == [
        {"role_id": role["id"], "scope": "global", "is_active": True}
    ]
    request = gateway.tokens["tok-1"]
    assert request["user_email"] == BENCH_EMAIL
    assert request["expires_in_days"] == 1
    assert request["scope"] == {"permissions": list(PERMISSIONS)}
    assert issued.pid == os.getpid() and issued.pid_started is not None
    assert issued.run_dir == "/runs/r1" and issued.url == URL


def test_nothing_administrative_is_in_the_scope() -> None:
    administrative = ("create", "update", "delete", "manage", "revoke", "invite")
    assert not [p for p in PERMISSIONS if p.split(".")[1].startswith(administrative)]
    assert not [
        p
        for p in PERMISSIONS
        if p.split(".")[0] in {"admin", "users", "teams", "tokens"}
    ]
    # and what every scenario's requests need (docs: token scoping of 1.0.7)
    assert {"tools.execute", "servers.use", "gateways.read", "prompts.read"} <= set(
        PERMISSIONS
    )


def test_a_second_run_makes_nothing_again_and_a_changed_role_is_set_back() -> None:
    gateway = FakeGateway()
    benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    gateway.roles[0]["permissions"] = ["tools.read", "users.create"]
    gateway.calls.clear()
    benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    made = [(m, p) for m, p, _ in gateway.calls if m in {"POST", "PUT"}]
    assert made == [("PUT", "/rbac/roles/role-1"), ("POST", "/tokens")]
    assert gateway.roles[0]["permissions"] == list(PERMISSIONS)


def test_a_deactivated_benchmark_user_is_made_active_again() -> None:
    gateway = FakeGateway(
        users={BENCH_EMAIL: {"email": BENCH_EMAIL, "is_active": False}}
    )
    benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    assert gateway.users[BENCH_EMAIL]["is_active"] is True


def test_a_benchmark_user_who_became_an_admin_is_refused() -> None:
    gateway = FakeGateway(users={BENCH_EMAIL: {"email": BENCH_EMAIL, "is_admin": True}})
    with pytest.raises(Unavailable, match="is a platform admin on this gateway"):
        benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    assert not gateway.tokens


@pytest.mark.parametrize(
    ("fail", "said"),
    [
        (("POST", "/tokens"), "HTTP 404"),
        (("GET", "/rbac/roles"), "no such API"),
    ],
)
def test_a_gateway_without_the_api_is_unavailable_exit_3(
    fail: tuple[str, str], said: str
) -> None:
    gateway = FakeGateway(fail={fail: 404})
    with pytest.raises(Unavailable, match=said) as raised:
        benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    assert raised.value.code == ExitCode.ENV_NOT_READY


def test_a_release_that_ignores_user_email_gets_its_token_revoked_at_once() -> None:
    gateway = FakeGateway(owner="admin@example.com")
    with pytest.raises(Unavailable, match="issued the token to admin@example.com, not"):
        benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")
    assert ("DELETE", "/tokens/admin/tok-1", None) in gateway.calls
    assert gateway.tokens == {}


def test_a_login_that_is_no_admin_is_told_why() -> None:
    gateway = FakeGateway(fail={("GET", "/auth/email/admin/users/" + BENCH_EMAIL): 403})
    with pytest.raises(Unavailable, match="platform admin's: auth.email"):
        benchtoken.issue(gateway, URL, BENCH_EMAIL, os.getpid(), "")


def issued(
    token_id: str, pid: int, started: float | None, expires: str | None = None
) -> Issued:
    return Issued(
        URL, token_id, f"n-{token_id}", BENCH_EMAIL, "/r", pid, started, "t", expires
    )


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_the_ledger_is_owner_only_and_keeps_lines_until_dropped(tmp_path: Path) -> None:
    ledger = tmp_path / "auth" / benchtoken.LEDGER_FILE
    benchtoken._add(ledger, issued("a", 1, None))
    benchtoken._add(ledger, issued("b", 1, None))
    assert ledger.stat().st_mode & 0o777 == 0o600
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["a", "b"]
    benchtoken._drop(ledger, URL, {"a"})
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["b"]
    assert benchtoken.load_ledger(tmp_path / "none.json") == []


def test_only_the_tokens_of_runs_that_are_gone_are_leftovers() -> None:
    me = os.getpid()
    assert not benchtoken.owner_gone(issued("live", me, benchtoken.process_started(me)))
    assert benchtoken.owner_gone(issued("dead", dead_pid(), None))
    # the PID taken again by another process: the run is gone
    assert benchtoken.owner_gone(issued("reused", me, 1.0))
    assert benchtoken.expired(issued("old", me, None, "2020-01-01T00:00:00"), 1.8e9)
    assert not benchtoken.expired(issued("new", me, None, "2099-01-01T00:00:00"), 1.8e9)


def run_cli(
    argv: list[str], token: str = "admin-secret"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(KIT_ROOT / "utils"), "PERFKIT_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "perfkit", "bench-token", *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_leftovers_revokes_a_killed_runs_token_keeps_a_running_ones_and_drops_expired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / benchtoken.LEDGER_FILE
    gateway = FakeGateway()
    gateway.tokens = {"killed": {}, "running": {}}
    me = os.getpid()
    for token in (
        issued("killed", dead_pid(), None, "2099-01-01T00:00:00"),
        issued("running", me, benchtoken.process_started(me), "2099-01-01T00:00:00"),
        issued("expired", dead_pid(), None, "2020-01-01T00:00:00"),
    ):
        benchtoken._add(ledger, token)
    monkeypatch.setattr(benchtoken, "sender", lambda url, token: gateway)
    monkeypatch.setenv("PERFKIT_TOKEN", "admin-secret")
    assert benchtoken.cli(["leftovers", "--url", URL, "--ledger", str(ledger)]) == 0
    deleted = [p for m, p, _ in gateway.calls if m == "DELETE"]
    assert deleted == ["/tokens/admin/killed"]
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["running"]
    assert "revoked 2 benchmark token(s)" in capsys.readouterr().err


def test_issue_prints_the_token_its_id_and_an_identity_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = FakeGateway()
    monkeypatch.setattr(benchtoken, "sender", lambda url, token: gateway)
    monkeypatch.setenv("PERFKIT_TOKEN", "admin-secret")
    ledger = tmp_path / benchtoken.LEDGER_FILE
    argv = [
        "issue",
        "--url",
        URL,
        "--ledger",
        str(ledger),
        "--owner-pid",
        str(os.getpid()),
    ]
    assert benchtoken.cli(argv) == 0
    secret, token_id, identity = capsys.readouterr().out.splitlines()
    assert (secret, token_id) == ("secret-tok-1", "tok-1")
    who = json.loads(identity)
    assert who["kind"] == "benchmark-token" and who["email"] == BENCH_EMAIL
    assert who["permissions"] == list(PERMISSIONS) and who["token_id"] == "tok-1"
    assert "secret" not in identity
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["tok-1"]
    # revoked: gone from the gateway and from the ledger
    assert (
        benchtoken.cli(
            ["revoke", "--url", URL, "--ledger", str(ledger), "--id", "tok-1"]
        )
        == 0
    )
    assert gateway.tokens == {} and benchtoken.load_ledger(ledger) == []


def test_revoke_by_owner_pid_revokes_that_process_tokens_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = FakeGateway()
    monkeypatch.setattr(benchtoken, "sender", lambda url, token: gateway)
    monkeypatch.setenv("PERFKIT_TOKEN", "admin-secret")
    ledger = tmp_path / benchtoken.LEDGER_FILE
    mine, other = os.getpid(), os.getppid()
    for token in (
        issued("mine-1", mine, None),
        issued("mine-2", mine, None),
        issued("other", other, None),
    ):
        benchtoken._add(ledger, token)
    argv = ["revoke", "--url", URL, "--ledger", str(ledger), "--owner-pid", str(mine)]
    assert benchtoken.cli(argv) == 0
    deleted = [p for m, p, _ in gateway.calls if m == "DELETE"]
    assert deleted == ["/tokens/admin/mine-1", "/tokens/admin/mine-2"]
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["other"]
    # nothing left of that process: said, and nothing sent
    assert benchtoken.cli(argv) == 0
    assert len(gateway.calls) == 2
    assert f"no benchmark token of process {mine}" in capsys.readouterr().err


def test_a_revocation_the_gateway_refuses_keeps_the_ledger_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = FakeGateway(fail={("DELETE", "/tokens/admin/tok-9"): 500})
    monkeypatch.setattr(benchtoken, "sender", lambda url, token: gateway)
    monkeypatch.setenv("PERFKIT_TOKEN", "admin-secret")
    ledger = tmp_path / benchtoken.LEDGER_FILE
    benchtoken._add(ledger, issued("tok-9", os.getpid(), None))
    with pytest.raises(
        Unavailable, match="revoking the benchmark token tok-9: HTTP 500"
    ):
        benchtoken.cli(
            ["revoke", "--url", URL, "--ledger", str(ledger), "--id", "tok-9"]
        )
    assert [t.id for t in benchtoken.load_ledger(ledger)] == ["tok-9"]


def test_without_the_users_token_in_the_environment_it_is_a_usage_error(
    tmp_path: Path,
) -> None:
    done = run_cli(
        ["revoke", "--url", URL, "--ledger", str(tmp_path / "l.json"), "--id", "x"],
        token="",
    )
    assert done.returncode == 2
    assert "no token in PERFKIT_TOKEN" in done.stderr


def test_the_identity_of_a_run_on_the_users_own_token_and_of_one_without_any() -> None:
    user = run_cli(
        [
            "as-user",
            "--email",
            "admin@example.com",
            "--reason",
            "no benchmark token: HTTP 404",
        ]
    )
    who = json.loads(user.stdout)
    assert who["kind"] == "user-token" and who["permissions"] is None
    assert "HTTP 404" in who["note"]
    text = benchtoken.load_as_text(who)
    assert text is not None and "the user's own token" in text and "HTTP 404" in text
    none = json.loads(run_cli(["as-user", "--none"]).stdout)
    assert benchtoken.load_as_text(none) == "no token (--no-auth)"
    bench = benchtoken.load_as_text(
        {"kind": "benchmark-token", "email": BENCH_EMAIL, "permissions": ["tools.read"]}
    )
    assert (
        bench
        == f"{BENCH_EMAIL}: a benchmark token of this run's, revoked at its end; permissions tools.read"
    )
    assert benchtoken.load_as_text(None) is None


def test_run_init_takes_the_identity_and_refuses_what_is_not_one() -> None:
    assert parse_load_as("") is None
    assert parse_load_as('{"kind": "none", "email": null}') == {
        "kind": "none",
        "email": None,
    }
    with pytest.raises(KitError, match="is not an identity object"):
        parse_load_as('["kind"]')
    with pytest.raises(KitError, match="is not an identity object"):
        parse_load_as("eyJhbGciOi.not-json")


def test_no_script_of_the_kit_puts_a_token_on_a_command_line() -> None:
    """A header with a token is written by bash's own printf (into a pipe or a 0600 file),
    never given as an argument to curl, jq, env or any other program - hey's arguments aside,
    which carry the run's benchmark token (perf_hey_args)."""
    scripts = [
        *KIT_ROOT.glob("run-*.sh"),
        *(KIT_ROOT / "utils").rglob("*.sh"),
        *(KIT_ROOT / "scenarios").glob("*.sh"),
        KIT_ROOT / "Makefile",
    ]
    leaks = [
        f"{path.relative_to(KIT_ROOT)}: {line.strip()}"
        for path in scripts
        for line in path.read_text().splitlines()
        if re.search(r'Bearer \$|"PERFKIT_TOKEN=|--arg token', line)
        and not re.match(r"\s*(#|printf 'Authorization: Bearer %s\\n')", line)
        and "printf 'Authorization: Bearer %s\\n'" not in line
        and "PERF_HEY_ARGS+=" not in line
    ]
    assert leaks == []


def test_the_manual_hey_recipes_send_a_benchmark_token() -> None:
    """MANUAL_TESTING.md's hey lines carry $BENCH (utils/setup-auth.sh --bench-token), never the
    login's $TOKEN; the one exception measures the admin itself and says so."""
    doc = (KIT_ROOT / "MANUAL_TESTING.md").read_text()
    hey_auth = [
        line.strip()
        for line in doc.splitlines()
        if re.match(r"\s*hey ", line) and "Authorization" in line
    ]
    assert len(hey_auth) >= 3
    others = [line for line in hey_auth if "Bearer $BENCH" not in line]
    assert others == [
        'hey -n 200 -c 10 -t 20 -H "Authorization: Bearer ${!who}" "$GATEWAY_URL/tools?limit=50" |'
    ]
    assert "not to paste on a shared machine" in doc
    assert doc.count("--bench-token --owner-pid $$") == doc.count(
        "--revoke-bench --owner-pid $$"
    )


def test_who_the_load_ran_as_is_part_of_the_fingerprint_not_the_token_id() -> None:
    from perfkit.results.samples import fingerprint_differences, load_as_key

    def bench(token_id: str) -> dict[str, Any]:
        return asdict(
            benchtoken.identity_of(
                Issued(URL, token_id, "n", BENCH_EMAIL, "/r", 1, None, "t", "x")
            )
        )

    admin = {"kind": "user-token", "email": "admin@example.com", "permissions": None}
    # every run has a token of its own: the same identity all the same
    assert (
        fingerprint_differences(
            {"load_as": load_as_key(bench("a"))}, {"load_as": load_as_key(bench("b"))}
        )
        == []
    )
    found = fingerprint_differences(
        {"load_as": load_as_key(admin)}, {"load_as": load_as_key(bench("b"))}
    )
    before = "user-token of admin@example.com (all the user's permissions)"
    after = f"benchmark-token of {BENCH_EMAIL} (permissions {', '.join(sorted(PERMISSIONS))})"
    assert found == [f"load_as: {before} -> {after}"]
    # a baseline from before the kit recorded it is not held against the run
    assert fingerprint_differences({}, {"load_as": load_as_key(admin)}) == []
    assert load_as_key({"kind": "none", "email": None}) == "no token"
    assert load_as_key(None) is None
