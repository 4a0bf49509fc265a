"""The language a person chose stays chosen: the visible switch (``?lang=``, ``?ui=`` on the search pages) sets a
``pvpp_lang`` cookie, and a later request without the parameter is answered as if its ``Accept-Language`` were
that language.

Why as ``Accept-Language``: every page already chooses its language from it (``lod.resources.choose_lang``), the
validators put it in the entity tag and ``Vary`` names it, so no route and no tag needs to know about the cookie;
``Vary: Cookie`` is added so that no cache answers one person's choice to another.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pvpp_kg.lod.resources import LANGS

COOKIE = "pvpp_lang"
_YEAR = 365 * 24 * 3600
# where ``lang`` is no page language but a filter (the text's language in a search): the switch there is ``ui``
_UI_PARAM = {"/search": "ui", "/api/search": "ui", "/api/search/suggest": "ui"}


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                key, _, chosen = part.strip().partition("=")
                if key == COOKIE and chosen in LANGS:
                    return chosen
    return None


class LanguageCookie:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        param = _UI_PARAM.get(scope["path"], "lang")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        chosen = next((v.lower() for v in query.get(param, []) if v.lower() in LANGS), None)
        kept = _cookie(scope)
        if chosen is None and kept is not None:
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept-language"]
            scope = {**scope, "headers": [*headers, (b"accept-language", kept.encode())]}

        async def remembered(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                headers.add_vary_header("Cookie")
                if chosen is not None and kept != chosen and message["status"] < 400:
                    headers.append("Set-Cookie", f"{COOKIE}={chosen}; Path=/; Max-Age={_YEAR}; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, remembered)
