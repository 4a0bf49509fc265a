"""An institution's submission in the browser: sign in with the institution's token, get the template (pre-filled
with its stored data), upload, see the report (and the fix-it spreadsheet) or the preview of what the submission
changes, confirm, and see the receipt and the history of versions. Every form that writes carries the session's
CSRF token; the bearer-token API (``/submissions``) stays as it is."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pvpp_kg.errors import BadRequest, Conflict, Forbidden, InvalidToken, NotFound, PvppError
from pvpp_kg.lod.resources import choose_lang
from pvpp_kg.settings import Settings
from pvpp_kg.store.backend import Backend
from pvpp_kg.templating import templates
from pvpp_kg.validation import cockpit, submissions
from pvpp_kg.validation.report import report_html
from pvpp_kg.validation.template import build_csv_zip, build_workbook, rows_from_triples
from pvpp_kg.web import session
from pvpp_kg.web.auth import bearer
from pvpp_kg.web.deps import BackendDep, SettingsDep, TokensDep
from pvpp_kg.web.pending import Kept
from pvpp_kg.web.routers.validation import pending_of, read_upload, report_links, unread_report, validations_of

router = APIRouter(tags=["institution"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Lang = Annotated[str | None, Query(description="page language: lv or en")]


async def _name(backend: Backend, settings: Settings, key: str, lang: str) -> str:
    """The institution's name in the page's language (its key when the table does not know it)."""
    found = (await cockpit.overview(backend, settings)).institutions.get(key)
    return (found.labels.get(lang) or found.labels.get("lv") or key) if found is not None else key


@router.get("/signin", summary="The sign-in form for institutions (HTML)", response_class=HTMLResponse)
async def signin_page(request: Request, backend: BackendDep, settings: SettingsDep, lang: Lang = None) -> Response:
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    signed = session.current(request)
    csrf = signed.csrf if signed is not None else session.new_form_token()
    name = await _name(backend, settings, signed.institution, chosen) if signed is not None else None
    response = templates.TemplateResponse(
        request, "signin.html", {"lang": chosen, "signed": signed, "csrf": csrf, "name": name}
    )
    if signed is None:
        session.remember_form_token(request, response, csrf)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/signin", summary="Sign in with the institution's token: sets the session cookie")
async def signin(request: Request, token: Annotated[str, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    response = RedirectResponse("/institution", status_code=303)
    session.sign_in(request, response, token, csrf)
    return response


@router.post("/signout", summary="Sign out: the session cookie is removed")
async def signout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    signed = session.require(request, csrf)
    response = RedirectResponse("/signin", status_code=303)
    session.sign_out(request, response, signed)
    return response


@router.get("/institution", summary="The signed-in institution's page (HTML)", response_class=HTMLResponse)
async def institution_page(request: Request, backend: BackendDep, settings: SettingsDep, lang: Lang = None) -> Response:
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    signed = session.current(request)
    if signed is None:
        return RedirectResponse("/signin", status_code=303)  # which chooses the same language
    history = await submissions.versions(backend, signed.institution, timeout=settings.query_timeout_s)
    response = templates.TemplateResponse(
        request,
        "institution.html",
        {
            "lang": chosen,
            "key": signed.institution,
            "name": await _name(backend, settings, signed.institution, chosen),
            "csrf": signed.csrf,
            "versions": list(reversed(history)),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _template_rows(
    request: Request, tokens: TokensDep, backend: BackendDep, authorization: str | None, empty: bool
) -> tuple[str | None, dict | None]:
    """The rows of the signed-in (or bearer-token) institution's stored data, unless an empty template is asked."""
    if empty:
        return None, None
    key = None
    token = bearer(authorization)
    if token is not None:
        key = tokens.institution_for(token)
        if key is None:
            raise InvalidToken("the token is not valid: not an institution token")
    elif (signed := session.current(request)) is not None:
        key = signed.institution
    if key is None:
        return None, None
    triples = await submissions.current_triples(backend, key)
    return key, rows_from_triples(triples, key)


EmptyParam = Annotated[bool, Query(description="the empty template even when signed in")]


