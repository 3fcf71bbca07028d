"""My reports: a signed-in reporter's own reports, across their subsidiaries, newest first.

Found by the reporter's pseudonyms as the services know them (the Runtime's own look-up),
read from intake's projection; states in plain words, times in the group's local time.
Below them, every time a member of staff opened the reporter's identity, and why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from hazardloop.web.labels import label
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop_intake.i18n import language
from hazardloop_intake.pages import render
from hazardloop_intake.queries import disclosures_of
from hazardloop_intake.reporter_session import SignedInReporter
from hazardloop_intake.signin import signin_notice
from hazardloop_intake.store import reports

routes = APIRouter(include_in_schema=False)

SHOWN = 200
"""Most reports the page lists (a reporter files a few a year)."""


@dataclass(frozen=True)
class Disclosure:
    """One time a member of staff opened the reporter's identity, as the reporter is told of it."""

    when: str
    who: str
    role: str
    purpose: str
    report_link: str


@dataclass(frozen=True)
class MyReport:
    report_id: str
    state: str
    kind: str
    place: str
    filed_at: str
    deadline: str | None
    link: str


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else None


def _mine(runtime: Runtime, pseudonyms: list[str], lang: str) -> list[MyReport]:
    zone = ZoneInfo(runtime.settings.timezone)
    query = (
        select(reports).where(reports.c.reporter.in_(pseudonyms))
        .order_by(reports.c.filed_at.desc(), reports.c.report_id).limit(SHOWN)
    )
    with runtime.engine.connect() as db:
        rows = db.execute(query).all()
    return [
        MyReport(
            report_id=row.report_id,
            state=label(row.status, lang),
            kind=label(row.subtype, lang),
            place=" / ".join(name for name in (row.site, row.area, row.spot) if name),
            filed_at=_local(row.filed_at, zone),
            deadline=_local(row.deadline, zone),
            link=f"/f/reports/{row.report_id}?lang={lang}",
        )
        for row in rows
    ]


def _looked(runtime: Runtime, pseudonyms: list[str], lang: str) -> list[Disclosure]:
    zone = ZoneInfo(runtime.settings.timezone)
    with runtime.engine.connect() as db:
        rows = disclosures_of(db, pseudonyms)
    return [
        Disclosure(
            when=_local(row.occurred_at, zone), who=row.actor.removeprefix("staff:"), role=label(row.role, lang),
            purpose=row.purpose, report_link=f"/f/reports/{row.report_id}?lang={lang}",
        )
        for row in rows
    ]


@routes.get("/f/mine", response_class=HTMLResponse)
async def my_reports(
    request: Request, runtime: RuntimeDep, reporter: SignedInReporter, lang: str | None = None, signin: str | None = None
) -> HTMLResponse:
    chosen = language(lang, request.headers.get("accept-language"))
    here = f"/f/mine?lang={chosen}"
    notice = signin_notice(signin, chosen)
    if reporter is None:
        return render(
            "mine.html", chosen, reporter=None, notice=notice, here=here,
            signin_url="/f/signin?" + urlencode({"next": here, "lang": chosen}),
        )
    pseudonyms = await runtime.pseudonyms_of(reporter.principal(runtime.settings.tenants))
    found = await asyncio.to_thread(_mine, runtime, pseudonyms, chosen)
    looked = await runtime.texts.reveal(await asyncio.to_thread(_looked, runtime, pseudonyms, chosen), erased=label("erased_text", chosen))
    return render("mine.html", chosen, reporter=reporter, reports=found, looked=looked, notice=notice, here=here)
