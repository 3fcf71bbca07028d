"""The QR-code report form: server-rendered, phone-first, bilingual, and complete without JavaScript."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from hazardloop.errors import DomainError, Invalid
from hazardloop.events import PlaceKind, TenantId
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.media.attachments import Upload
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.http import same_token
from hazardloop.web.validation import IdInPath
from hazardloop_intake import form_errors
from hazardloop_intake.adapters import Intake
from hazardloop_intake.api.reports import IntakeDep
from hazardloop_intake.commands import handle_file_report
from hazardloop_intake.domain import Filer, FileReport, new_idempotency_key
from hazardloop_intake.drafts import DRAFT_COOKIE
from hazardloop_intake.drafts import TTL as DRAFT_TTL
from hazardloop_intake.forms import qr_code
from hazardloop_intake.i18n import choices, language
from hazardloop_intake.pages import render
from hazardloop_intake.queries import find_place
from hazardloop_intake.reporter_session import COOKIE_PATH, ReporterSession, SignedInReporter, secure_cookies
from hazardloop_intake.signin import signin_available, signin_notice, start_signin

routes = APIRouter()


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
    errors: dict[str, str],
    reporter: ReporterSession | None,
    status_code: int = 200,
    unconfirmed: bool = False,
    attachments: list[str] | None = None,
    notice: str | None = None,
):
    """The form; shown again it keeps what was typed, the photos already uploaded and its
    Idempotency-Key, so that sending it again can never file a second report."""
    zone = ZoneInfo(intake.settings.timezone)
    names = " / ".join(n for n in (place.site, place.area, place.spot) if n)
    signature = quote(request.query_params.get("k", ""))
    return render(
        "report_form.html",
        lang,
        status_code,
        action=f"{request.url.path}?k={signature}",
        here=f"{request.url.path}?k={signature}&lang={lang}",
        extra_query=f"&k={signature}",
        status_url="/f/status?lang=" + lang,
        mine_url="/f/mine?lang=" + lang,
        place_names=names,
        needs_spot=place.kind == PlaceKind.AREA,
        choices=choices(lang),
        form=form,
        errors=errors,
        reporter=reporter,
        notice=notice,
        unconfirmed=unconfirmed,
        attachments=attachments or [],
        idempotency_key=form.get("idempotency_key") or new_idempotency_key(),
        now=datetime.now(zone).strftime("%Y-%m-%dT%H:%M"),
    )


@routes.get("/f/{tenant}/{place_id}", response_class=HTMLResponse, include_in_schema=False)
def report_form(
    tenant: str, place_id: str, request: Request, intake: IntakeDep, reporter: SignedInReporter, k: str | None = None,
    lang: str | None = None, signin: str | None = None,
) -> HTMLResponse:
    """The form; back from a sign-in it holds the draft kept on the way (and says why a sign-in failed)."""
    place = _place_or_404(intake, tenant, place_id, k)
    chosen = language(lang, request.headers.get("accept-language"))
    draft = request.app.state.drafts.open(request.cookies.get(DRAFT_COOKIE))
    if draft is None or (draft["tenant"], draft["place_id"]) != (tenant, place_id):
        draft = {"form": {}, "attachments": []}
    notice = signin_notice(signin, chosen)
    return _form_page(
        intake, request, place, chosen, form=draft["form"], errors={}, reporter=reporter, attachments=draft["attachments"],
        notice=notice,
    )


@routes.post("/f/{tenant}/{place_id}", response_class=HTMLResponse, include_in_schema=False)
async def submit_report_form(
    tenant: str, place_id: str, request: Request, intake: IntakeDep, reporter: SignedInReporter, k: str | None = None
) -> Response:
    """File the report: anonymously, or in the name of the reporter signed in here. Choosing
    "named" without being signed in keeps the draft and goes to sign in; nothing is filed."""
    place = _place_or_404(intake, tenant, place_id, k)
    submitted = await request.form(max_files=intake.settings.max_attachments + 1, max_fields=40)
    form = {key: value for key, value in submitted.items() if isinstance(value, str) and key in FORM_FIELDS}
    form["idempotency_key"] = form.get("idempotency_key") or new_idempotency_key()
    lang = language(form.get("lang"), request.headers.get("accept-language"))
    form["lang"] = lang
    digests = [digest for digest in submitted.getlist("attachment") if isinstance(digest, str)]
    named = form.get("who") != "anonymous"

    def again(errors: dict[str, str], status_code: int, *, unconfirmed: bool = False) -> HTMLResponse:
        return _form_page(
            intake, request, place, lang, form=form, errors=errors, reporter=reporter, status_code=status_code,
            unconfirmed=unconfirmed, attachments=digests,
        )

    photos = [upload for upload in submitted.getlist("photos") if not isinstance(upload, str) and upload.filename]
    try:
        if form.get("who") not in ("named", "anonymous"):
            return again({"who": form_errors.message(lang, "who")}, 422)
        if named:
            refusal = _not_named_here(reporter, submitted.get("csrf"), tenant, lang)
            if refusal is not None:
                return again(*refusal)
        if len(photos) > intake.settings.max_attachments:
            raise Invalid(f"at most {intake.settings.max_attachments} photos or videos", field="photos")
        if photos:
            uploads = [Upload(await photo.read(), photo.content_type, photo.filename) for photo in photos]
            digests = [ref.digest for ref in await intake.attachments().put_all(tenant, uploads)]
        if named and reporter is None:
            if not signin_available(request):
                return again({"who": form_errors.message(lang, "who", detail="signin")}, 422)
            return await _sign_in_first(request, tenant, place_id, form, digests, lang)
        filer = Filer(reporter.subject) if named and reporter else Filer(None)
        command = FileReport.model_validate(_command(intake, tenant, place_id, form, digests, reporter if named else None))
        filing = await handle_file_report(intake, command, filer=filer, idempotency_key=form["idempotency_key"])
    except ValidationError as invalid:
        return again(form_errors.from_validation(invalid.errors(), lang), 422)
    except DomainError as refused:
        return again(form_errors.from_refusal(refused, lang, max_attachments=intake.settings.max_attachments), refused.status_code)
    except EventStoreUnavailable:
        page = again({}, 503, unconfirmed=True)
        page.headers["Retry-After"] = str(intake.settings.retry_after_seconds)
        return page
    status_code = 201 if filing.created else 200
    page = render(
        "report_filed.html",
        lang,
        status_code,
        report_id=filing.event.aggregate_id,
        receipt_code=filing.receipt_code,
        duplicate=filing.event.possible_duplicate_of is not None,
        status_url="/f/status?lang=" + lang,
        mine_url="/f/mine?lang=" + lang if named else None,
    )
    request.app.state.drafts.drop(request.cookies.get(DRAFT_COOKIE))
    page.delete_cookie(DRAFT_COOKIE, path=COOKIE_PATH)
    return page


FORM_FIELDS = frozenset({
    "idempotency_key", "lang", "kind", "description", "observed_at", "spot_detail", "cause_analysis", "suggested_fix",
    "emergency_action", "team", "who", "phone",
})
"""What the form sends and a draft keeps (a typed employee number or name is never read)."""


def _not_named_here(reporter: ReporterSession | None, csrf: object, tenant: str, lang: str) -> tuple[dict[str, str], int] | None:
    """Why this post cannot be filed in the name of the reporter signed in here, if it cannot.

    A form shown to a signed-in reporter carries the session's token: posted without a
    live session (it ended, or was never there) it is refused, not filed under anyone.
    """
    if reporter is None:
        return ({"who": form_errors.message(lang, "who", detail="signin")}, 422) if csrf is not None else None
    if not same_token(csrf, reporter.csrf):
        return {"who": form_errors.message(lang, "who", detail="expired")}, 403
    if not reporter.may_file_in(tenant):
        return {"who": form_errors.message(lang, "who", detail="tenant")}, 403
    return None


async def _sign_in_first(request: Request, tenant: str, place_id: str, form: dict[str, str], digests: list[str], lang: str) -> Response:
    """Keep what was typed (encrypted, under a key only the phone's cookie holds) and go sign in."""
    url = f"{request.url.path}?k={quote(request.query_params.get('k', ''))}&lang={lang}"
    secret = request.app.state.drafts.keep({"tenant": tenant, "place_id": place_id, "url": url, "form": form, "attachments": digests})
    response = await start_signin(request, url, lang)
    response.set_cookie(
        DRAFT_COOKIE, secret, max_age=int(DRAFT_TTL.total_seconds()), path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=secure_cookies(request),
    )
    return response


def _command(
    intake: Intake, tenant: str, place_id: str, form: dict[str, str], digests: list[str], reporter: ReporterSession | None
) -> dict[str, Any]:
    category, _, subtype = form.get("kind", "").partition(":")
    observed = form.get("observed_at", "")
    try:
        observed_at = datetime.fromisoformat(observed).replace(tzinfo=ZoneInfo(intake.settings.timezone)).isoformat()
    except ValueError:
        observed_at = observed  # left for validation to name
    optional = {key: form[key] for key in ("spot_detail", "cause_analysis", "suggested_fix", "emergency_action", "team") if form.get(key, "").strip()}
    identity = None
    if reporter is not None:  # who the token says, never what was typed; the phone number is the reporter's own
        identity = {"employee_number": reporter.subject, "name": reporter.name, "phone": form.get("phone", "").strip() or None}
        identity = {key: value for key, value in identity.items() if value}
    return {
        "tenant": tenant,
        "place_id": place_id,
        "category": category,
        "subtype": subtype or "other",
        "description": form.get("description", ""),
        "observed_at": observed_at,
        "channel": "web",
        "anonymous": reporter is None,
        "reporter": identity,
        "attachments": digests,
        **optional,
    }
