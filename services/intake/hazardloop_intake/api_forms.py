"""The QR-code report form: server-rendered, phone-first, bilingual, and complete without JavaScript."""

from __future__ import annotations

import asyncio
from urllib.parse import quote
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from hazardloop.auth import Principal, Role, check_tenant, require
from hazardloop.errors import DomainError, Invalid
from hazardloop.eventstore import EventStoreUnavailable
from hazardloop.events import PlaceKind, TenantId
from hazardloop.labels import label
from hazardloop.service import RuntimeDep
from hazardloop.validation import IdInPath
from hazardloop_intake.adapters import Intake
from hazardloop_intake.api import IntakeDep, by_receipt
from hazardloop_intake.domain import FileReport
from hazardloop_intake.forms import qr_code
from hazardloop_intake.handlers import Filer, handle_file_report, new_idempotency_key
from hazardloop_intake.i18n import TEXT, choices, language
from hazardloop_intake.queries import find_place

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"}

routes = APIRouter()


def render(name: str, lang: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = templates.get_template(name).render(lang=lang, t=TEXT[lang], **{"extra_query": ""} | context)
    return HTMLResponse(page, status_code=status_code, headers=NO_STORE)


@routes.get("/places/{place_id}/qr.{kind}", tags=["catalogue"], response_class=Response)
def place_qr_code(
    place_id: IdInPath,
    kind: Literal["png", "svg"],
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.OPERATOR, Role.VERIFIER))],
    tenant: Annotated[TenantId, Query()],
) -> Response:
    """A printable QR code for a place: scanning it opens the report form for that place."""
    check_tenant(principal, tenant)
    _reportable(intake, tenant, place_id)
    data, media_type = qr_code(intake.links.url_for(tenant, place_id), kind)
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{tenant}-{place_id}.{kind}"'})


@routes.get("/places/{place_id}/form-link", tags=["catalogue"])
def place_form_link(
    place_id: IdInPath,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.OPERATOR, Role.VERIFIER))],
    tenant: Annotated[TenantId, Query()],
) -> dict[str, str]:
    """The signed link a place's QR code holds (for posters, intranet pages or chat groups)."""
    check_tenant(principal, tenant)
    _reportable(intake, tenant, place_id)
    return {"url": intake.links.url_for(tenant, place_id)}


def _reportable(intake: Intake, tenant: str, place_id: str):
    place = intake.read(find_place, tenant, place_id)
    if place is None or not place.takes_reports:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no area or spot {place_id!r} taking reports in {tenant}")
    return place


def _place_or_404(intake: Intake, tenant: str, place_id: str, signature: str | None):
    place = intake.read(find_place, tenant, place_id) if tenant in intake.settings.tenants else None
    if place is None or not place.takes_reports or not intake.links.is_valid(tenant, place_id, signature):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="this QR code is not valid (any more); ask the safety department")
    return place


def _form_page(
    intake: Intake,
    request: Request,
    place,
    lang: str,
    *,
    form: dict,
    errors: list[str],
    status_code: int = 200,
    unconfirmed: bool = False,
    attachments: list[str] | None = None,
):
    """The form; shown again it keeps what was typed, the photos already uploaded and its
    Idempotency-Key, so that sending it again can never file a second report."""
    zone = ZoneInfo(intake.settings.timezone)
    names = " / ".join(n for n in (place.site, place.area, place.spot) if n)
    return render(
        "report_form.html",
        lang,
        status_code,
        action=str(request.url.path) + f"?k={quote(request.query_params.get('k', ''))}",
        extra_query=f"&k={quote(request.query_params.get('k', ''))}",
        status_url="/f/status?lang=" + lang,
        place_names=names,
        needs_spot=place.kind == PlaceKind.AREA,
        choices=choices(lang),
        form=form,
        errors=errors,
        unconfirmed=unconfirmed,
        attachments=attachments or [],
        idempotency_key=form.get("idempotency_key") or new_idempotency_key(),
        now=datetime.now(zone).strftime("%Y-%m-%dT%H:%M"),
    )


@routes.get("/f/{tenant}/{place_id}", response_class=HTMLResponse, include_in_schema=False)
def report_form(
    tenant: str, place_id: str, request: Request, intake: IntakeDep, k: str | None = None, lang: str | None = None
) -> HTMLResponse:
    place = _place_or_404(intake, tenant, place_id, k)
    return _form_page(intake, request, place, language(lang, request.headers.get("accept-language")), form={}, errors=[])


