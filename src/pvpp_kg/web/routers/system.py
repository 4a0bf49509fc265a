"""Health and statistics; the API documentation (Swagger UI from this server's own assets), favicon, robots.txt."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from pvpp_kg.errors import PvppError
from pvpp_kg.web.deps import BackendDep

router = APIRouter(tags=["system"])
STATIC = Path(__file__).parents[1] / "static"


@router.get("/health", summary="Store reachable? Triple counts per graph; the start-up revalidation's state")
async def health(request: Request, backend: BackendDep) -> JSONResponse:
    try:
        counts = await backend.graph_counts()
    except PvppError as e:
        return JSONResponse({"status": "unavailable", "message": e.message}, status_code=503)
    body = {"status": "ok", "version": backend.version(), "graphs": counts, "triples": sum(counts.values())}
    revalidation = getattr(request.app.state, "revalidation", None)  # None when revalidate_on_start is off
    if revalidation is not None:
        body["revalidation"] = revalidation.to_json()
    return JSONResponse(body)


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI, its script and style installed from npm at set-up (``make setup``) and served from /static."""
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="pvpp-kg API",
        swagger_js_url=f"{root}/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{root}/favicon.ico",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from the public validator service
    )


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.get("/robots.txt", include_in_schema=False)
async def robots() -> FileResponse:
    return FileResponse(STATIC / "robots.txt", media_type="text/plain; charset=utf-8")
