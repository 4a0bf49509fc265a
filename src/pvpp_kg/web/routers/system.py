"""Health and statistics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pvpp_kg.errors import PvppError
from pvpp_kg.web.deps import BackendDep

router = APIRouter(tags=["system"])


@router.get("/health", summary="Store reachable? Triple counts per graph")
async def health(backend: BackendDep) -> JSONResponse:
    try:
        counts = await backend.graph_counts()
    except PvppError as e:
        return JSONResponse({"status": "unavailable", "message": e.message}, status_code=503)
    return JSONResponse(
        {"status": "ok", "version": backend.version(), "graphs": counts, "triples": sum(counts.values())}
    )
