"""perfkit auth: the JWT `exp`, the token cache (mode, atomic replace), when a cached token is
usable, the login-failure messages, and the auth CLI (store, cached, expiry, body)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import time
from pathlib import Path

import pytest
from perfkit import auth
from perfkit.auth import (
    CachedToken,
    jwt_exp,
    login_failure,
    read_cache,
    usable,
    write_cache,
)
from perfkit.cli import main
from perfkit.exitcodes import ExitCode, KitError

KIT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:4444"
EMAIL = "admin@example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(**claims: object) -> str:
    """A token shaped like the gateway's (HS256 header, session claims, opaque signature)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = {
        "sub": "f43e6361-13bc-4960-92c4-d53d294d8c4a",
        "iss": "mcpgateway",
        "aud": "mcpgateway-api",
        "iat": 1795261687,
        "token_use": "session",
        "scopes": {"server_id": None, "permissions": ["*"]},
    } | claims
    payload = b64url(json.dumps(body).encode())
    return f"{header}.{payload}.{b64url(b'not-a-real-signature-0123456789')}"


# --- jwt_exp ---


@pytest.mark.parametrize("pad", ["", "x", "xx", "xxx"])  # every base64 padding length
def test_jwt_exp_reads_the_claim(pad: str) -> None:
    token = make_jwt(exp=1795262887, jti=f"09d56f8e{pad}")
    assert "=" not in token  # JWTs carry no padding: jwt_exp must restore it
    assert jwt_exp(token) == 1795262887


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.%%%.c",
        f"a.{b64url(b'not json')}.c",
        make_jwt(),  # no exp
        make_jwt(exp="soon"),
        make_jwt(exp=None),
        f"a.{b64url(b'[1, 2]')}.c",
    ],
)
def test_jwt_exp_refuses_unreadable_tokens(token: str) -> None:
    with pytest.raises(KitError) as caught:
        jwt_exp(token)
    assert caught.value.code is ExitCode.ENV_NOT_READY
    assert "no readable JWT 'exp' claim" in str(caught.value)


# --- cache ---


def cached(exp: int, url: str = URL, email: str = EMAIL) -> CachedToken:
    return CachedToken(url, email, make_jwt(exp=exp), exp)


