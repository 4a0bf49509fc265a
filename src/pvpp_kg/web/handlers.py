"""Errors → HTTP responses: status and a message, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from pvpp_kg.errors import PvppError
from pvpp_kg.web.limits import wants_html

log = logging.getLogger("pvpp_kg")


# the pages a person uses in a browser: an error there is a page, not a JSON document
BROWSER_PATHS = ("/validate", "/submissions", "/signin", "/signout", "/institution", "/template")


def _respond(request: Request, status: int, code: str, message: str) -> Response:
    # SPARQL clients show the body to the user: plain text there, JSON problem documents elsewhere
    if request.url.path.startswith(("/sparql", "/store")):
        return PlainTextResponse(f"{message}\n", status_code=status)
    if request.url.path.startswith(BROWSER_PATHS) and wants_html(request.headers.get("accept")):
        from pvpp_kg.templating import templates

        return templates.TemplateResponse(
            request, "error.html", {"lang": "en", "status": status, "message": message}, status_code=status
        )
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def pvpp_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PvppError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    response = _respond(request, exc.status, exc.code, exc.message)
    if headers:
        response.headers.update(headers)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
    return _respond(request, 400, "bad_request", "; ".join(parts) or "invalid request")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _respond(request, exc.status_code, "http_error", str(exc.detail))


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return _respond(request, 500, "internal", "internal error; it has been logged")


def register(app: FastAPI) -> None:
    app.add_exception_handler(PvppError, pvpp_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
