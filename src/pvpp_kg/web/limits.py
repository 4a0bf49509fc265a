"""Requests refused before any route reads them, as pure ASGI middleware: a body over the size limit (early on
Content-Length, counted when chunked), and a query string whose percent-escapes are not UTF-8."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# SPARQL and Graph Store clients show an error's body to the user as it is: plain text there (web.handlers too)
PLAIN_TEXT_PATHS = ("/sparql", "/store")


async def _answer(send: Send, status: int, ctype: bytes, body: bytes) -> None:
    """A whole answer sent before any route runs (a refused request)."""
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wants_html(accept: str | None) -> bool:
    """A browser's Accept: text/html named, and before any JSON."""
    accept = (accept or "").lower()
    html, json_at = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json_at < 0 or html < json_at)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send, scope: Scope) -> None:
        limit = f"{self.max_bytes / 1024 / 1024:.1f} MB"
        message = f"request body larger than {self.max_bytes} bytes (the upload limit is {limit})"
        accept = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept"), "")
        if wants_html(accept):
            body = (
                '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>413 — pvpp-kg</title></head>'
                f'<body><h1>Fails ir par lielu / The file is too large (413)</h1><p id="error-message">{message}; '
                f"augšupielādes ierobežojums / upload limit: {limit}</p>"
                '<p><a href="/validate">Validate</a> · <a href="/institution">Institution page</a></p></body></html>'
            ).encode()
            ctype = b"text/html; charset=utf-8"
        elif scope["path"].startswith(PLAIN_TEXT_PATHS):  # SPARQL clients show the body: plain text, as every error
            body, ctype = f"{message}\n".encode(), b"text/plain; charset=utf-8"
        else:
            body = json.dumps({"error": "too_large", "message": message}).encode()
            ctype = b"application/json"
        await _answer(send, 413, ctype, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > self.max_bytes:
                await self._refuse(send, scope)
                return
            if k == b"transfer-encoding":
                chunked = True
        if not chunked:  # no body, or exactly Content-Length bytes (the server reads no more): nothing to count
            await self.app(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, scope)


class _TooLarge(Exception):
    pass


class Utf8QueryString:
    """A query string whose percent-escapes are not UTF-8 is a 400, on every path: a parser that replaced the bad
    bytes (Starlette's does) would run another text than the one sent (the POST form is read as strictly:
    ``sparql.protocol.read_form``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        try:
            unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as e:
            message = f"the query string has percent-escapes that are not UTF-8 (byte {e.start}); encode it as UTF-8"
            if scope["path"].startswith(PLAIN_TEXT_PATHS):
                await _answer(send, 400, b"text/plain; charset=utf-8", f"{message}\n".encode())
            else:
                body = json.dumps({"error": "bad_request", "message": message}).encode()
                await _answer(send, 400, b"application/json", body)
            return
        await self.app(scope, receive, send)
