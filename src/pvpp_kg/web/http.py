"""HTTP as browsers and caches expect it, as pure ASGI middleware: ``HEAD`` on every ``GET`` route, and validators
(``ETag``, ``Last-Modified``) with ``304 Not Modified`` on every page, query result and dump.

Why middleware: FastAPI routes answer only the methods they declare, and the validators are the same rule for
every route — the data version names the representation — so one place adds them.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import unquote_plus

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pvpp_kg import __version__


class HeadAsGet:
    """``HEAD`` is answered as ``GET`` without the body: the same status and headers (Content-Length included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class WeakenCompressed:
    """A strong ``ETag`` names exact bytes: on an answer the gzip layer inside has compressed, it becomes weak
    (as nginx does), so the sha256 tag of a dump file is never claimed for its compressed bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def weakened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                etag = headers.get("etag")
                if etag and not etag.startswith("W/") and "content-encoding" in headers:
                    headers["ETag"] = "W/" + etag
            await send(message)

        await self.app(scope, receive, weakened)


#: Paths answered without validators: the health check must always be answered afresh, and static files carry
#: their own (Starlette's StaticFiles).
_SKIP = ("/health", "/static/")
#: The request headers a representation depends on (besides the path, the query string and the data version).
_VARY = (b"accept", b"accept-language", b"host")
#: Queries whose answer changes on every evaluation, data unchanged: no validators for them.
_VOLATILE = re.compile(r"\b(?:now|rand|uuid|struuid)\s*\(", re.IGNORECASE)


class Validators:
    """``ETag`` and ``Last-Modified`` on successful ``GET`` answers, and ``304`` when the client has that version. The
    entity tag is weak and made of the data version and a digest of what chose the representation (path, query
    string, Accept, Accept-Language, Host, the code's version): the same request on the same data gets the same
    answer, so a matching ``If-None-Match`` tag is answered with ``304`` before the route runs — no query is
    evaluated, no page rendered (``*`` and ``If-Modified-Since`` turn only a ``200`` into a ``304``). The day (UTC)
    is part of the tag, for parameters such as ``today``; a query string that calls ``NOW()``, ``RAND()``,
    ``UUID()`` or ``STRUUID()`` gets no validators at all. ``Last-Modified`` is when this process first saw the data
    version. A route that sets its own ``ETag`` (a dump file: its sha256) keeps it, and ``If-None-Match`` is
    compared with that one. Requests with ``Authorization`` get no validators (their answer depends on the token)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: dict[str, float] = {}

    def _modified(self, version: str) -> float:
        if version not in self.seen:
            if len(self.seen) > 64:
                self.seen.clear()
            self.seen[version] = float(int(time.time()))
        return self.seen[version]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(_SKIP):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        backend = getattr(scope["app"].state, "backend", None)
        query_string: bytes = scope.get("query_string", b"")
        if (
            backend is None
            or "authorization" in headers
            or _VOLATILE.search(unquote_plus(query_string.decode("latin-1")))
        ):
            await self.app(scope, receive, send)
            return
        version = backend.version()
        digest = hashlib.sha1(usedforsecurity=False)
        today = datetime.now(UTC).date().isoformat()
        for part in (__version__, today, scope["path"], query_string):
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        for name in _VARY:
            digest.update(headers.get(name.decode(), "").encode())
            digest.update(b"\0")
        etag = f'W/"{version}-{digest.hexdigest()[:20]}"'
        modified = self._modified(version)
        last_modified = formatdate(modified, usegmt=True)
        if _tag_matches(headers.get("if-none-match"), etag):
            await _send_304(send, etag, last_modified)
            return

        state: dict[str, bool] = {"304": False}

        async def with_validators(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                out = MutableHeaders(raw=message["headers"])
                own = out.get("etag")
                if own is None:
                    out["ETag"] = etag
                    out["Last-Modified"] = last_modified
                    unchanged = _not_modified(headers, etag, modified)
                else:
                    unchanged = _matches(headers.get("if-none-match"), own)
                if unchanged:
                    state["304"] = True
                    await _send_304(send, own or etag, out.get("last-modified"))
                    return
            elif state["304"]:
                return  # the body of the answer replaced by 304
            await send(message)

        await self.app(scope, receive, with_validators)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): ``*`` or any listed tag equal to ``etag`` without ``W/``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def _tag_matches(if_none_match: str | None, etag: str) -> bool:
    """A tag this server gave, for this very request on this data: it was given with a 200, so the answer is known
    before the route runs. ``*`` and a date are not (the resource may not exist, the query may be wrong: RFC 9110
    §13.2.1 has them ignored when the answer is no 2xx), so they are decided on the route's answer."""
    return bool(if_none_match) and if_none_match.strip() != "*" and _matches(if_none_match, etag)


def _not_modified(headers: Headers, etag: str, modified: float) -> bool:
    if "if-none-match" in headers:  # when both are sent, If-None-Match decides (RFC 9110 §13.1.3)
        return _matches(headers["if-none-match"], etag)
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        stamp = parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as RFC 9110 §13.1.3 says; so is one in the future
    return modified <= stamp <= time.time()


async def _send_304(send: Send, etag: str, last_modified: str | None) -> None:
    headers = [(b"etag", etag.encode()), (b"vary", b"Accept, Accept-Language")]
    if last_modified:
        headers.append((b"last-modified", last_modified.encode()))
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
