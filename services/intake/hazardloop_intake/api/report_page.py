"""The reporter's own page of one report, phone-first and complete without JavaScript:
where it stands, in plain words and local time, the thread with the safety department,
the reward and its anonymous claim, and the dossier.

An anonymous reporter reaches it with the receipt code: typed once into ``/f/status``,
then kept in a server-side session (``receipt_sessions``) so that it never appears in a
URL. A named reporter signed in on the form reaches ``/f/reports/{id}`` of their own
reports. Every page below speaks to a ``Looker``, never to the proof itself: both are the
same page.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from hazardloop.events import MESSAGE_LIMIT
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.runtime.service import Runtime
from hazardloop.timing.instants import in_zone
from hazardloop.web.http import same_token
from hazardloop.web.labels import label
from hazardloop_intake.adapters import Intake
from hazardloop_intake.api.reports import steps
from hazardloop_intake.api.thread import post_message
from hazardloop_intake.domain import new_idempotency_key
from hazardloop_intake.i18n import language
from hazardloop_intake.lookups import TooManyLookups, client_address
from hazardloop_intake.peers import PeerDown, PeerRefused
from hazardloop_intake.queries import by_receipt_code, messages, report_row
from hazardloop_intake.receipt_sessions import new_csrf
from hazardloop_intake.report_page import (
    CLAIMABLE,
    MESSAGE,
    ReporterDesk,
    claim_refusal,
    message_error,
    page,
    reward_state,
    sentence,
    words,
)
from hazardloop_intake.reporter_session import ReporterSession, SignedInReporter
from hazardloop_intake.signin import start_signin
from hazardloop_intake.store import attachments, rewards
from hazardloop_intake.thread import Looker, looker

routes = APIRouter(include_in_schema=False)

RECEIPT_COOKIE = "hl_receipt"
LOOKUP_COOKIE = "hl_lookup"
"""Double-submit CSRF token of the look-up form, before any session exists."""


def desk(request: Request) -> ReporterDesk:
    return request.app.state.reporter_desk


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def intake_of(request: Request) -> Intake:
    return request.app.state.intake


def _lang(request: Request, chosen: str | None = None) -> str:
    return language(chosen or request.query_params.get("lang"), request.headers.get("accept-language"))


# --- the look-up ----------------------------------------------------------------------------


def lookup_page(request: Request, lang: str, status_code: int = 200, *, message: str | None = None, retry_after: int | None = None) -> HTMLResponse:
    """The receipt-code form, with its CSRF token in a cookie and in the form."""
    token = request.cookies.get(LOOKUP_COOKIE) or new_csrf()
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    response = page("status.html", lang, status_code, headers, action="/f/status", csrf=token, message=message)
    response.set_cookie(LOOKUP_COOKIE, token, httponly=True, samesite="lax", secure=desk(request).secure_cookies, path="/f/")
    return response


@routes.get("/f/status", response_class=HTMLResponse)
def receipt_form(request: Request, lang: str | None = None, ended: bool = False, expired: bool = False) -> HTMLResponse:
    lang = _lang(request, lang)
    message = words(lang)["ended"] if ended else words(lang)["session_ended"] if expired else None
    return lookup_page(request, lang, message=message)


@routes.post("/f/status", response_class=HTMLResponse)
async def receipt_lookup(request: Request) -> Response:
    """Check the code (limited against guessing) and open the reporter's page without it in any URL."""
    form = await request.form(max_files=0, max_fields=5)
    lang = _lang(request, str(form.get("lang") or ""))
    t = words(lang)
    reporter_desk = desk(request)
    if not same_token(form.get("csrf"), request.cookies.get(LOOKUP_COOKIE)):
        return lookup_page(request, lang, 403, message=t["expired_form"])
    address = client_address(request)
    try:
        reporter_desk.limiter.check(address)
    except TooManyLookups as busy:
        return lookup_page(request, lang, 429, message=t["too_many"].format(minutes=math.ceil(busy.retry_after / 60)), retry_after=busy.retry_after)
    code = str(form.get("code") or "").strip()
    runtime = runtime_of(request)
    row = await asyncio.to_thread(_report_by_code, runtime, code) if 20 <= len(code) <= 60 else None
    if row is None:  # an unknown code and a mistyped one are the same: no report has it
        reporter_desk.limiter.wrong(address, code)
        return lookup_page(request, lang, 404, message=t["not_found"])
    secret = await asyncio.to_thread(reporter_desk.sessions.open, code)
    response = RedirectResponse(f"/f/receipt?lang={lang}", status_code=303)
    response.set_cookie(
        RECEIPT_COOKIE, secret, httponly=True, samesite="lax", secure=reporter_desk.secure_cookies, path="/f/"
    )  # a browser-session cookie: the server ends the session after the idle time
    return response