@routes.post("/f/{tenant}/{place_id}", response_class=HTMLResponse, include_in_schema=False)
async def submit_report_form(tenant: str, place_id: str, request: Request, intake: IntakeDep, k: str | None = None) -> HTMLResponse:
    place = _place_or_404(intake, tenant, place_id, k)
    submitted = await request.form(max_files=intake.settings.max_attachments + 1, max_fields=40)
    form = {key: value for key, value in submitted.items() if isinstance(value, str)}
    form["idempotency_key"] = form.get("idempotency_key") or new_idempotency_key()
    lang = language(form.get("lang"), request.headers.get("accept-language"))
    digests = [digest for digest in submitted.getlist("attachment") if isinstance(digest, str)]

    def again(errors: list[str], status_code: int, *, unconfirmed: bool = False) -> HTMLResponse:
        return _form_page(
            intake, request, place, lang, form=form, errors=errors, status_code=status_code, unconfirmed=unconfirmed, attachments=digests
        )

    photos = [upload for upload in submitted.getlist("photos") if not isinstance(upload, str) and upload.filename]
    try:
        if len(photos) > intake.settings.max_attachments:
            raise Invalid(f"at most {intake.settings.max_attachments} photos or videos", field="photos")
        if photos:
            digests = [(await intake.attachments().put(tenant, await photo.read())).digest for photo in photos]
        command = FileReport.model_validate(_command(intake, tenant, place_id, form, digests))
        filing = await handle_file_report(intake, command, filer=Filer(None), idempotency_key=form["idempotency_key"])
    except ValidationError as invalid:
        return again([f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in invalid.errors()], 422)
    except DomainError as refused:
        return again([str(refused)], refused.status_code)
    except EventStoreUnavailable:
        page = again([], 503, unconfirmed=True)
        page.headers["Retry-After"] = str(intake.settings.retry_after_seconds)
        return page
    status_code = 201 if filing.created else 200
    return render(
        "report_filed.html",
        lang,
        status_code,
        report_id=filing.event.aggregate_id,
        receipt_code=filing.receipt_code,
        duplicate=filing.event.possible_duplicate_of is not None,
        status_url="/f/status?lang=" + lang,
    )


def _command(intake: Intake, tenant: str, place_id: str, form: dict[str, str], digests: list[str]) -> dict[str, Any]:
    category, _, subtype = form.get("kind", "").partition(":")
    observed = form.get("observed_at", "")
    try:
        observed_at = datetime.fromisoformat(observed).replace(tzinfo=ZoneInfo(intake.settings.timezone)).isoformat()
    except ValueError:
        observed_at = observed  # left for validation to name
    anonymous = form.get("who") == "anonymous"
    person = {key: form[key] for key in ("employee_number", "name", "phone") if form.get(key, "").strip()}
    optional = {key: form[key] for key in ("spot_detail", "cause_analysis", "suggested_fix", "emergency_action", "team") if form.get(key, "").strip()}
    return {
        "tenant": tenant,
        "place_id": place_id,
        "category": category,
        "subtype": subtype or "other",
        "description": form.get("description", ""),
        "observed_at": observed_at,
        "channel": "web",
        "anonymous": anonymous,
        "reporter": None if anonymous else (person or None),
        "attachments": digests,
        **optional,
    }


@routes.get("/f/status", response_class=HTMLResponse, include_in_schema=False)
def receipt_form(request: Request, lang: str | None = None) -> HTMLResponse:
    return render("status.html", language(lang, request.headers.get("accept-language")), action="/f/status")


@routes.post("/f/status", response_class=HTMLResponse, include_in_schema=False)
async def receipt_lookup(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    form = await request.form(max_files=0, max_fields=5)
    lang = language(str(form.get("lang") or ""), request.headers.get("accept-language"))
    code = str(form.get("code") or "")
    report = await asyncio.to_thread(by_receipt, runtime, code) if code else None
    if report is not None:
        report = await runtime.texts.reveal_model(report, erased=label("erased_text", lang))
    return render("status.html", lang, 200 if report else 404, action="/f/status", report=report, not_found=report is None)