@router.get("/template.xlsx", summary="The spreadsheet template (pre-filled for a signed-in institution)")
async def template_xlsx(
    request: Request,
    settings: SettingsDep,
    tokens: TokensDep,
    backend: BackendDep,
    empty: EmptyParam = False,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    key, rows = await _template_rows(request, tokens, backend, authorization, empty)
    body = await anyio.to_thread.run_sync(build_workbook, settings.source_dir / "reference", rows)
    name = f"pvpp-{key}.xlsx" if key else "pvpp-template.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@router.get("/template.zip", summary="The template as CSV files in a zip (pre-filled for a signed-in institution)")
async def template_zip(
    request: Request,
    tokens: TokensDep,
    backend: BackendDep,
    empty: EmptyParam = False,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    key, rows = await _template_rows(request, tokens, backend, authorization, empty)
    body = await anyio.to_thread.run_sync(build_csv_zip, rows)
    name = f"pvpp-{key}-csv.zip" if key else "pvpp-template-csv.zip"
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@router.post("/submissions/preview", summary="Browser: validate an upload and show what it would change (HTML)")
async def preview(request: Request, settings: SettingsDep, backend: BackendDep) -> Response:
    """The form's ``csrf`` field is read from the multipart body: a write needs a live session and its token."""
    signed = session.current(request)
    if signed is None:
        raise Forbidden("sign in first: the session is missing or has expired (/signin)")
    parsed = await read_upload(request, None, settings, lambda fields: session.require(request, fields.get("csrf")))
    key = signed.institution
    lang = parsed.fields.get("lang") if parsed.fields.get("lang") in ("lv", "en") else "lv"
    pending = pending_of(request)
    if parsed.document is None:
        report = await unread_report(request, settings, backend, parsed, lang, key)
        kept = pending.add(Kept("", key, parsed.data, parsed.filename, report))
        return HTMLResponse(report_html(report, report_links(kept)), 422)
    document = parsed.document
    try:
        report, changes = await submissions.preview(
            settings, backend, validations_of(request), key, document, lang=lang
        )
    except (submissions.NotConforming, submissions.ForeignFacts, submissions.PersonalData) as e:
        # in the browser a row about another institution's node, or a person's name, is a report with its cells
        # (and the fix-it workbook), as a broken rule is; the API answers them 403 and 400
        report = e.report.in_language(lang).located(document.origin)
        kept = pending.add(Kept("", key, parsed.data, parsed.filename, report))
        return HTMLResponse(report_html(report, report_links(kept)), 422)
    report = report.located(document.origin)
    history = await submissions.versions(backend, key, timeout=settings.query_timeout_s)
    current = history[-1].version if history else None
    kept = pending.add(Kept("", key, parsed.data, parsed.filename, report, document, changes, based_on=current))
    response = templates.TemplateResponse(
        request,
        "submission_preview.html",
        {
            "lang": lang,
            "key": key,
            "name": await _name(backend, settings, key, lang),
            "csrf": signed.csrf,
            "kept": kept,
            "diff": changes,
            "report": report,
            "links": report_links(kept),
            "current": current,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/submissions/confirm", summary="Browser: store a previewed submission (then the receipt)")
async def confirm(
    request: Request,
    settings: SettingsDep,
    backend: BackendDep,
    upload: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    signed = session.require(request, csrf)
    pending = pending_of(request)
    try:
        kept = pending.take(upload, signed.institution)  # one confirmation stores it, whichever worker gets it
    except NotFound:
        if (stored := pending.stored_as(upload, signed.institution)) is None:
            raise
        # the same form sent again (a double click, the back button): it is stored, here is its receipt
        return RedirectResponse(f"/submissions/{signed.institution}/{stored}/receipt", status_code=303)
    document = kept.document
    if document is None or kept.institution != signed.institution:
        pending.put_back(kept)
        raise BadRequest("this upload was not previewed for submission: upload it from your institution's page")
    history = await submissions.versions(backend, signed.institution, timeout=settings.query_timeout_s)
    current = history[-1].version if history else None
    if current != kept.based_on:
        # a colleague stored a version after this preview: its changes were never shown against it, and storing
        # it would silently undo theirs
        raise Conflict(
            f"your institution's data changed after this preview (version {current} was stored since): nothing was "
            "stored; upload the file again to see its changes against the current version",
            lv=f"iestādes dati ir mainījušies kopš šī priekšskatījuma (pa to laiku saglabāta versija {current}): "
            "nekas netika saglabāts; augšupielādējiet datni vēlreiz, lai redzētu tās izmaiņas pret pašreizējo versiju",
        )
    try:
        version, _ = await submissions.submit(
            settings, backend, validations_of(request), signed.institution, document, lang=kept.report.lang
        )
    except PvppError:
        pending.put_back(kept)  # refused before anything was written: the upload can be confirmed again
        raise
    pending.stored(upload, signed.institution, version.version)
    return RedirectResponse(f"/submissions/{version.institution}/{version.version}/receipt", status_code=303)


@router.get(
    "/submissions/{institution}/{version}/receipt",
    summary="The receipt of a stored version (HTML)",
    response_class=HTMLResponse,
)
async def receipt(
    request: Request, institution: str, version: int, settings: SettingsDep, backend: BackendDep, lang: Lang = None
) -> Response:
    key = submissions.check_key(institution)
    history = await submissions.versions(backend, key, timeout=settings.query_timeout_s)
    found = next((v for v in history if v.version == version), None)
    if found is None:
        raise NotFound(f"institution {key!r} has no version {version}")
    signed = session.current(request)
    return templates.TemplateResponse(
        request,
        "submission_receipt.html",
        {
            "lang": choose_lang(lang, request.headers.get("accept-language")),
            "v": found,
            "versions": list(reversed(history)),
            "own": signed is not None and signed.institution == key,
        },
    )
