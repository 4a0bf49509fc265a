"""The compliance cockpit: the national table (/compliance), one institution (/compliance/{key}), the
responsibility matrix (/matrix) and their JSON API; the figures come from ``validation/cockpit.py``."""

from __future__ import annotations

import functools
import gzip
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from pvpp_kg.errors import BadRequest
from pvpp_kg.lod.resources import choose_lang, href_for
from pvpp_kg.templating import templates
from pvpp_kg.validation import cockpit
from pvpp_kg.web.deps import BackendDep, SettingsDep

router = APIRouter(tags=["compliance"])

Lang = Annotated[str | None, Query(description="page language: lv or en")]
Format = Annotated[str | None, Query(description="html, csv, json or ttl (else from Accept)")]
_FORMATS = {"html": "text/html", "csv": "text/csv", "json": "application/json", "ttl": "text/turtle"}


class MetricOut(BaseModel):
    key: str
    notation: str
    label: dict[str, str]
    definition: dict[str, str]


class InstitutionOut(BaseModel):
    key: str
    name: dict[str, str]
    kind: str
    sector: str | None
    municipality: str | None
    services: int
    violations: int
    warnings: int
    overall: float | None
    scores: dict[str, float]
    failing: dict[str, int]
    version: int | None
    submitted: str | None


class TrendPoint(BaseModel):
    time: str
    score: float


class OverviewOut(BaseModel):
    data_version: str
    metrics: list[MetricOut]
    institutions: list[InstitutionOut]
    national_trend: list[TrendPoint]


class FindingOut(BaseModel):
    focus: str
    label: str | None
    severity: str
    rules: list[str]
    path: str | None
    message: dict[str, str]


class DetailOut(BaseModel):
    institution: InstitutionOut
    metrics: list[MetricOut]
    findings: list[FindingOut]
    trend: list[TrendPoint]
    versions: list[dict[str, Any]]


