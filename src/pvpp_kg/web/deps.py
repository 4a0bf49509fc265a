"""FastAPI dependency aliases: routes declare what they need as plain types.

The dependencies are ``async def`` although they never await: FastAPI runs a plain ``def`` dependency in its
thread pool, and two thread hops per request would bound point-query throughput.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from pvpp_kg.lod.state import LodContext, LodState
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend
from pvpp_kg.web.auth import Tokens, require_admin


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_backend(request: Request) -> Backend:
    return request.app.state.backend


async def get_tokens(request: Request) -> Tokens:
    return request.app.state.tokens


SettingsDep = Annotated[Settings, Depends(get_settings)]
BackendDep = Annotated[Backend, Depends(get_backend)]
TokensDep = Annotated[Tokens, Depends(get_tokens)]


async def get_lod_state(request: Request, settings: SettingsDep) -> LodState:
    """The application's linked-data caches, made on first use (one set per app, not per process)."""
    state: LodState | None = getattr(request.app.state, "lod", None)
    if state is None:
        state = request.app.state.lod = LodState.for_settings(settings)
    return state


async def get_lod(
    request: Request, backend: BackendDep, settings: SettingsDep, state: Annotated[LodState, Depends(get_lod_state)]
) -> LodContext:
    return LodContext(request, backend, settings, state)


LodDep = Annotated[LodContext, Depends(get_lod)]


async def admin_only(tokens: TokensDep, authorization: Annotated[str | None, Header()] = None) -> None:
    require_admin(tokens, authorization)


AdminDep = Depends(admin_only)
