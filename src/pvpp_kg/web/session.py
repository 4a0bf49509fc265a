"""Browser sign-in for institutions: the institution's existing token once, then a signed session cookie.

The cookie (``pvpp_session``) is signed and time-stamped with itsdangerous, ``HttpOnly``, ``SameSite=Strict`` and
``Secure`` (setting ``session_cookie_secure``); it holds the institution key, a CSRF token and the first characters
of the token's digest, so a token withdrawn from the tokens file ends its sessions too. Every form that writes
carries the session's CSRF token (a hidden ``csrf`` field); the sign-in form carries one from a short-lived
pre-session cookie. The bearer-token API does not use any of this.

Nothing of a session lives in one process's memory: the signing key is ``session_secret`` or a key kept in
``{data_dir}/sessions/secret``, and a sign-out leaves a mark in ``{data_dir}/sessions/signed-out/``, so a server of
several workers (``PVPP_WORKERS``) reads every cookie alike.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from pvpp_kg.errors import Forbidden
from pvpp_kg.settings import Settings
from pvpp_kg.web.auth import Tokens, digest

COOKIE = "pvpp_session"
PRE_COOKIE = "pvpp_signin"
_PRE_AGE = 1800
_SID = re.compile(r"^[A-Za-z0-9_-]{16}$")  # secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Session:
    institution: str
    csrf: str
    id: str = ""


def _revoked_dir(settings: Settings) -> Path:
    return settings.data_dir / "sessions" / "signed-out"


def _is_revoked(settings: Settings, sid: str) -> bool:
    """A session signed out in any worker (a signed cookie copied before sign-out is refused too)."""
    return bool(sid) and _SID.match(sid) is not None and (_revoked_dir(settings) / sid).exists()


def _revoke(settings: Settings, sid: str) -> None:
    """The session's mark, kept as long as its cookie could be valid; older marks go on the way."""
    if not _SID.match(sid):
        return
    directory = _revoked_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / sid).touch()
    now = time.time()
    for mark in directory.iterdir():
        try:
            if now - mark.stat().st_mtime > settings.session_max_age_s:
                mark.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def _secret(settings: Settings) -> str:
    """``session_secret``, else one made on the first start and kept in the data directory (readable by the server
    only), so every worker signs and reads the same cookies and a restart signs nobody out."""
    if settings.session_secret:
        return settings.session_secret
    path = settings.data_dir / "sessions" / "secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by another worker, or an earlier start
        for _ in range(50):
            secret = path.read_text(encoding="ascii").strip()
            if secret:
                return secret
            time.sleep(0.02)  # the other worker is writing it
        raise RuntimeError(f"{path} is empty: remove it, or set PVPP_SESSION_SECRET") from None
    secret = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secret)
    return secret


def _serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    if getattr(state, "session_serializer", None) is None:
        state.session_serializer = URLSafeTimedSerializer(_secret(state.settings), salt="pvpp-kg session")
    return state.session_serializer


def current(request: Request) -> Session | None:
    """The signed-in institution, or None (no cookie, a bad signature, expired, or its token withdrawn)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    settings: Settings = request.app.state.settings
    try:
        data = _serializer(request).loads(raw, max_age=settings.session_max_age_s)
    except (BadSignature, SignatureExpired):
        return None
    tokens: Tokens = request.app.state.tokens
    key, csrf, mark, sid = data.get("i"), data.get("c"), data.get("d"), data.get("s", "")
    stored = tokens.institutions.get(key or "")
    if not (isinstance(csrf, str) and stored and isinstance(mark, str) and hmac.compare_digest(stored[:16], mark)):
        return None
    if _is_revoked(settings, sid):
        return None
    return Session(key, csrf, sid)


def require(request: Request, csrf: str | None) -> Session:
    """A write from the browser: a live session and its CSRF token, else 403."""
    session = current(request)
    if session is None:
        raise Forbidden("sign in first: the session is missing or has expired (/signin)")
    if not csrf or not hmac.compare_digest(csrf, session.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and try again")
    return session


def sign_in(request: Request, response: Response, token: str, csrf: str | None) -> str:
    """Check the pre-session CSRF and the token; on success set the session cookie and return the institution."""
    pre = request.cookies.get(PRE_COOKIE)
    try:
        expected = _serializer(request).loads(pre or "", max_age=_PRE_AGE, salt="pvpp-kg sign-in")
    except (BadSignature, SignatureExpired):
        expected = None
    if not (isinstance(expected, str) and csrf and hmac.compare_digest(expected, csrf)):
        raise Forbidden("the sign-in form has expired or its CSRF token is wrong: reload /signin")
    tokens: Tokens = request.app.state.tokens
    key = tokens.institution_for(token.strip())
    if key is None:
        raise Forbidden("this is not an institution's token")
    value = _serializer(request).dumps(
        {"i": key, "c": secrets.token_urlsafe(24), "d": digest(token.strip())[:16], "s": secrets.token_urlsafe(12)}
    )
    _set(request, response, COOKIE, value, request.app.state.settings.session_max_age_s)
    response.delete_cookie(PRE_COOKIE, path="/")
    return key


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def remember_form_token(request: Request, response: Response, token: str) -> None:
    """The sign-in form's CSRF token, kept in a signed pre-session cookie."""
    value = _serializer(request).dumps(token, salt="pvpp-kg sign-in")
    _set(request, response, PRE_COOKIE, value, _PRE_AGE)


def sign_out(request: Request, response: Response, session: Session) -> None:
    if session.id:
        _revoke(request.app.state.settings, session.id)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")


def _set(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="strict",
    )
