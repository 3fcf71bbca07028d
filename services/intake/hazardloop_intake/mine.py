"""What "my reports" lists: a signed-in reporter's own reports, across their subsidiaries,
newest first, and every time a member of staff opened the reporter's identity, and why.

Found by the reporter's pseudonyms, read from intake's projection; states in plain
words, times in the group's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hazardloop.runtime.service import Runtime
from hazardloop.web.labels import label
from hazardloop_intake.queries import disclosures_of
from hazardloop_intake.store import reports

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


def my_reports(runtime: Runtime, pseudonyms: list[str], lang: str) -> list[MyReport]:
    """The reports these pseudonyms filed, newest first, as the page words them."""
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


def looks_at_identity(runtime: Runtime, pseudonyms: list[str], lang: str) -> list[Disclosure]:
    """Each time staff opened these reporters' identity, newest first (the purposes still sealed)."""
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
