"""The JWT cache behind utils/setup-auth.sh: reuse a token until shortly before `exp`.

The cache is one JSON file (mode 0600) keyed by gateway URL and email, so a token for one
gateway is never sent to another. Login answers are classified into actionable messages.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError


@dataclass(frozen=True)
class CachedToken:
    url: str
    email: str
    access_token: str
    exp: int
    iat: int | None = (
        None  # issued-at, when the token carries it: gives the token's lifetime
    )


def jwt_claims(token: str) -> dict[str, object]:
    """The claims of a JWT (not verified: the gateway verifies, we only schedule refreshes)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
    except (IndexError, ValueError, TypeError) as exc:
        raise KitError(
            "the gateway's login answer holds no readable JWT", ExitCode.ENV_NOT_READY
        ) from exc
    if not isinstance(claims, dict):
        raise KitError(
            "the gateway's JWT payload is not an object", ExitCode.ENV_NOT_READY
        )
    return claims


def jwt_exp(token: str) -> int:
    """The `exp` claim of a JWT."""
    try:
        return int(jwt_claims(token)["exp"])  # type: ignore[call-overload]
    except (KitError, KeyError, ValueError, TypeError) as exc:
        raise KitError(
            "the gateway's login answer holds no readable JWT 'exp' claim",
            ExitCode.ENV_NOT_READY,
        ) from exc


def _jwt_iat(token: str) -> int | None:
    try:
        return int(jwt_claims(token)["iat"])  # type: ignore[call-overload]
    except (KitError, KeyError, ValueError, TypeError):
        return None