def test_cache_round_trip_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "auth" / "token.json"
    token = cached(1795262887)
    write_cache(path, token)
    assert read_cache(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {
        "tokens": [
            {
                "url": URL,
                "email": EMAIL,
                "access_token": token.access_token,
                "exp": 1795262887,
                "iat": None,
            }
        ]
    }


def test_cache_keeps_one_token_per_gateway_and_email(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    first = cached(2000000000)
    other_gateway = cached(2000000100, url="http://127.0.0.1:4461")
    write_cache(path, first, now=NOW)
    write_cache(path, other_gateway, now=NOW)
    assert read_cache(path, URL, EMAIL) == first
    assert read_cache(path, "http://127.0.0.1:4461", EMAIL) == other_gateway
    assert read_cache(path) == other_gateway, "without a key: the newest token"
    renewed = cached(2000000500)
    write_cache(path, renewed, now=NOW)
    assert read_cache(path, URL, EMAIL) == renewed
    assert len(json.loads(path.read_text())["tokens"]) == 2


def test_cache_drops_expired_tokens_of_other_gateways(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    write_cache(path, cached(int(NOW) - 10, url="http://127.0.0.1:4461"), now=NOW)
    write_cache(path, cached(2000000000), now=NOW)
    assert read_cache(path, "http://127.0.0.1:4461", EMAIL) is None


def test_cache_reads_the_old_single_token_format(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text(
        json.dumps({"url": URL, "email": EMAIL, "access_token": "t", "exp": 5})
    )
    assert read_cache(path, URL, EMAIL) == CachedToken(URL, EMAIL, "t", 5)


def test_margin_never_exceeds_half_the_token_lifetime() -> None:
    short = CachedToken(URL, EMAIL, "t", exp=int(NOW) + 200, iat=int(NOW) - 400)
    # a 600 s token with 200 s left: a 900 s margin would refuse it forever; half-life is 300
    assert not usable(short, URL, EMAIL, 900, NOW)
    fresh = CachedToken(URL, EMAIL, "t", exp=int(NOW) + 590, iat=int(NOW) - 10)
    assert usable(fresh, URL, EMAIL, 900, NOW)
    assert not usable(
        CachedToken(URL, EMAIL, "t", exp=int(NOW) + 590), URL, EMAIL, 900, NOW
    )


def test_cache_replace_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    inode = path.stat().st_ino
    write_cache(path, cached(2000000000))
    assert (
        path.stat().st_ino != inode
    )  # a new file renamed over the old one, not rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token.json"]


def test_failed_cache_write_keeps_the_old_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "token.json"
    old = cached(1900000000)
    write_cache(path, old)

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(auth.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        write_cache(path, cached(2000000000))
    assert read_cache(path) == old
    assert [p.name for p in tmp_path.iterdir()] == ["token.json"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"url": "x"}',
        '{"url": 1, "email": 2, "access_token": 3, "exp": "x"}',
    ],
)
def test_unreadable_cache_is_no_cache(tmp_path: Path, text: str) -> None:
    path = tmp_path / "token.json"
    path.write_text(text)
    assert read_cache(path) is None


def test_missing_cache_is_no_cache(tmp_path: Path) -> None:
    assert read_cache(tmp_path / "absent.json") is None


# --- usable ---

NOW = 1_800_000_000.0


def test_usable_when_url_email_and_time_fit() -> None:
    assert usable(cached(int(NOW) + 600), URL, EMAIL, 120, NOW)


@pytest.mark.parametrize(
    ("token", "url", "email"),
    [
        (None, URL, EMAIL),
        (cached(int(NOW) + 600), "http://127.0.0.1:4445", EMAIL),  # another gateway
        (cached(int(NOW) + 600), URL, "other@example.com"),
    ],
)
def test_not_usable_for_another_gateway_or_account(
    token: CachedToken | None, url: str, email: str
) -> None:
    assert not usable(token, url, email, 120, NOW)


@pytest.mark.parametrize(
    ("left", "margin", "ok"),
    [(600, 120, True), (121, 120, True), (120, 120, False), (100, 120, False),
     (100, 0, True), (-1, 0, False)],
)  # fmt: skip
def test_usable_keeps_a_margin_before_exp(left: int, margin: int, ok: bool) -> None:
    assert usable(cached(int(NOW) + left), URL, EMAIL, margin, NOW) is ok


# --- login failures ---

FAILURES = {  # status, body -> what the message must say
    ("000", ""): "did not answer POST /auth/login; is it running?",
    ("401", '{"detail":"Invalid email or password"}'): "wrong email or password for admin@example.com (HTTP 401",
    ("403", '{"detail":"Password change required"}'): "login refused for admin@example.com (HTTP 403",
    ("423", '{"detail":"Too many attempts"}'): "account admin@example.com is locked out",
    ("429", '{"detail":"Rate limit exceeded"}'): "rate-limited the login (HTTP 429)",
    ("401", '{"detail":"Account is LOCKED until 12:00"}'): "account admin@example.com is locked out",
    ("500", "Internal Server Error"): "login failed with HTTP 500: Internal Server Error",
}  # fmt: skip


@pytest.mark.parametrize(("status", "body"), list(FAILURES))
def test_login_failure_messages(status: str, body: str) -> None:
    error = login_failure(status, body, EMAIL)
    assert error.code is ExitCode.ENV_NOT_READY
    assert FAILURES[(status, body)] in str(error)


def test_login_failure_messages_are_distinct_and_say_what_to_do() -> None:
    by_status = {
        s: str(login_failure(s, b, EMAIL)) for s, b in FAILURES if "LOCKED" not in b
    }
    assert len(set(by_status.values())) == len(by_status)
    assert "make status" in by_status["000"]
    assert "PERF_AUTH_PASSWORD" in by_status["401"]
    assert "ACCOUNT_LOCKOUT_DURATION_MINUTES" in by_status["423"]
    assert "wait a minute" in by_status["429"] and "cached token" in by_status["429"]
    assert (
        "Password change required" in by_status["403"]
    )  # the gateway's own reason kept


def test_login_failure_with_empty_body_says_so() -> None:
    assert "(empty answer)" in str(login_failure("401", "  \n", EMAIL))


# --- CLI ---


def store(tmp_path: Path, status: str, body: str) -> tuple[list[str], Path]:
    answer = tmp_path / "login.body"
    answer.write_text(body)
    cache = tmp_path / "auth" / "token.json"
    argv = ["auth", "store", "--cache", str(cache), "--url", URL, "--email", EMAIL,
            "--status", status, "--body", str(answer)]  # fmt: skip
    return argv, cache


@pytest.mark.parametrize(
    ("status", "body"),
    [("401", '{"detail":"Invalid credentials"}'), ("429", "{}"), ("000", ""),
     ("200", '{"token_type":"bearer"}'), ("200", "<html>")],
)  # fmt: skip
def test_store_refuses_a_failed_login_and_writes_no_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str, body: str
) -> None:
    argv, cache = store(tmp_path, status, body)
    assert main(argv) == ExitCode.ENV_NOT_READY
    out, err = capsys.readouterr()
    assert out == ""  # no token for the caller to use
    assert err.startswith("perfkit auth: error: ")
    assert not cache.exists()
    assert not cache.parent.exists()


def test_store_caches_and_prints_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_jwt(exp=1795262887)
    argv, cache = store(
        tmp_path, "200", json.dumps({"access_token": token, "token_type": "bearer"})
    )
    assert main(argv) == 0
    assert capsys.readouterr().out == token + "\n"
    assert read_cache(cache) == CachedToken(
        URL, EMAIL, token, 1795262887, iat=1795261687
    )
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_cached_prints_a_usable_token_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "token.json"
    token = cached(int(time.time()) + 3600)
    write_cache(cache, token)
    base = ["auth", "cached", "--cache", str(cache), "--email", EMAIL]
    assert main([*base, "--url", URL]) == 0
    assert capsys.readouterr().out == token.access_token + "\n"
    assert main([*base, "--url", "http://localhost:4444"]) == 1
    assert main([*base, "--url", URL, "--margin", "7200"]) == 1
    assert capsys.readouterr().out == ""
    write_cache(cache, cached(int(time.time()) + 60))
    assert main([*base, "--url", URL]) == 1  # default margin: 120 s
    assert main([*base, "--url", URL, "--margin", "30"]) == 0


def test_store_refuses_a_token_that_comes_with_a_failure_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps(
        {"access_token": make_jwt(exp=1795262887), "detail": "change password"}
    )
    argv, cache = store(tmp_path, "403", body)
    assert main(argv) == ExitCode.ENV_NOT_READY
    assert "login refused for admin@example.com (HTTP 403" in capsys.readouterr().err
    assert not cache.exists()


def test_expiry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "token.json"
    write_cache(cache, cached(int(time.time()) + 20 * 60 + 30))
    assert main(["auth", "expiry", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(
        rf"token for {EMAIL} at {URL} expires in 20 min (29|30) s\n", out
    )
    write_cache(cache, cached(int(time.time()) - 5))
    assert main(["auth", "expiry", "--cache", str(cache)]) == 1
    assert (
        main(["auth", "expiry", "--cache", str(tmp_path / "none.json")])
        == ExitCode.ENV_NOT_READY
    )
    assert "no cached token" in capsys.readouterr().err


def test_body_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERF_AUTH_EMAIL", "bench@example.com")
    monkeypatch.setenv("PERF_AUTH_PASSWORD", 'Bench "Admin" 2026!')
    assert main(["auth", "body"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "email": "bench@example.com",
        "password": 'Bench "Admin" 2026!',
    }


@pytest.mark.parametrize("extra", [["--password", "argv-secret"], ["argv-secret"]])
def test_body_takes_no_password_from_argv(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    monkeypatch.setenv("PERF_AUTH_PASSWORD", "from-env")
    with pytest.raises(SystemExit) as caught:
        main(["auth", "body", *extra])
    assert caught.value.code == ExitCode.USAGE
    assert "argv-secret" not in capsys.readouterr().out


def test_setup_auth_pipes_the_body_without_arguments() -> None:
    """The password reaches curl on stdin: neither perfkit nor curl sees it in argv."""
    script = (KIT / "utils" / "setup-auth.sh").read_text()
    assert re.search(r"perf_py auth body \| curl\b[^|]*--data-binary @- ", script)
    mentions = [line for line in script.splitlines() if "PERF_AUTH_PASSWORD" in line]
    assert [line.split(":")[0] for line in mentions] == [
        "Credentials"
    ]  # --help text only
