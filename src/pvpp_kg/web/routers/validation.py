"""``/validate`` (SHACL report for an upload, nothing stored) and ``/submissions`` (validated, stored, versioned)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile

from pvpp_kg import shacl
from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, Forbidden, InputError, Unauthorized
from pvpp_kg.formats import HTML, Format
from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.settings import Settings
from pvpp_kg.templating import templates
from pvpp_kg.validation import submissions
from pvpp_kg.validation.parse import Document, detect_format, parse_document, parse_rdf
from pvpp_kg.validation.report import LANGS, Report, report_html, report_json, report_rdf, report_text
from pvpp_kg.validation.validator import user_shapes, validator_for
from pvpp_kg.web.auth import bearer
from pvpp_kg.web.deps import BackendDep, SettingsDep, TokensDep

router = APIRouter(tags=["validation"])

JSON = Format("json", "application/json", "", "json")
TURTLE = Format("turtle", "text/turtle", "", "ttl")
JSONLD = Format("jsonld", "application/ld+json", "", "jsonld")
TEXT = Format("text", "text/plain", "", "txt")
REPORT_FORMATS = (JSON, TURTLE, JSONLD, HTML, TEXT)
LangParam = Annotated[str | None, Query(description="lv or en (messages)", pattern="^(lv|en)$")]
SheetParam = Annotated[str | None, Query(description="the template sheet of a CSV body, e.g. services")]


Upload = tuple[bytes, str | None, str | None]  # content, media type, file name


async def _upload(request: Request) -> tuple[bytes, str | None, str | None, dict[str, str], list[Upload]]:
    """The document from a multipart ``file`` field or the raw body, with its media type and file name, the
    form's text fields, and any ``shapes`` files beside it (as the EU ITB validator takes user shapes)."""
    ctype = request.headers.get("content-type") or ""
    if ctype.lower().startswith("multipart/form-data"):
        try:
            form = await request.form()
        except Exception as e:  # noqa: BLE001 - python-multipart raises several kinds; all mean a bad upload
            raise InputError(f"malformed multipart body: {e}") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InputError("the multipart body needs a 'file' field with the document")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        shapes = [
            (await f.read(), f.content_type, f.filename or "shapes")
            for f in form.getlist("shapes")
            if isinstance(f, UploadFile)
        ]
        return await upload.read(), upload.content_type, upload.filename, fields, shapes
    return await request.body(), ctype or None, None, {}, []


async def _parse(
    request: Request, sheet: str | None, settings: Settings
) -> tuple[Document, dict[str, str], shacl.ShapesGraph | None]:
    data, media_type, filename, fields, shapes = await _upload(request)
    sheet = sheet or fields.get("sheet")
    slots = (await anyio.to_thread.run_sync(validator_for, settings)).slots

    def parse() -> Document:
        with slots:  # reading a workbook is work too: it waits for a validation slot like the validation does
            return parse_document(data, media_type=media_type, filename=filename, sheet=sheet, settings=settings)

    graph = await anyio.to_thread.run_sync(parse)
    own_shapes = None
    if shapes:
        own_shapes = await anyio.to_thread.run_sync(
            lambda: user_shapes(
                (name, parse_rdf(content, detect_format(ctype, name), name).graph()) for content, ctype, name in shapes
            )
        )
    return graph, fields, own_shapes


def _lang(lang: str | None, fields: dict[str, str]) -> str:
    chosen = lang or fields.get("lang") or "en"
    if chosen not in LANGS:
        raise BadRequest(f"lang must be lv or en, not {chosen!r}")
    return chosen


def render(report: Report, accept: str | None, status: int = 200, extra: dict[str, Any] | None = None) -> Response:
    fmt = negotiate(accept, REPORT_FORMATS)
    if fmt is TURTLE:
        return Response(report_rdf(report, "turtle"), status, media_type="text/turtle; charset=utf-8")
    if fmt is JSONLD:
        return Response(report_rdf(report, "json-ld"), status, media_type="application/ld+json")
    if fmt is HTML:
        return HTMLResponse(report_html(report), status)
    if fmt is TEXT:
        return PlainTextResponse(report_text(report), status)
    return JSONResponse({**(extra or {}), **report_json(report)}, status)