def _report_by_code(runtime: Runtime, code: str) -> Any:
    with runtime.engine.connect() as db:
        return by_receipt_code(db, code)


def _anonymous(request: Request) -> tuple[Any, Looker, str] | None:
    """(report, looker, CSRF token) of the receipt session this browser holds, if it is live."""
    session = desk(request).sessions.find(request.cookies.get(RECEIPT_COOKIE))
    if session is None:
        return None
    row = _report_by_code(runtime_of(request), session.receipt_code)
    if row is None:
        return None
    return row, Looker(reporter=True, actor=f"reporter:{row.reporter}", receipt_code=session.receipt_code), session.csrf


def _ask_again(lang: str) -> RedirectResponse:
    return RedirectResponse(f"/f/status?lang={lang}&expired=1", status_code=303)


# --- the report page ------------------------------------------------------------------------


@routes.get("/f/receipt", response_class=HTMLResponse)
async def receipt_page(request: Request, lang: str | None = None, sent: bool = False) -> Response:
    lang = _lang(request, lang)
    found = await asyncio.to_thread(_anonymous, request)
    if found is None:
        return _ask_again(lang)
    row, who, csrf = found
    notice = words(lang)["sent"] if sent else None
    return await report_page(request, lang, row, who, csrf=csrf, base="/f/receipt", notice=notice)


