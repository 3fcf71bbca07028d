"""The console's questions to its store: a filtered, paged queue, one case, a person's tasks.

Lists page on the server with keyset-free LIMIT/OFFSET over indexed columns: a page of
50 out of 100,000 reports costs one indexed range scan, whichever page is asked for in
practice (the first few).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, case, func, or_, select

from hazardloop.events import Category, Grade
from hazardloop_console.store import cases, photos, steps

UNGRADED = "none"
"""The grade filter's value for reports not graded (yet, or never: not a hazard)."""
REWARD_STATUSES = frozenset({"proposed", "referred", "approved", "granted", "declined", "revoked"})
STATES = ("filed", "accepted", "verified", "rectifying", "under_review", "closed", "not_confirmed", "duplicate")
OPEN_STATES = ("filed", "accepted", "verified", "rectifying", "under_review")


@dataclass(frozen=True)
class QueueFilter:
    """What an officer narrows the queue to; every field optional."""

    tenant: str | None = None
    area: str | None = None
    category: str | None = None
    grade: str | None = None
    state: str | None = None
    overdue: bool = False
    duplicates: bool = False
    text: str | None = None
    page: int = 1
    # What the group dashboard's figures drill down to (a chart's cases, exactly):
    week: str | None = None
    """Monday of the filing week (YYYY-MM-DD)."""
    since: date | None = None
    until: date | None = None
    """Filed on or after ``since`` and on or before ``until``, days in the group's zone."""
    site: str | None = None
    spot: str | None = None
    """With ``site``, ``area`` means that area exactly (not an area or a site)."""
    late_clock: str | None = None
    """``accept``, ``verify`` or ``close``: done after its due time, or not done and past it."""
    escalated: bool = False
    reward: str | None = None
    paid_year: int | None = None
    """Rewards paid in that year of the group's zone."""

    @classmethod
    def parse(cls, params: dict[str, str], tenants: list[str]) -> "QueueFilter":
        """Unknown values are dropped rather than refused: a filter link never breaks a page."""

        def pick(name: str, allowed) -> str | None:
            value = params.get(name) or None
            return value if value in allowed else None

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(params.get(name) or "")
            except ValueError:
                return None

        def short(name: str) -> str | None:
            return (params.get(name) or "").strip()[:120] or None

        text = (params.get("q") or "").strip()[:80] or None
        area = (params.get("area") or "").strip()[:80] or None
        week = day("week")
        year = params.get("paid_year") or ""
        return cls(
            tenant=pick("tenant", tenants), area=area, category=pick("category", {c.value for c in Category}),
            grade=pick("grade", {*(g.value for g in Grade), UNGRADED}), state=pick("state", {*STATES, "open"}),
            overdue=params.get("overdue") == "1", duplicates=params.get("duplicates") == "1", text=text, page=page_number(params.get("page")),
            week=week.isoformat() if week and week.weekday() == 0 else None, since=day("since"), until=day("until"),
            site=short("site"), spot=short("spot"), late_clock=pick("late_clock", set(CLOCKS)),
            escalated=params.get("escalated") == "1", reward=pick("reward", REWARD_STATUSES),
            paid_year=int(year) if year.isdigit() and 2000 <= int(year) <= 2999 else None,
        )

    def drilled(self) -> dict[str, str]:
        """The dashboard's filters in force, as query parameters (kept by the queue's form)."""
        values = {
            "week": self.week, "since": self.since, "until": self.until, "site": self.site, "spot": self.spot,
            "late_clock": self.late_clock, "escalated": "1" if self.escalated else None, "reward": self.reward,
            "paid_year": self.paid_year,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


def page_number(value: str | None) -> int:
    """A page asked for in the query; anything odd is the first page, never an error."""
    try:
        return max(1, min(int(value or "1"), 10_000))
    except ValueError:
        return 1


def clock_due():
    """The next clock a case is measured against: acceptance, verification, then the rectification deadline."""
    return case(
        (cases.c.state == "filed", cases.c.accept_due_at),
        (cases.c.state == "accepted", cases.c.verify_due_at),
        (cases.c.state.in_(("verified", "rectifying")), cases.c.deadline),
        else_=None,
    )


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``."""
    return datetime.combine(day, time.min, zone)


def year_span(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return local_day_start(date(year, 1, 1), zone), local_day_start(date(year + 1, 1, 1), zone)


CLOCKS = {
    # clock: (when it was done, when it was due)
    "accept": (func.coalesce(cases.c.accepted_at, cases.c.verified_at), cases.c.accept_due_at),
    "verify": (cases.c.verified_at, cases.c.verify_due_at),
    "close": (cases.c.closed_at, cases.c.deadline),
}
"""The service levels a report is measured against: acknowledged (accepted, or verified
straight away), verified, and closed by its rectification deadline."""


def late_against(clock: str, now: datetime):
    """Done after the due time, or not done and the due time passed."""
    done, due = CLOCKS[clock]
    return and_(due.is_not(None), or_(done > due, and_(done.is_(None), due < now)))


def overdue_now(now: datetime):
    """Marked overdue, or its next clock has run out."""
    return or_(cases.c.overdue, and_(clock_due().is_not(None), clock_due() < now))


def escalated():
    """Raised up the escalation ladder, or to the authorities."""
    return or_(cases.c.escalation_step.is_not(None), cases.c.externally_escalated)


def conditions_of(tenants: list[str], wanted: QueueFilter, now: datetime, zone: ZoneInfo) -> list:
    """The WHERE clauses of a filter: shared by the queue and the dashboard's figures."""
    conditions = [cases.c.tenant.in_([wanted.tenant] if wanted.tenant else tenants)]
    if wanted.state == "open":
        conditions.append(cases.c.state.in_(OPEN_STATES))
    elif wanted.state:
        conditions.append(cases.c.state == wanted.state)
    if wanted.category:
        conditions.append(cases.c.category == wanted.category)
    if wanted.grade == UNGRADED:
        conditions.append(cases.c.grade.is_(None))
    elif wanted.grade:
        conditions.append(cases.c.grade == wanted.grade)
    if wanted.area and wanted.site:
        conditions.append(cases.c.area == wanted.area)
    elif wanted.area:
        conditions.append(or_(cases.c.area == wanted.area, cases.c.site == wanted.area))
    if wanted.site:
        conditions.append(cases.c.site == wanted.site)
    if wanted.spot:
        conditions.append(cases.c.spot == wanted.spot)
    if wanted.week:
        conditions.append(cases.c.week == wanted.week)
    if wanted.since:
        conditions.append(cases.c.filed_at >= local_day_start(wanted.since, zone))
    if wanted.until:
        conditions.append(cases.c.filed_at < local_day_start(wanted.until + timedelta(days=1), zone))
    if wanted.late_clock:
        conditions.append(late_against(wanted.late_clock, now))
    if wanted.escalated:
        conditions.append(escalated())
    if wanted.reward:
        conditions.append(cases.c.reward_status == wanted.reward)
    if wanted.paid_year:
        start, end = year_span(wanted.paid_year, zone)
        conditions.append(and_(cases.c.reward_paid_at >= start, cases.c.reward_paid_at < end))
    if wanted.overdue:
        conditions.append(overdue_now(now))
    if wanted.duplicates:
        conditions.append(cases.c.possible_duplicate_of.is_not(None))
    if wanted.text:
        pattern = f"%{wanted.text.replace('%', '').replace('_', '')}%"
        conditions.append(or_(
            cases.c.spot.like(pattern), cases.c.area.like(pattern),  # the description is sealed: not searchable
            cases.c.equipment_tag.like(pattern), cases.c.report_id.like(f"{wanted.text}%"),
        ))
    return conditions


def queue(
    engine: Engine, tenants: list[str], wanted: QueueFilter, size: int, now: datetime | None = None,
    zone: ZoneInfo = ZoneInfo("Asia/Shanghai"),
) -> tuple[list[dict[str, Any]], bool]:
    """A page of the queue, most urgent first, and whether another page follows."""
    now = now or datetime.now(UTC)
    due = clock_due().label("due_at")
    conditions = conditions_of(tenants, wanted, now, zone)
    order = (due.is_(None), due, cases.c.filed_at.desc(), cases.c.report_id)
    # The page's ids first (ordered within the covering index), then only their rows.
    chosen = select(cases.c.report_id).where(*conditions).order_by(*order).limit(size + 1).offset((wanted.page - 1) * size)
    with engine.connect() as db:
        ids = [row.report_id for row in db.execute(chosen)]
        found = {row.report_id: dict(row._mapping) for row in db.execute(select(cases, due).where(cases.c.report_id.in_(ids)))}
    rows = [found[report_id] for report_id in ids]
    return rows[:size], len(rows) > size


def one_case(engine: Engine, report_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """A case, its timeline in order, and its photos."""
    with engine.connect() as db:
        row = db.execute(select(cases, clock_due().label("due_at")).where(cases.c.report_id == report_id)).first()
        if row is None:
            return None, [], []
        history = db.execute(select(steps).where(steps.c.report_id == report_id).order_by(steps.c.position)).all()
        pictures = db.execute(select(photos).where(photos.c.report_id == report_id).order_by(photos.c.position)).all()
    return dict(row._mapping), [dict(r._mapping) for r in history], [dict(p._mapping) for p in pictures]


def areas(engine: Engine, tenants: list[str]) -> list[str]:
    """The areas reports name, for the queue's filter."""
    with engine.connect() as db:
        query = select(cases.c.area).where(cases.c.tenant.in_(tenants)).group_by(cases.c.area).order_by(func.count().desc()).limit(100)
        return [row.area for row in db.execute(query)]
