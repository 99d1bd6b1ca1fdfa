"""MANUAL_TESTING.md runs as written: every ```bash block, from the repo root, against the real
gateway (the session's `stack_url`), under `bash -euo pipefail`, each within BLOCK_TIMEOUT.

Blocks are named after the `##` heading they sit under (a second block under the same heading
gets `-2`), so a failure names the recipe. EXPECTED_OUTPUT says what each recipe must print;
a recipe without an entry there fails, so a new recipe cannot slip in untested.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

KIT_ROOT = Path(__file__).resolve().parents[2]
DOC = KIT_ROOT / "MANUAL_TESTING.md"
BLOCK_TIMEOUT = 120  # seconds per recipe
URL_DEFAULT = "GATEWAY_URL=${GATEWAY_URL:-http://127.0.0.1:4444}"
MAX_HEY_REQUESTS = 1000
MAX_HEY_CONCURRENCY = 20


@dataclass(frozen=True)
class Recipe:
    heading: str
    ordinal: int  # 1 for the first block under its heading
    code: str

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return slug if self.ordinal == 1 else f"{slug}-{self.ordinal}"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def parse_recipes(text: str) -> list[Recipe]:
    """Every ```bash block of a Markdown text with the `##` heading it sits under."""
    recipes: list[Recipe] = []
    heading = "(no heading)"
    counts: dict[str, int] = {}
    block: list[str] | None = None
    for line in text.splitlines():
        if block is not None:
            if line.strip() == "```":
                counts[heading] = counts.get(heading, 0) + 1
                recipes.append(
                    Recipe(heading, counts[heading], "\n".join(block) + "\n")
                )
                block = None
            else:
                block.append(line)
        elif line.startswith("## "):
            heading = line[3:].strip()
        elif line.strip() == "```bash":
            block = []
    assert block is None, (
        f"{DOC.name}: a ```bash block under '{heading}' is never closed"
    )
    return recipes


RECIPES = parse_recipes(DOC.read_text())