def _varies(route: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A page that answers by Accept (HTML, CSV, JSON, Turtle) and Accept-Language says so: a cache must not hand
    the CSV to a browser, or the Latvian page to an English reader."""

    @functools.wraps(route)
    async def answer(*args: Any, **kwargs: Any) -> Response:
        response = await route(*args, **kwargs)
        response.headers.add_vary_header("Accept")
        response.headers.add_vary_header("Accept-Language")
        return response

    return answer


def _metrics(metrics: list[Any]) -> list[MetricOut]:
    return [MetricOut(key=m.key, notation=m.notation, label=m.labels, definition=m.definitions) for m in metrics]


def _format(param: str | None, accept: str | None) -> str:
    if param is not None:
        if param not in _FORMATS:
            raise BadRequest(f"unknown format {param!r}; one of {', '.join(_FORMATS)}")
        return param
    for name in ("html", "csv", "ttl", "json"):
        if _FORMATS[name] in (accept or ""):
            return name
    return "html" if not accept or "*/*" in accept else "json"


def _filters(
    kind: Annotated[str | None, Query(description="ministry, agency, municipality or other")] = None,
    sector: Annotated[str | None, Query(description="the sector's ministry key (e.g. lm)")] = None,
    municipality: Annotated[str | None, Query(description="a municipality's key (e.g. riga)")] = None,
    rule: Annotated[
        str | None, Query(description="a metric's key or notation (M1…): the institutions that do not meet it")
    ] = None,
    q: Annotated[str | None, Query(description="text in the name (case and diacritics ignored)")] = None,
    sort: Annotated[str, Query(description=", ".join(cockpit.SORTS))] = "name",
    order: Annotated[str, Query(description="asc or desc")] = "asc",
) -> cockpit.Filters:
    """The table's filters from the query string (empty values mean no filter, as an HTML form sends them)."""
    return cockpit.Filters(kind or None, sector or None, municipality or None, rule or None, q or None, sort, order)


FiltersDep = Annotated[cockpit.Filters, Depends(_filters)]


@router.get("/compliance", summary="Who meets the policy: every institution, rule by rule (HTML, CSV, JSON, RDF)")
@_varies
async def compliance_page(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    filters: FiltersDep,
    lang: Lang = None,
    format: Format = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="page of the HTML table (100 rows each)")] = 1,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    fmt = _format(format, accept)
    o = await cockpit.overview(backend, settings)
    filters = filters.check(o)
    rows = o.once(("rows", filters, chosen), lambda: filters.apply(o.rows, chosen))
    if fmt == "csv":  # saved under a name of its own, not "compliance"
        return PlainTextResponse(
            cockpit.table_csv(rows, o.metrics, chosen),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pvpp-compliance.csv"'},
        )
    if fmt == "json":
        return _json(request, o, ("json", filters, chosen), lambda: o.to_json(rows))
    if fmt == "ttl":
        body = await cockpit.measurements_turtle(backend, settings, [r.key for r in rows])
        return Response(body, media_type="text/turtle; charset=utf-8")
    pages = max(1, -(-len(rows) // PAGE))
    if page > pages:
        raise BadRequest(f"page {page} is past the last page, {pages}")
    chrome = o.once(("chrome", chosen), lambda: _chrome(o, chosen))
    # the charts show the institutions the filters chose, as the table does
    charts = o.once(
        ("charts", filters, chosen), lambda: {"shares": o.rule_shares(rows), "histogram": o.histogram(rows)}
    )
    return templates.TemplateResponse(
        request,
        "compliance.html",
        {
            "lang": chosen,
            "o": o,
            "rows": rows[(page - 1) * PAGE : page * PAGE],
            "total": len(rows),
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE + 1,
            "f": filters,
            "kinds": cockpit.KINDS,
            "sorts": cockpit.SORTS,
            **chrome,
            **charts,
        },
    )


PAGE = 100  # rows of the HTML table per page: the national table has ~4,500


def _chrome(o: cockpit.Overview, lang: str) -> dict[str, Any]:
    """The filters' choices, by name in the page's language (Latvian order on Latvian pages): the same for every
    request of a data version."""
    names = {r.key: r.name.get(lang, r.key) for r in o.rows}

    def by_name(keys: set[str]) -> list[str]:
        return sorted(keys, key=lambda k: cockpit.collation_key(names.get(k, k)))

    return {
        "sectors": by_name({r.sector for r in o.rows if r.sector}),
        "municipalities": by_name({r.municipality for r in o.rows if r.municipality}),
        "names": names,
    }


@router.get("/api/compliance", summary="The national compliance table as JSON", response_model=OverviewOut)
async def compliance_api(request: Request, backend: BackendDep, settings: SettingsDep, filters: FiltersDep) -> Response:
    o = await cockpit.overview(backend, settings)
    filters = filters.check(o)
    return _json(request, o, ("json", filters, "lv"), lambda: o.to_json(filters.apply(o.rows, "lv")))


def _json(request: Request, o: cockpit.Overview, key: Any, make: Callable[[], bytes]) -> Response:
    """The table's JSON, made once per data version — and compressed once: the national table is ~3 MB, and
    compressing it on every request was most of the JSON's p50 (benchmarks/README.md)."""
    body = o.once(key, make)
    if "gzip" not in request.headers.get("accept-encoding", "").lower():
        return Response(body, media_type="application/json")
    packed = o.once((key, "gzip"), lambda: gzip.compress(body, compresslevel=6))
    return Response(
        packed, media_type="application/json", headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    )


def _detail_json(d: cockpit.Detail) -> dict[str, Any]:
    return DetailOut(
        institution=InstitutionOut(**d.row.to_json()),
        metrics=_metrics(d.metrics),
        findings=[
            FindingOut(
                focus=f.focus, label=f.label, severity=f.severity, rules=f.metrics, path=f.path, message=f.messages
            )
            for f in d.findings
        ],
        trend=[TrendPoint(time=t, score=s) for t, s in d.trend],
        versions=d.versions,
    ).model_dump()


@router.get(
    "/api/compliance/{institution}",
    summary="One institution's rules and open results as JSON",
    response_model=DetailOut,
)
async def institution_api(institution: str, backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    return JSONResponse(_detail_json(await cockpit.detail(backend, settings, institution)))


@router.get("/compliance/{institution}", summary="One institution: each rule, its failing nodes, its trend")
@_varies
async def institution_page(
    institution: str,
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    lang: Lang = None,
    format: Format = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    fmt = _format(format, accept)
    d = await cockpit.detail(backend, settings, institution)
    if fmt == "csv":
        return PlainTextResponse(cockpit.findings_csv(d, chosen), media_type="text/csv; charset=utf-8")
    if fmt == "json":
        return JSONResponse(_detail_json(d))
    if fmt == "ttl":
        body = await cockpit.measurements_turtle(backend, settings, [institution])
        return Response(body, media_type="text/turtle; charset=utf-8")
    return templates.TemplateResponse(
        request,
        "compliance_institution.html",
        {"lang": chosen, "d": d, "href": lambda iri: href_for(iri, settings.base_iri)},
    )


@router.get("/matrix", summary="The responsibility matrix: 32 tasks × 10 roles, A/L, with the reading's provenance")
@_varies
async def matrix_page(
    request: Request,
    backend: BackendDep,
    settings: SettingsDep,
    institution: str | None = None,
    lang: Lang = None,
) -> HTMLResponse:
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    key = (str(settings.data_dir), backend.version(), chosen)
    # the grid alone is the same page for every reader of a language; only a request with nothing else in its query
    # is cached or served from the cache (the page's language links repeat the query)
    shared = not institution and set(request.query_params) <= {"lang"}
    if shared and key in _matrix_pages:
        return HTMLResponse(_matrix_pages[key])
    m = await cockpit.matrix(backend, settings, institution or None)
    page = templates.TemplateResponse(
        request,
        "matrix.html",
        {"lang": chosen, "m": m, "institution": institution, "href": lambda iri: href_for(iri, settings.base_iri)},
    )
    if shared:
        if any(k[1] != key[1] for k in _matrix_pages):
            _matrix_pages.clear()
        _matrix_pages[key] = bytes(page.body)
    return page


_matrix_pages: dict[tuple[str, str, str], bytes] = {}  # (store directory, data version, language) → the page