async def report_page(request: Request, lang: str, row: Any, who: Looker, *, csrf: str, base: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
    """The page of one report for its reporter, in ``lang`` and the group's time zone."""
    runtime = runtime_of(request)
    zone = ZoneInfo(runtime.settings.timezone)
    t = words(lang)

    def when(at: datetime | None) -> str:
        return in_zone(at, zone).strftime("%Y-%m-%d %H:%M") if at is not None else ""

    def yuan(fen: int | None) -> str:
        return "" if fen is None else t["yuan"].format(v=f"{fen // 100:,}.{fen % 100:02d}")

    def read() -> tuple[int, Any, list[Any]]:
        with runtime.engine.connect() as db:
            photos = len(db.execute(select(attachments.c.digest).where(attachments.c.report_id == row.report_id)).all())
            reward = db.execute(select(rewards).where(rewards.c.report_id == row.report_id)).first()
            return photos, reward, messages(db, row.report_id)

    photos, reward, thread = await asyncio.to_thread(read)
    opened = await runtime.texts.reveal(  # the reporter's own words and the thread, sealed in the store
        {"report": dict(row._mapping), "thread": [message.text for message in thread]}, erased=label("erased_text", lang)
    )
    row = SimpleNamespace(**opened["report"])
    timeline = [(when(step.occurred_at), sentence(step, t, lang, when, yuan)) for step in steps(row, attachments=photos)]
    shown = {"form_text": "", "notice": None, "error": None, "voucher": None, "claim_error": None} | extra
    shown.setdefault("idempotency_key", new_idempotency_key())
    return page(
        "report.html", lang, status_code,
        report=row,
        state=label(row.status, lang),
        category=f"{label(row.category, lang)} · {label(row.subtype, lang)}",
        place=" / ".join(name for name in (row.site, row.area, row.spot) if name),
        observed=when(row.observed_at),
        timeline=timeline,
        deadline=when(row.deadline),
        rectified_at=when(row.rectified_at),
        reward=reward,
        reward_amount=yuan(reward.amount_fen) if reward else "",
        reward_state=label(reward_state(reward), lang) if reward else "",
        paid_how=label(reward.channel, lang) if reward and reward.channel else "",
        claimable=who.anonymous and reward is not None and reward.stage in CLAIMABLE,
        claimed=bool(reward and reward.claimed),
        thread=[(message.from_reporter, when(message.written_at), text) for message, text in zip(thread, opened["thread"], strict=True)],
        limit=MESSAGE_LIMIT, csrf=csrf, base=base, nav_path=base,
        **shown,
    )


# --- what the reporter does from the page ---------------------------------------------------


async def _posted(request: Request) -> tuple[dict[str, str], str, tuple[Any, Looker, str] | None]:
    """The posted form, its language, and the session it came from if its CSRF token is the session's."""
    form = await request.form(max_files=0, max_fields=6)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    lang = _lang(request, values.get("lang"))
    found = await asyncio.to_thread(_anonymous, request)
    if found is None or not same_token(values.get("csrf"), found[2]):
        return values, lang, None
    return values, lang, found


@routes.post("/f/receipt/messages", response_class=HTMLResponse)
async def write_from_receipt_page(request: Request) -> Response:
    values, lang, found = await _posted(request)
    if found is None:
        return _ask_again(lang)
    row, who, csrf = found
    return await write_message(request, lang, row, who, csrf=csrf, base="/f/receipt", values=values)


async def write_message(request: Request, lang: str, row: Any, who: Looker, *, csrf: str, base: str, values: dict[str, str]) -> Response:
    """Record the message and show the page again (post-redirect-get); a message that cannot
    be kept comes back in the form with the reason in the reporter's language, stored nowhere."""
    t = words(lang)
    text = values.get("text", "").replace("\r\n", "\n")  # a browser sends a textarea's line breaks as CRLF
    error = message_error(text, t)
    again = dict(csrf=csrf, base=base, form_text=text)
    if error is not None:
        return await report_page(request, lang, row, who, status_code=422, error=error, **again)
    key = values.get("idempotency_key") or new_idempotency_key()
    try:
        await post_message(intake_of(request), row, who, MESSAGE.validate_python(text), key[:200])
    except EventStoreUnavailable:  # not confirmed: sent again with the same key, it is written at most once
        retry = str(runtime_of(request).settings.retry_after_seconds)
        page_again = await report_page(
            request, lang, row, who, status_code=503, error=t["message_unconfirmed"], idempotency_key=key[:200], **again
        )
        page_again.headers["Retry-After"] = retry
        return page_again
    return RedirectResponse(f"{base}?lang={lang}&sent=1#thread", status_code=303)


@routes.post("/f/receipt/claim", response_class=HTMLResponse)
async def claim_from_receipt_page(request: Request) -> Response:
    """Claim the reward with the receipt code; the voucher is shown on this answer only."""
    _, lang, found = await _posted(request)
    if found is None:
        return _ask_again(lang)
    row, who, csrf = found
    t = words(lang)
    try:
        voucher = await desk(request).peers.claim(row.report_id, who)
    except PeerDown:
        answer = await report_page(request, lang, row, who, csrf=csrf, base="/f/receipt", status_code=503, claim_error=t["service_down"])
        answer.headers["Retry-After"] = str(runtime_of(request).settings.retry_after_seconds)
        return answer
    except PeerRefused as refusal:
        reason = claim_refusal(refusal, t, lang)
        return await report_page(request, lang, row, who, csrf=csrf, base="/f/receipt", status_code=refusal.status, claim_error=reason)
    return await report_page(request, lang, row, who, csrf=csrf, base="/f/receipt", voucher=voucher)


@routes.get("/f/receipt/dossier", response_class=HTMLResponse)
async def dossier_from_receipt_page(request: Request, lang: str | None = None) -> Response:
    lang = _lang(request, lang)
    found = await asyncio.to_thread(_anonymous, request)
    if found is None:
        return _ask_again(lang)
    row, who, _ = found
    return await dossier(request, lang, row, who)


async def dossier(request: Request, lang: str, row: Any, who: Looker) -> Response:
    """Verification's dossier of the report, fetched with the reporter's own proof."""
    try:
        answer = await desk(request).peers.dossier(row.report_id, who, "en" if lang == "en" else "zh-CN")
    except (PeerDown, PeerRefused) as failure:
        status_code = failure.status if isinstance(failure, PeerRefused) else 503
        headers = {"Retry-After": str(runtime_of(request).settings.retry_after_seconds)} if status_code == 503 else None
        return page("message.html", lang, status_code, headers, message=words(lang)["dossier_unavailable"])
    headers = {
        "Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    }
    return HTMLResponse(answer.text, headers=headers)


@routes.post("/f/receipt/end", response_class=HTMLResponse)
async def end_receipt_session(request: Request) -> Response:
    """Close the page on this device (a shared phone): the session and its cookie are gone."""
    _, lang, found = await _posted(request)
    secret = request.cookies.get(RECEIPT_COOKIE)
    if found is not None and secret:
        await asyncio.to_thread(desk(request).sessions.close, secret)
    response = RedirectResponse(f"/f/status?lang={lang}&ended=1", status_code=303)
    response.delete_cookie(RECEIPT_COOKIE, path="/f/")
    return response


# --- the signed-in reporter's own report ----------------------------------------------------


async def _own(request: Request, reporter: ReporterSession, report_id: str) -> tuple[Any, Looker] | None:
    """The report if it is this signed-in reporter's own, and them as its looker."""
    runtime = runtime_of(request)
    principal = reporter.principal(runtime.settings.tenants)

    def read() -> Any:
        with runtime.engine.connect() as db:
            return report_row(db, report_id[:64])

    row = await asyncio.to_thread(read)
    own = frozenset(await runtime.pseudonyms_of(principal)) if row is not None else frozenset()
    who = looker(row, principal=principal, receipt_code=None, own_pseudonyms=own)
    if who is None or not who.reporter:
        return None
    return row, Looker(reporter=True, actor=who.actor, token=reporter.token)


async def _signed_in_page(request: Request, reporter: ReporterSession | None, report_id: str, lang: str, then) -> Response:
    """``then(row, looker)`` for the reporter's own report; sign-in first, or the same 404 for
    a report that does not exist and one of somebody else."""
    if reporter is None:
        return await start_signin(request, f"/f/reports/{report_id[:64]}?lang={lang}", lang)
    found = await _own(request, reporter, report_id)
    if found is None:
        return page("message.html", lang, 404, message=words(lang)["no_such_report"])
    return await then(*found)


@routes.get("/f/reports/{report_id}", response_class=HTMLResponse)
async def own_report_page(request: Request, report_id: str, reporter: SignedInReporter, lang: str | None = None, sent: bool = False) -> Response:
    lang = _lang(request, lang)

    async def show(row: Any, who: Looker) -> Response:
        notice = words(lang)["sent"] if sent else None
        return await report_page(request, lang, row, who, csrf=reporter.csrf, base=f"/f/reports/{row.report_id}", notice=notice)

    return await _signed_in_page(request, reporter, report_id, lang, show)


@routes.post("/f/reports/{report_id}/messages", response_class=HTMLResponse)
async def write_from_own_report_page(request: Request, report_id: str, reporter: SignedInReporter) -> Response:
    form = await request.form(max_files=0, max_fields=6)
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    lang = _lang(request, values.get("lang"))
    if reporter is not None and not same_token(values.get("csrf"), reporter.csrf):
        return page("message.html", lang, 403, message=words(lang)["expired_form"])

    async def write(row: Any, who: Looker) -> Response:
        return await write_message(request, lang, row, who, csrf=reporter.csrf, base=f"/f/reports/{row.report_id}", values=values)

    return await _signed_in_page(request, reporter, report_id, lang, write)


@routes.get("/f/reports/{report_id}/dossier", response_class=HTMLResponse)
async def dossier_from_own_report_page(request: Request, report_id: str, reporter: SignedInReporter, lang: str | None = None) -> Response:
    lang = _lang(request, lang)

    async def fetch(row: Any, who: Looker) -> Response:
        return await dossier(request, lang, row, who)

    return await _signed_in_page(request, reporter, report_id, lang, fetch)