# Regular expressions (re.MULTILINE) each recipe's stdout must match.
EXPECTED_OUTPUT: dict[str, tuple[str, ...]] = {
    "log-in-and-keep-the-token": (
        r"token kept in \.state/manual/token \(\d{2,} characters\)",
    ),
    "log-in-and-keep-the-token-2": (
        r'"app":"ContextForge"',
        r"token for \S+ at http://\S+ expires in \d+ min",
    ),
    "list-tools-resources-and-prompts": (
        r"^  bench-time-1-get-system-time  \(gateway bench-time-1, enabled true\)$",
        r"^  time://timezone_info  \(timezone_info\)$",
        r"^  bench-time-1-compare-timezones  args: first_timezone, second_timezone$",
        r"^tools +[1-9]\d*$",
        r"^servers +[1-9]\d*$",
    ),
    "list-tools-resources-and-prompts-2": (
        r"^payloads/tools/tools_list\.json: [1-9]\d* tools: .*bench-time-1-get-system-time",
        r"^payloads/resources/resources_list\.json: [1-9]\d* resources: .*time://world_times",
        r"^payloads/prompts/prompts_list\.json: [1-9]\d* prompts: .*bench-time-1-compare-timezones",
    ),
    "call-a-tool-and-detect-json-rpc-errors": (
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d",
        r"^detected: unknown tool \(\.error set, HTTP 200\)$",
        r"^detected: tool failure \(\.result\.isError true, HTTP 200\)$",
    ),
    "read-a-resource": (
        r"^time://timezone_info \(application/json\):$",
        r"^  Asia/Tokyo: UTC offset 9:00:00$",
    ),
    "get-a-prompt": (
        r'"first_timezone":"UTC"',
        r"^description: \S",
        r"^user: It is \d\d:\d\d in UTC and \d\d:\d\d in Asia/Tokyo",
    ),
    "mcp-streamable-http-a-virtual-server-s-endpoint": (
        r"^bench-virtual is server [0-9a-f]{32}$",
        r"^  bench-time-1-convert-time  required: time, source_timezone, target_timezone$",
        r"^get-system-time over /servers/<id>/mcp: \d{4}-\d\d-\d\dT\d\d:\d\d",
        r"^resources: payload://100KiB, payload://1KiB, payload://1MiB, time://timezone_info, time://world_times$",
        r"^prompts: bench-time-1-compare-timezones$",
        r"^/mcp lists [1-9]\d* tools$",
    ),
    "mcp-streamable-http-a-virtual-server-s-endpoint-2": (
        r"^no token: +HTTP 401$",
        r"^unknown server id: +HTTP 404$",
        r"^Accept: text/html: +HTTP 406$",
        r"^no Content-Type: +HTTP 4\d\d$",
        r"^MCP-Protocol-Version 1999: +HTTP 400$",
    ),
    # on a stateful gateway: tests/integration/test_mcp.py runs it there (STATEFUL_RECIPES)
    "mcp-sessions-a-stateful-gateway": (
        r"^session [0-9a-f]{32}$",
        r"^initialized: HTTP 202$",
        r"^get-system-time in the session: \d{4}-\d\d-\d\dT\d\d:\d\d",
        r"^DELETE: HTTP 200$",
        r"^DELETE again: HTTP 404 ",
    ),
    "hey-post-a-tool-call-to-servers-id-mcp": (
        r"^HTTP 200: 100$",
        r"^100 answers, mean \d+\.\d ms$",
    ),
    "hey-get-health": (r"Requests/sec:", r"\[200\]\s+200 responses"),
    "hey-as-a-team-member-what-visibility-costs": (
        r"made 2 users in 2 teams",
        r"^ADMIN: [\d.]+ req/s, p50 (?!0\.0 )[\d.]+ ms, 200 x 200$",
        r"^MEMBER: [\d.]+ req/s, p50 (?!0\.0 )[\d.]+ ms, 200 x 200$",
        r"removed \d+: ",
    ),
    "hey-authenticated-get-tools-csv-and-status-codes": (
        r"^response-time,DNS\+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset$",
        r"^HTTP 200: 300$",
        r"^no answer: 0$",
        r"^mean latency: \d+\.\d ms$",
    ),
    "hey-post-rpc-with-a-payload-file": (
        r"^HTTP 200: 100$",
        r"^100 answers, mean \d+\.\d ms$",
    ),
    "health-watch-bounded": (r"#5 HTTP 200 .* status=healthy", r"^5/5 healthy$"),
    "token-expiry": (
        r"^issuer mcpgateway, audience mcpgateway-api, subject \S+$",
        r"^expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in \d+ s\)$",
        r"^still valid$",
    ),
    "benchmark-one-endpoint-with-the-kit": (
        r"^adhoc/get_tools_limit_10 +ok +1 ",
        r"^adhoc/post_rpc +ok +1 ",
    ),
    "benchmark-one-endpoint-with-the-kit-2": (
        r"^adhoc/get_health +ok +1 ",
        r"1 tests: 1 ok, 0 failed",
    ),
    "post-deploy-smoke-script": (
        r"^smoke: ok   /tools lists \d+ tools, bench-time-1-get-system-time among them$",
        r"^smoke: ok   bench-time-1-get-system-time answered \d{4}-\d\d-\d\dT",
        r"^smoke: all checks passed against http://",
    ),
}


def recipe(recipe_id: str) -> Recipe:
    return next(r for r in RECIPES if r.id == recipe_id)


