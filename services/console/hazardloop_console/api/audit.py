"""The auditor's page: is the log intact (last seal, first fault), what does the
reconciliation find against it, and the hazard ledger of a subsidiary and period.

The check reads the whole log, so it runs when an auditor asks for it, bounded in
time, and its result is kept with when it ran; the page itself only reads that.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import nats.errors
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hazardloop.exports.ledger import ledger_csv, ledger_xlsx
from hazardloop.web.auth import Role
from hazardloop.web.labels import label
from hazardloop_console import logcheck
from hazardloop_console.api.dashboard import period_ends
from hazardloop_console.i18n import WORDS
from hazardloop_console.queries import local_day_start
from hazardloop_console.web import FormDep, Page, for_roles, render, retry_later, see_other

routes = APIRouter(prefix="/console", include_in_schema=False)

Auditor = Annotated[Page, Depends(for_roles(Role.AUDITOR))]
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}
LEDGER_LANGUAGES = ("zh-CN", "en")


def plainly(view: Page, prefix: str, kind: str) -> str:
    """A fault's or an exception's name in the page's language (the code itself if new)."""
    key = prefix + kind.replace(",", "").replace(" ", "_")
    return view.t(key) if key in WORDS else kind


def _page(view: Page, status_code: int = 200, **ledger: object) -> Response:
    tenants = view.tenants
    check = logcheck.latest(view.engine)
    findings = [f for f in check.findings if f["tenant"] in tenants] if check else []
    today = datetime.now(UTC).astimezone(view.zone).date()
    form = {"tenant": tenants[0] if tenants else "", "since": date(today.year, 1, 1).isoformat(), "until": today.isoformat(),
            "ledger_lang": "zh-CN"} | {k: str(v) for k, v in ledger.items()}
    return render(view, "audit.html", status_code=status_code, check=check, findings=findings, tenants=tenants,
                  form=form, plainly=plainly, ends=period_ends(view))


@routes.get("/audit")
def audit_page(view: Auditor) -> Response:
    if view.request.query_params.get("checked"):
        view.notices.append(view.t("log_checked"))
    return _page(view)


@routes.post("/audit/check")
async def check_now(view: Auditor, _: FormDep) -> Response:
    """Verify and reconcile the log now, within the time the settings allow."""
    settings = view.settings
    try:
        check = await logcheck.check_log(settings, view.person.subject, settings.audit_check_seconds)
    except (OSError, TimeoutError, nats.errors.Error) as exc:  # the broker cannot be reached
        view.errors.append(view.t("log_unreachable", r=type(exc).__name__))
        return retry_later(view, _page(view, status_code=503))
    logcheck.keep(view.engine, check)
    return see_other("/console/audit?checked=1")


def _ledger_request(view: Page) -> tuple[str, date, date, str, str]:
    """The ledger asked for; each field asked wrongly is marked on the page."""
    query = view.request.query_params
    tenant = query.get("tenant", "")
    if tenant not in view.tenants:
        view.fields["tenant"] = view.t("invalid")
    days = []
    for name in ("since", "until"):
        try:
            days.append(date.fromisoformat(query.get(name, "")))
        except ValueError:
            view.fields[name] = view.t("not_a_date")
            days.append(date.today())
    since, until = days
    if since > until and "since" not in view.fields:
        view.fields["since"] = view.t("since_after_until")
    language = query.get("ledger_lang", "zh-CN")
    if language not in LEDGER_LANGUAGES:
        view.fields["ledger_lang"] = view.t("invalid")
    kind = query.get("format", "")
    if kind not in FORMATS:
        view.fields["format"] = view.t("invalid")
    return tenant, since, until, language, kind


@routes.get("/audit/ledger")
async def ledger(view: Auditor) -> Response:
    """The hazard ledger of reports filed in the days asked, read from the log, as a file."""
    tenant, since, until, language, kind = _ledger_request(view)
    asked = {k: view.request.query_params.get(k, "") for k in ("tenant", "since", "until", "ledger_lang")}
    if view.fields:
        view.errors.append(view.t("fix_fields"))
        return _page(view, status_code=422, **asked)
    settings = view.settings
    try:
        book = await logcheck.read_ledger(settings, tenant, settings.audit_check_seconds)
    except logcheck.LogTooSlow:
        view.errors.append(view.t("log_too_slow"))
        return retry_later(view, _page(view, status_code=503, **asked))
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        view.errors.append(view.t("log_unreachable", r=type(exc).__name__))
        return retry_later(view, _page(view, status_code=503, **asked))
    start, end = local_day_start(since, book.zone), local_day_start(until + timedelta(days=1), book.zone)
    book.rows = [row for row in book.rows if start <= row.reported_at < end]
    texts = view.request.app.state.runtime.texts
    situations = await texts.reveal([row.situation for row in book.rows], erased=label("erased_text", language))
    for row, situation in zip(book.rows, situations, strict=True):
        row.situation = situation
    name = f"ledger-{tenant}-{since}_{until}.{kind}"
    if kind == "csv":
        body = ledger_csv(book, language).encode()
    else:
        body = ledger_xlsx(book, language, title=f"{view.label(tenant)} {since}..{until}")
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=FORMATS[kind], headers=headers)

