"""The JWT cache behind utils/setup-auth.sh: reuse a token until shortly before `exp`.

The cache is one JSON file (mode 0600) keyed by gateway URL and email, so a token for one
gateway is never sent to another. Login answers are classified into actionable messages.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from perfkit.exitcodes import ExitCode, KitError


@dataclass(frozen=True)
class CachedToken:
    url: str
    email: str
    access_token: str
    exp: int


def jwt_exp(token: str) -> int:
    """The `exp` claim of a JWT (not verified: the gateway verifies, we only schedule refreshes)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
        return int(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        raise KitError(
            "the gateway's login answer holds no readable JWT 'exp' claim",
            ExitCode.ENV_NOT_READY,
        ) from exc


def read_cache(path: Path) -> CachedToken | None:
    try:
        data = json.loads(path.read_text())
        return CachedToken(
            str(data["url"]),
            str(data["email"]),
            str(data["access_token"]),
            int(data["exp"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError):
        return None  # an unreadable cache is only a cache: log in again and replace it


def write_cache(path: Path, token: CachedToken) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".token-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(token), handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def usable(
    token: CachedToken | None, url: str, email: str, margin_s: int, now: float
) -> bool:
    return (
        token is not None
        and token.url == url
        and token.email == email
        and token.exp - margin_s > now
    )


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
    token = read_cache(Path(args.cache))
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
    token = CachedToken(args.url, args.email, access_token, jwt_exp(access_token))
    write_cache(Path(args.cache), token)
    print(token.access_token)
    return 0


def cmd_expiry(args: argparse.Namespace) -> int:
    token = read_cache(Path(args.cache))
    if token is None:
        raise KitError(
            f"no cached token in {args.cache}; run: make auth", ExitCode.ENV_NOT_READY
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