def user_env(url: str, **overrides: str) -> dict[str, str]:
    """A developer's shell: no PERF_* or GATEWAY_URL leaking in from the test runner."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERF_") and k != "GATEWAY_URL"
    }
    env["GATEWAY_URL"] = url
    env.update(overrides)
    return env


def run_block(code: str, env: dict[str, str]) -> Outcome:
    """The block under `bash -euo pipefail` from the repo root; its whole process group is
    killed when it outlives BLOCK_TIMEOUT (so no hey is left behind)."""
    with subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=KIT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"block ran longer than {BLOCK_TIMEOUT}s\n{stdout}\n{stderr}")
    return Outcome(proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def gateway_url(stack_url: str) -> str:
    return stack_url.rstrip("/")


# recipes for a gateway started with USE_STATEFUL_SESSIONS=true: test_mcp.py runs them on its
# stateful stack (check_recipe); on the session's stateless stack they must stop plainly
STATEFUL_RECIPES = ("mcp-sessions-a-stateful-gateway",)


def check_recipe(item: Recipe, url: str) -> None:
    """The recipe runs as written against the gateway at url and prints what it should."""
    outcome = run_block(item.code, user_env(url))
    assert outcome.code == 0, (
        f"recipe '{item.heading}' #{item.ordinal} failed: {outcome.explain()}"
    )
    for pattern in EXPECTED_OUTPUT.get(item.id, ()):
        assert re.search(pattern, outcome.stdout, re.MULTILINE), (
            f"recipe '{item.heading}' #{item.ordinal}: stdout lacks /{pattern}/\n{outcome.explain()}"
        )


STATELESS = [r for r in RECIPES if r.id not in STATEFUL_RECIPES]


@pytest.mark.parametrize("item", STATELESS, ids=[r.id for r in STATELESS])
def test_recipe_runs_as_written(item: Recipe, gateway_url: str) -> None:
    check_recipe(item, gateway_url)


@pytest.mark.parametrize("recipe_id", STATEFUL_RECIPES)
def test_stateful_recipe_stops_plainly_on_a_stateless_gateway(
    recipe_id: str, gateway_url: str
) -> None:
    outcome = run_block(recipe(recipe_id).code, user_env(gateway_url))
    assert outcome.code == 1, outcome.explain()
    assert "this gateway is stateless" in outcome.stderr, outcome.explain()


def test_every_recipe_has_expected_output() -> None:
    ids = [r.id for r in RECIPES]
    assert len(ids) == len(set(ids))
    assert sorted(set(ids) - set(EXPECTED_OUTPUT)) == [], (
        "recipes without EXPECTED_OUTPUT"
    )
    assert sorted(set(EXPECTED_OUTPUT) - set(ids)) == [], (
        "EXPECTED_OUTPUT for recipes not in the doc"
    )


def test_every_recipe_defaults_the_gateway_url() -> None:
    assert [r.id for r in RECIPES if URL_DEFAULT not in r.code] == []


def test_recipes_log_in_once_and_reuse_the_cached_token() -> None:
    """/auth/login allows ~10 requests a minute: only the login and smoke recipes log in (once
    each); every other recipe that sends a token takes it from utils/setup-auth.sh's cache."""
    logins = {
        r.id: r.code.count("/auth/login") for r in RECIPES if "/auth/login" in r.code
    }
    assert logins == {"log-in-and-keep-the-token": 1, "post-deploy-smoke-script": 1}
    uncached = [
        r.id
        for r in RECIPES
        if "Bearer" in r.code
        and r.id not in logins
        and "utils/setup-auth.sh" not in r.code
    ]
    assert uncached == []


def hey_commands(code: str) -> list[str]:
    joined = code.replace("\\\n", " ")
    return [line for line in joined.splitlines() if re.match(r"\s*hey\s", line)]


def test_load_stays_small_bounded_and_on_the_target() -> None:
    commands = [c for r in RECIPES for c in hey_commands(r.code)]
    assert len(commands) >= 3
    for command in commands:
        requests = re.search(r"\s-n\s+(\d+)", command)
        concurrency = re.search(r"\s-c\s+(\d+)", command)
        assert requests and int(requests.group(1)) <= MAX_HEY_REQUESTS, command
        assert concurrency and int(concurrency.group(1)) <= MAX_HEY_CONCURRENCY, command
        assert " -z " not in command, command
        assert '"$GATEWAY_URL/' in command, command
    unbounded = [
        r.id for r in RECIPES if re.search(r"while\s+(true|:)|until\s+false", r.code)
    ]
    assert unbounded == []


def test_smoke_script_fails_on_a_missing_tool(gateway_url: str) -> None:
    outcome = run_block(
        recipe("post-deploy-smoke-script").code,
        user_env(gateway_url, SMOKE_TOOL="no-such-tool"),
    )
    assert outcome.code != 0
    assert "smoke: FAIL: tool no-such-tool not listed (have: " in outcome.stderr
    assert "all checks passed" not in outcome.stdout


def test_smoke_script_fails_when_the_gateway_does_not_answer() -> None:
    outcome = run_block(
        recipe("post-deploy-smoke-script").code, user_env("http://127.0.0.1:9")
    )
    assert outcome.code != 0
    assert "smoke: FAIL: GET /health did not answer 200" in outcome.stderr
