"""``/validate`` (SHACL report for an upload, nothing stored) and ``/submissions`` (validated, stored, versioned)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile

from pvpp_kg.conneg import negotiate
from pvpp_kg.errors import BadRequest, Forbidden, InputError, InvalidToken, NotAcceptable, PvppError, Unauthorized
from pvpp_kg.errors import NotFound as NotFoundError
from pvpp_kg.formats import HTML, Format
from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.settings import Settings
from pvpp_kg.templating import templates
from pvpp_kg.validation import submissions
from pvpp_kg.validation.fixit import fixit_workbook
from pvpp_kg.validation.neighbourhood import neighbourhood, sole_owner
from pvpp_kg.validation.parse import Document, parse_document
from pvpp_kg.validation.report import (
    LANGS,
    Report,
    report_csv,
    report_html,
    report_json,
    report_rdf,
    report_text,
    sheet_report,
    with_rules,
)
from pvpp_kg.validation.runner import Validations
from pvpp_kg.validation.spreadsheet import SheetErrors
from pvpp_kg.web import session
from pvpp_kg.web.auth import bearer
from pvpp_kg.web.deps import BackendDep, SettingsDep, TokensDep
from pvpp_kg.web.pending import Kept, Pending

router = APIRouter(tags=["validation"])

JSON = Format("json", "application/json", "", "json")
TURTLE = Format("turtle", "text/turtle", "", "ttl")
JSONLD = Format("jsonld", "application/ld+json", "", "jsonld")
TEXT = Format("text", "text/plain", "", "txt")
CSV = Format("csv", "text/csv", "", "csv")
TRIG = Format("trig", "application/trig", "", "trig")
REPORT_FORMATS = (JSON, TURTLE, JSONLD, HTML, TEXT, CSV)
DIFF_FORMATS = (JSON, TRIG, HTML)
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
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise InputError("the multipart body needs a 'file' field with the document")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        shapes = [
            (await f.read(), f.content_type, f.filename or "shapes")
            for f in form.getlist("shapes")
            if isinstance(f, UploadFile)
        ]
        if len(files) > 1:
            return await _csv_files_as_zip(files), "application/zip", "sheets.zip", fields, shapes
        return await files[0].read(), files[0].content_type, files[0].filename, fields, shapes
    return await request.body(), ctype or None, None, {}, []


async def _csv_files_as_zip(files: list[UploadFile]) -> bytes:
    """Several ``file`` fields: the template's CSV sheets, read together as the zip of them is (only the last one
    was read, silently); anything else is one document per request."""
    names = [f.filename or "" for f in files]
    if not all(n.lower().endswith(".csv") for n in names) or len({n.lower() for n in names}) < len(names):
        raise InputError(
            "send one document per request: only the template's CSV sheets (services.csv, posts.csv, …, each once) "
            "may come as several files",
            lv="sūtiet vienu dokumentu pieprasījumā: vairākās datnēs drīkst sūtīt tikai veidnes CSV lapas "
            "(services.csv, posts.csv, …, katru vienreiz)",
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f, name in zip(files, names, strict=True):
            z.writestr(name.rsplit("/", 1)[-1], await f.read())
    return out.getvalue()


@dataclass
class Parsed:
    """An upload as read: the document, or (a spreadsheet whose cells the reader refused) every refused cell."""

    data: bytes
    filename: str | None
    fields: dict[str, str]
    document: Document | None
    problems: list[Any]
    readable: Document | None  # with problems: the rows that could be read, for the rules
    shapes: tuple[Upload, ...]  # read and compiled in the validation process, with the validation


async def read_upload(
    request: Request, sheet: str | None, settings: Settings, check: Callable[[dict[str, str]], Any] | None = None
) -> Parsed:
    """The upload parsed; a spreadsheet's cell errors come back as ``problems`` (all of them), not as a 400.
    ``check`` sees the form's fields before the document is read (a CSRF token is checked before any work)."""
    data, media_type, filename, fields, shapes = await _upload(request)
    if check is not None:
        check(fields)
    sheet = sheet or fields.get("sheet")
    slots = validations_of(request).slots

    def parse() -> Document:
        with slots:
            return parse_document(data, media_type=media_type, filename=filename, sheet=sheet, settings=settings)

    readable = None
    try:
        document, problems = await anyio.to_thread.run_sync(parse), []
    except SheetErrors as e:
        document, problems, readable = None, e.problems, e.document
    uploads = tuple((c, t, n or "shapes") for c, t, n in shapes)
    return Parsed(data, filename, fields, document, problems, readable, uploads)


def _lang(lang: str | None, fields: dict[str, str], accept_language: str | None = None) -> str:
    """The report's language: ``lang`` in the query or the form, else Accept-Language's choice of lv and en (an
    API client that names neither gets English, as before)."""
    chosen = lang or fields.get("lang") or choose_lang(None, accept_language, default="en")
    if chosen not in LANGS:
        raise BadRequest(f"lang must be lv or en, not {chosen!r}")
    return chosen


