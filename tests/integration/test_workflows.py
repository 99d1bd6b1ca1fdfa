"""Users in teams made on demand and removed again (make workflows-users / workflows-clean)
against the real gateway, checked through its own admin API."""

from __future__ import annotations

import json
import stat
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from conftest import KIT_ROOT, kit_env, run

PREFIX = "it-wf"
STATE = KIT_ROOT / ".state" / "workflows"


def ask(url: str, token: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def test_users_in_teams_log_in_and_are_gone_after_clean(
    stack_url: str, tmp_path: Path
) -> None:
    env = kit_env(
        PERF_BASE_URL=stack_url, PERF_TOKEN_CACHE=str(tmp_path / "token.json")
    )
    admin = run(
        ["utils/setup-auth.sh", "--url", stack_url, "--print"], env
    ).stdout.strip()
    made = run(
        ["make", "workflows-users", "USERS=3", "TEAMS=2", f"PREFIX={PREFIX}"], env
    )
    assert made.code == 0, made.stderr[-2000:]
    assert "made 3 users in 2 teams (4 memberships)" in made.stdout
    tokens_file = STATE / f"{PREFIX}.tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    tokens = json.loads(tokens_file.read_text())
    assert all(t["token"] not in made.stdout + made.stderr for t in tokens.values())
    emails = sorted(tokens)
    assert emails == [f"{PREFIX}_user_{n}@perfkit.example.com" for n in (1, 2, 3)]
    for email, entry in tokens.items():
        # each user is who the token says, in the teams the plan put them in
        status, teams = ask(f"{stack_url}/v1/teams/", entry["token"])
        assert status == 200, teams
        rows = teams["teams"] if isinstance(teams, dict) else teams
        mine = {t["id"] for t in rows if t["name"].startswith(f"{PREFIX}_team_")}
        assert mine == set(entry["teams"]), email
    assert len(tokens[emails[2]]["teams"]) == 2  # every third user is in two teams

    dry = run(["make", "workflows-clean", f"PREFIX={PREFIX}", "DRY_RUN=1"], env)
    assert dry.code == 0 and "would remove 9" in dry.stdout, dry.stdout + dry.stderr
    cleaned = run(["make", "workflows-clean", f"PREFIX={PREFIX}"], env)
    assert cleaned.code == 0, cleaned.stderr[-2000:]
    assert not tokens_file.exists() and not (STATE / f"{PREFIX}.ledger.jsonl").exists()
    for email in emails:
        status, user = ask(
            f"{stack_url}/v1/auth/email/admin/users/{urllib.parse.quote(email)}", admin
        )
        # deleted, or - a former team member the gateway cannot delete - deactivated
        assert status == 404 or (status == 200 and user["is_active"] is False), user
        status, _ = ask(f"{stack_url}/v1/tools?limit=1", tokens[email]["token"])
        assert status in (401, 403), f"{email}'s token still works after clean"
    status, teams = ask(f"{stack_url}/v1/teams/?limit=500", admin)
    rows = teams["teams"] if isinstance(teams, dict) else teams
    assert not [t for t in rows if t["name"].startswith(f"{PREFIX}_team_")]
    # a second round with the same prefix works: deactivated users are made active again
    again = run(["make", "workflows-users", "USERS=1", f"PREFIX={PREFIX}"], env)
    assert again.code == 0, again.stderr[-2000:]
    assert run(["make", "workflows-clean", f"PREFIX={PREFIX}"], env).code == 0


def test_no_gateway_is_exit_3_naming_the_fix() -> None:
    result = run(
        ["utils/workflows.sh", "clean", "--url", "http://127.0.0.1:9"], kit_env()
    )
    assert result.code == 3
    assert (
        "no gateway answers at http://127.0.0.1:9; start one (make up) or pass --url"
        in (result.stderr)
    )