@router.get("/validate", summary="The upload page (HTML), in the reader's language", response_class=HTMLResponse)
async def validate_page(
    request: Request,
    lang: Annotated[str | None, Query(description="page language: lv or en (overrides Accept-Language)")] = None,
) -> Response:
    page_lang = choose_lang(lang, request.headers.get("accept-language"))
    response = templates.TemplateResponse(request, "validate.html", {"lang": page_lang})
    response.headers["Vary"] = "Accept-Language"
    response.headers["Content-Language"] = page_lang
    return response


@router.post("/validate", summary="Validate a document against the PVPP and CPSV-AP shapes; nothing is stored")
async def validate_upload(
    request: Request,
    settings: SettingsDep,
    tokens: TokensDep,
    backend: BackendDep,
    lang: LangParam = None,
    sheet: SheetParam = None,
    accept: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """With an institution's token the report also says what the data states about nodes it does not own."""
    negotiate(accept, REPORT_FORMATS)  # 406 before the work, not after
    token = bearer(authorization)
    institution = tokens.institution_for(token) if token is not None else None
    graph, fields, shapes = await _parse(request, sheet, settings)
    chosen = _lang(lang, fields)
    policy = (fields.get("policy") or "true").lower()
    if policy not in ("true", "false"):
        raise BadRequest(f"policy must be true or false, not {policy!r}")
    if policy == "false" and shapes is None:
        raise BadRequest("policy=false validates against your own shapes only: add a 'shapes' file")
    validator = await anyio.to_thread.run_sync(validator_for, settings)
    if policy == "false":
        assert shapes is not None
        report = await anyio.to_thread.run_sync(lambda: validator.validate_alone(graph, shapes, lang=chosen))
    else:
        others = (
            await submissions.other_institutions(backend, institution, timeout=settings.query_timeout_s)
            if institution is not None
            else None
        )
        report = await anyio.to_thread.run_sync(
            lambda: validator.validate(
                graph, lang=chosen, extra_shapes=shapes, institution=institution, extra_context=others
            )
        )
    return render(report, accept)


def _institution(tokens: Any, authorization: str | None, requested: str | None) -> str:
    token = bearer(authorization)
    if token is None:
        raise Unauthorized("a submission needs the institution's bearer token (Authorization: Bearer …)")
    if tokens.is_admin(token):
        if not requested:
            raise BadRequest("the admin token must name the institution: ?institution=key")
        return submissions.check_key(requested)
    key = tokens.institution_for(token)
    if key is None:
        raise Forbidden("the token is not an institution token")
    if requested and requested != key:
        raise Forbidden(f"the token is {key!r}'s; it cannot write institution {requested!r}'s graph")
    return key


@router.post(
    "/submissions",
    status_code=201,
    summary="Submit an institution's data: validated with the reference data, stored if it conforms",
)
async def submit(
    request: Request,
    settings: SettingsDep,
    backend: BackendDep,
    tokens: TokensDep,
    institution: Annotated[str | None, Query(description="institution key (admin token)")] = None,
    lang: LangParam = None,
    sheet: SheetParam = None,
    authorization: Annotated[str | None, Header()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    key = _institution(tokens, authorization, institution)
    negotiate(accept, REPORT_FORMATS)
    graph, fields, shapes = await _parse(request, sheet, settings)
    if shapes is not None:
        raise BadRequest("a submission is validated against the policy's shapes only; use /validate for your own")
    chosen = _lang(lang, fields)
    validator = await anyio.to_thread.run_sync(validator_for, settings)
    try:
        version, report = await submissions.submit(settings, backend, validator, key, graph, lang=chosen)
    except submissions.NotConforming as e:
        return render(e.report, accept, 422, {"error": e.code, "message": e.message})
    return render(report, accept, 201, {"stored": version.to_json()})


@router.get("/submissions/{institution}", summary="The versions an institution has submitted")
async def list_versions(institution: str, backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    key = submissions.check_key(institution)
    rows = await submissions.versions(backend, key, timeout=settings.query_timeout_s)
    return JSONResponse({"institution": key, "versions": [v.to_json() for v in rows]})


@router.get("/submissions/{institution}/{version}", summary="One submitted version's content (N-Triples)")
async def get_version(institution: str, version: int, settings: SettingsDep, backend: BackendDep) -> Response:
    key = submissions.check_key(institution)
    data = await submissions.version_content(settings, backend, key, version)
    return Response(data, media_type="application/n-triples; charset=utf-8")