def render(
    report: Report,
    accept: str | None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
    links: dict[str, str] | None = None,
) -> Response:
    fmt = negotiate(accept, REPORT_FORMATS)
    if fmt is CSV:
        return Response(report_csv(report), status, media_type="text/csv; charset=utf-8")
    if fmt is TURTLE:
        return Response(report_rdf(report, "turtle"), status, media_type="text/turtle; charset=utf-8")
    if fmt is JSONLD:
        return Response(report_rdf(report, "json-ld"), status, media_type="application/ld+json")
    if fmt is HTML:
        return HTMLResponse(report_html(report, links), status)
    if fmt is TEXT:
        return PlainTextResponse(report_text(report), status)
    return JSONResponse({**(extra or {}), **({"links": links} if links else {}), **report_json(report)}, status)


def report_links(upload: Kept) -> dict[str, str]:
    """Where a kept validation's report can be downloaded (and the fix-it workbook, for an XLSX upload)."""
    base = f"/validate/reports/{upload.id}"
    links = {fmt: f"{base}.{fmt}" for fmt in ("html", "csv", "json", "ttl")}
    if upload.is_xlsx:
        links["fixit"] = f"{base}/fixit.xlsx"
    return links


def validations_of(request: Request) -> Validations:
    """The app's validation process (started on the first validation) and its slots."""
    state = request.app.state
    if getattr(state, "validations", None) is None:
        state.validations = Validations(state.settings)
    return state.validations


def pending_of(request: Request) -> Pending:
    state = request.app.state
    if getattr(state, "pending", None) is None:
        settings: Settings = state.settings
        state.pending = Pending(settings.data_dir / "pending", settings.pending_max, settings.pending_ttl_s)
    return state.pending


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
    signed_in = session.current(request)
    if institution is None and signed_in is not None:
        institution = signed_in.institution
    parsed = await read_upload(request, sheet, settings)
    chosen = _lang(lang, parsed.fields, request.headers.get("accept-language"))
    if parsed.document is None:
        report = await unread_report(request, settings, backend, parsed, chosen, institution)
    else:
        report = await validate_parsed(request, settings, backend, parsed, parsed.document, chosen, institution)
    kept = pending_of(request).add(
        Kept("", signed_in.institution if signed_in else None, parsed.data, parsed.filename, report)
    )
    return render(report, accept, links=report_links(kept))


async def unread_report(
    request: Request, settings: Settings, backend: Any, parsed: Parsed, chosen: str, institution: str | None
) -> Report:
    """An upload with cells the reader refused: every one, with sheet/row/column, and the rules on the rows that
    could be read, in the same report."""
    report = sheet_report(parsed.problems, chosen)
    if parsed.readable is None:
        return report
    rules = await validate_parsed(request, settings, backend, parsed, parsed.readable, chosen, institution)
    return with_rules(report, rules)


async def validate_parsed(
    request: Request,
    settings: Settings,
    backend: Any,
    parsed: Parsed,
    graph: Document,
    chosen: str,
    institution: str | None,
) -> Report:
    shapes = parsed.shapes
    policy = (parsed.fields.get("policy") or "true").lower()
    if policy not in ("true", "false"):
        raise BadRequest(f"policy must be true or false, not {policy!r}")
    if policy == "false" and not shapes:
        raise BadRequest("policy=false validates against your own shapes only: add a 'shapes' file")
    validations = validations_of(request)
    if policy == "false":
        report = await validations.alone(graph, shapes, lang=chosen)
    else:
        # the other institutions' data the document refers to, as its submission reads it: whose document it is
        # is the signed-in institution's, else the one its services name as owner (an anonymous pre-check)
        whose = institution or sole_owner(graph)
        others = await neighbourhood(settings, backend, whose, graph) if whose is not None else None
        report = await validations.validate(graph, lang=chosen, shapes=shapes, institution=institution, context=others)
    return report.located(graph.origin)


_DOWNLOADS = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ttl": "text/turtle; charset=utf-8",
}


