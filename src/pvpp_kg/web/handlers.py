"""Errors → HTTP responses: status and a message, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from pvpp_kg.errors import InvalidToken, PvppError
from pvpp_kg.web.limits import PLAIN_TEXT_PATHS, wants_html

log = logging.getLogger("pvpp_kg")


# the JSON API: its errors are JSON documents whatever the client accepts
API_PATHS = ("/api/", "/.well-known/", "/static/")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    messages: dict[str, str] | None = None,
) -> Response:
    # SPARQL clients show the body to the user: plain text there; a browser gets a page on every page's path (as
    # the linked-data pages' own 404s); a client that asked only for RDF or other text (rdflib, curl -H 'Accept:
    # text/turtle') plain text too; every other client a JSON problem document
    accept = request.headers.get("accept")
    if messages:  # an error with a Latvian text: in it when the client asks for Latvian (lang=lv, Accept-Language)
        message = messages.get(_asked_lang(request) or "en", message)
    if request.url.path.startswith(PLAIN_TEXT_PATHS):
        return PlainTextResponse(f"{message}\n", status_code=status, headers=headers)
    headers = {**(headers or {}), "Vary": "Accept"}
    if not request.url.path.startswith(API_PATHS):
        if wants_html(accept):
            from pvpp_kg.lod.resources import choose_lang
            from pvpp_kg.templating import templates

            lang = choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
            # a page's language is the reader's (lv unless asked); the other text below it, for whoever reads that one
            other_lang = "en" if lang == "lv" else "lv"
            shown, other = (messages or {}).get(lang, message), (messages or {}).get(other_lang)
            return templates.TemplateResponse(
                request,
                "error.html",
                {"lang": lang, "status": status, "message": shown, "other": other, "other_lang": other_lang},
                status_code=status,
                headers=headers,
            )
        if _wants_no_json(accept):
            return PlainTextResponse(f"{message}\n", status_code=status, headers=headers)
    body = {"error": code, "message": message, **({"messages": messages} if messages else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _asked_lang(request: Request) -> str | None:
    """The language a client asked for: ``lang`` in the query, else the first of Accept-Language we speak."""
    asked = request.query_params.get("lang")
    if asked in ("lv", "en"):
        return asked
    for part in (request.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower().split("-")[0]
        if tag in ("lv", "en"):
            return tag
    return None


def _wants_no_json(accept: str | None) -> bool:
    """The Accept header names types and none of them is JSON or a wildcard (``text/turtle``, not ``*/*``)."""
    types = [t.split(";")[0].strip().lower() for t in (accept or "").split(",") if t.strip()]
    json_ok = ("*/*", "application/*", "application/json")
    return bool(types) and not any(t in json_ok or t.endswith("+json") for t in types)


async def pvpp_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PvppError)
    challenge = 'Bearer error="invalid_token"' if isinstance(exc, InvalidToken) else "Bearer"
    headers = {"WWW-Authenticate": challenge} if exc.status == 401 else None
    return _respond(request, exc.status, exc.code, exc.message, headers, exc.messages or None)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
    return _respond(request, 400, "bad_request", "; ".join(parts) or "invalid request")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # its headers kept: a 401's WWW-Authenticate
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette names the methods of the first route on the path only
        headers["Allow"] = ", ".join(allowed_methods(request))
    return _respond(request, exc.status_code, "http_error", str(exc.detail), headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route on the request's path answers (RFC 9110 15.5.6: the whole list), found by asking
    the router as it would route each (included routers do not list their routes); HEAD wherever GET is
    (``web.http.HeadAsGet``)."""
    routes = request.app.router.routes
    found = [
        m
        for m in ("GET", "POST", "PUT", "DELETE", "PATCH")
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    ]
    return found[:1] + ["HEAD"] + found[1:] if found[:1] == ["GET"] else found


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return _respond(request, 500, "internal", "internal error; it has been logged")


def register(app: FastAPI) -> None:
    app.add_exception_handler(PvppError, pvpp_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