def _entries(path: Path) -> list[CachedToken]:
    """Every token in the cache, newest last; an unreadable cache is only a cache: empty."""
    try:
        data = json.loads(path.read_text())
        rows = data["tokens"] if isinstance(data, dict) and "tokens" in data else [data]
        return [
            CachedToken(
                str(row["url"]),
                str(row["email"]),
                str(row["access_token"]),
                int(row["exp"]),
                int(row["iat"]) if row.get("iat") is not None else None,
            )
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def read_cache(
    path: Path, url: str | None = None, email: str | None = None
) -> CachedToken | None:
    """The cached token for url and email (the newest one when they are not given)."""
    entries = [
        t
        for t in _entries(path)
        if (url is None or t.url == url) and (email is None or t.email == email)
    ]
    return entries[-1] if entries else None


def write_cache(path: Path, token: CachedToken, now: float | None = None) -> None:
    """Store token (replacing the one for its gateway and email, dropping expired ones),
    atomically and readable by the owner only."""
    now = time.time() if now is None else now
    keep = [
        t
        for t in _entries(path)
        if (t.url, t.email) != (token.url, token.email) and t.exp > now
    ]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_json_atomic(path, {"tokens": [asdict(t) for t in [*keep, token]]}, mode=0o600)


def usable(
    token: CachedToken | None, url: str, email: str, margin_s: int, now: float
) -> bool:
    """True when token belongs to url and email and stays valid for margin_s more seconds.

    The margin never exceeds half the token's lifetime: a gateway issuing 10-minute tokens
    must not make the kit log in before every test (auth endpoints are rate-limited)."""
    if token is None or token.url != url or token.email != email:
        return False
    if token.iat is not None and token.exp > token.iat:
        margin_s = min(margin_s, (token.exp - token.iat) // 2)
    return token.exp - margin_s > now


def login_failure(status: str, body: str, email: str) -> KitError:
    """Turn a failed POST /auth/login into a message that says what to do."""
    detail = body.strip()[:300] or "(empty answer)"
    lowered = detail.lower()
    if status == "000":
        return KitError(
            "the gateway did not answer POST /auth/login; is it running? (make status)",
            ExitCode.ENV_NOT_READY,
        )
    if status == "423" or "locked" in lowered:
        return KitError(
            f"account {email} is locked out after failed logins ({detail}); wait for the lock-out to expire "
            "(ACCOUNT_LOCKOUT_DURATION_MINUTES on the gateway) or unlock it as an admin",
            ExitCode.ENV_NOT_READY,
        )
    if status == "429":
        return KitError(
            "the gateway rate-limited the login (HTTP 429): auth endpoints allow only a few requests a minute; "
            "wait a minute, and let the kit reuse its cached token instead of logging in repeatedly",
            ExitCode.ENV_NOT_READY,
        )
    if status == "401":
        return KitError(
            f"wrong email or password for {email} (HTTP 401: {detail}); set auth.email/auth.password in "
            "config.yaml or PERF_AUTH_EMAIL/PERF_AUTH_PASSWORD",
            ExitCode.ENV_NOT_READY,
        )
    if status == "403":
        return KitError(
            f"login refused for {email} (HTTP 403: {detail}); the account may need a password change or lack access",
            ExitCode.ENV_NOT_READY,
        )
    return KitError(
        f"login failed with HTTP {status}: {detail}", ExitCode.ENV_NOT_READY
    )


def cmd_cached(args: argparse.Namespace) -> int:
    token = read_cache(Path(args.cache), args.url, args.email)
    if not usable(token, args.url, args.email, args.margin, time.time()):
        return 1
    assert token is not None
    print(token.access_token)
    return 0


def cmd_store(args: argparse.Namespace) -> int:
    body = Path(args.body).read_text(errors="replace")
    if args.status != "200":
        raise login_failure(args.status, body, args.email)
    try:
        access_token = str(json.loads(body)["access_token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KitError(
            f"POST /auth/login answered 200 without an access_token: {body[:200]}",
            ExitCode.ENV_NOT_READY,
        ) from exc
    token = CachedToken(
        args.url,
        args.email,
        access_token,
        jwt_exp(access_token),
        _jwt_iat(access_token),
    )
    write_cache(Path(args.cache), token)
    print(token.access_token)
    return 0


def cmd_expiry(args: argparse.Namespace) -> int:
    token = read_cache(Path(args.cache), args.url, args.email)
    if token is None:
        wanted = f" for {args.email} at {args.url}" if args.url else ""
        raise KitError(
            f"no cached token{wanted} in {args.cache}; run: make auth",
            ExitCode.ENV_NOT_READY,
        )
    left = token.exp - time.time()
    print(
        f"token for {token.email} at {token.url} expires in {int(left // 60)} min {int(left % 60)} s"
    )
    return 0 if left > 0 else 1


def cmd_body(args: argparse.Namespace) -> int:
    """The login request body, from the environment so the password never appears in argv."""
    print(
        json.dumps(
            {
                "email": os.environ.get("PERF_AUTH_EMAIL", ""),
                "password": os.environ.get("PERF_AUTH_PASSWORD", ""),
            }
        )
    )
    return 0


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit auth")
    sub = parser.add_subparsers(dest="action", required=True)
    cached = sub.add_parser(
        "cached", help="print the cached token if usable, else exit 1"
    )
    store = sub.add_parser(
        "store", help="judge a login answer; cache and print its token"
    )
    for p in (cached, store):
        p.add_argument("--cache", required=True)
        p.add_argument("--url", required=True)
        p.add_argument("--email", required=True)
    cached.add_argument("--margin", type=int, default=120)
    store.add_argument("--status", required=True)
    store.add_argument("--body", required=True)
    expiry = sub.add_parser("expiry", help="say when the cached token expires")
    expiry.add_argument("--cache", required=True)
    expiry.add_argument("--url", help="the gateway (default: the newest token's)")
    expiry.add_argument("--email", help="the account (default: the newest token's)")
    sub.add_parser(
        "body", help="print the login JSON from PERF_AUTH_EMAIL/PERF_AUTH_PASSWORD"
    )
    args = parser.parse_args(argv)
    handlers = {
        "cached": cmd_cached,
        "store": cmd_store,
        "expiry": cmd_expiry,
        "body": cmd_body,
    }
    return handlers[args.action](args)