@router.get("/validate/reports/{id_}.{fmt}", summary="A kept validation's report: html, csv, json or ttl (SHACL)")
async def report_download(request: Request, id_: str, fmt: str, lang: LangParam = None) -> Response:
    """In the language the report was made in, or ``lang``'s (a shared link read by a colleague)."""
    if fmt not in _DOWNLOADS:
        raise NotFoundError(f"no report format {fmt!r}; one of: {', '.join(_DOWNLOADS)}")
    signed_in = session.current(request)
    upload = pending_of(request).get(id_, signed_in.institution if signed_in else None)
    report = upload.report if lang is None else upload.report.in_language(_lang(lang, {}))
    body: str | bytes
    if fmt == "html":
        body = report_html(report, report_links(upload))
    elif fmt == "csv":
        body = report_csv(report)
    elif fmt == "json":
        body = json.dumps(report_json(report), ensure_ascii=False, indent=1)
    else:
        body = report_rdf(report, "turtle")
    name = f"pvpp-validation-report.{fmt}"
    return Response(
        body,
        media_type=_DOWNLOADS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/validate/reports/{id_}/fixit.xlsx", summary="The uploaded workbook with every result marked in it")
async def fixit_download(request: Request, id_: str) -> Response:
    signed_in = session.current(request)
    upload = pending_of(request).get(id_, signed_in.institution if signed_in else None)
    if not upload.is_xlsx:
        raise BadRequest("a fix-it spreadsheet is made from an XLSX upload only")
    body = await anyio.to_thread.run_sync(fixit_workbook, upload.data, upload.report)
    stem = (upload.filename or "upload.xlsx").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    safe = "".join(c for c in stem if c.isalnum() or c in "-_.") or "upload"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{safe}-fixit.xlsx"'},
    )


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
        raise InvalidToken("the token is not valid: not an institution token")
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
    dry_run: Annotated[bool, Query(description="only say what it would change (JSON, or TriG)")] = False,
    authorization: Annotated[str | None, Header()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """With ``dry_run=true`` nothing is stored: the answer is the diff against the institution's current graph —
    nodes added, removed, changed (fields old → new), posts reassigned, counts per kind — as JSON, or as TriG
    (``Accept: application/trig``: the removed and the added triples, each in a named graph)."""
    key = _institution(tokens, authorization, institution)
    negotiate(accept, DIFF_FORMATS if dry_run else REPORT_FORMATS)
    parsed = await read_upload(request, sheet, settings)
    if parsed.shapes:
        raise BadRequest("a submission is validated against the policy's shapes only; use /validate for your own")
    chosen = _lang(lang, parsed.fields, request.headers.get("accept-language"))
    if parsed.document is None:  # every refused cell and what the readable rows break, as /validate reports them
        report = await unread_report(request, settings, backend, parsed, chosen, key)
        return _refused(report, accept, 422, _NOT_READ)
    graph = parsed.document
    if dry_run:
        try:
            report, changes = await submissions.preview(
                settings, backend, validations_of(request), key, graph, lang=chosen
            )
        except (submissions.NotConforming, submissions.ForeignFacts, submissions.PersonalData) as e:
            return _refused(e.report.located(graph.origin), accept, e.status, _error(e, chosen))
        if negotiate(accept, DIFF_FORMATS) is TRIG:
            return Response(changes.to_trig(), media_type="application/trig")
        # the report the stored version would carry (its warnings, cell by cell), as a submission's JSON has it
        located = report_json(report.located(graph.origin))
        return JSONResponse({"institution": key, "dry_run": True, **located, "diff": changes.to_json()})
    try:
        version, report = await submissions.submit(settings, backend, validations_of(request), key, graph, lang=chosen)
    except (submissions.NotConforming, submissions.ForeignFacts, submissions.PersonalData) as e:
        return _refused(e.report.located(graph.origin), accept, e.status, _error(e, chosen))
    return render(report.located(graph.origin), accept, 201, {"stored": version.to_json()})


_NOT_READ = {"error": "not_read", "message": "cells of the spreadsheet could not be read: the report names each"}


def _error(e: PvppError, lang: str) -> dict[str, Any]:
    return {"error": e.code, "message": e.in_language(lang), **({"messages": e.messages} if e.messages else {})}


def _refused(report: Report, accept: str | None, status: int, extra: dict[str, Any]) -> Response:
    """A refused submission with its whole report, each result at its cell (422 for broken rules or unread cells,
    403 for another's facts, 400 for personal data); JSON when the client asked only for a diff's TriG."""
    try:
        negotiate(accept, REPORT_FORMATS)
    except NotAcceptable:
        accept = "application/json"
    return render(report, accept, status, extra)


@router.get("/submissions/{institution}", summary="The versions an institution has submitted")
async def list_versions(institution: str, backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    key = submissions.check_key(institution)
    rows = await submissions.versions(backend, key, timeout=settings.query_timeout_s)
    if not rows and not await submissions.known(backend, key, timeout=settings.query_timeout_s):
        raise NotFoundError(f"no institution {key!r}: see /compliance for the list")
    return JSONResponse({"institution": key, "versions": [v.to_json() for v in rows]})


@router.get("/submissions/{institution}/{version}", summary="One submitted version's content (N-Triples)")
async def get_version(institution: str, version: int, settings: SettingsDep, backend: BackendDep) -> Response:
    key = submissions.check_key(institution)
    data = await submissions.version_content(settings, backend, key, version)
    return Response(data, media_type="application/n-triples; charset=utf-8")
