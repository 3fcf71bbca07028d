"""The console's questions to its store: a filtered, paged queue, one case, a person's tasks.

Lists page on the server with keyset-free LIMIT/OFFSET over indexed columns: a page of
50 out of 100,000 reports costs one indexed range scan, whichever page is asked for in
practice (the first few).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from hazardloop.events import Category, Grade
from hazardloop_console.store import cases, photos, steps

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

    @classmethod
    def parse(cls, params: dict[str, str], tenants: list[str]) -> "QueueFilter":
        """Unknown values are dropped rather than refused: a filter link never breaks a page."""

        def pick(name: str, allowed) -> str | None:
            value = params.get(name) or None
            return value if value in allowed else None

        try:
            page = max(1, min(int(params.get("page", "1")), 10_000))
        except ValueError:
            page = 1
        text = (params.get("q") or "").strip()[:80] or None
        area = (params.get("area") or "").strip()[:80] or None
        return cls(
            tenant=pick("tenant", tenants), area=area, category=pick("category", {c.value for c in Category}),
            grade=pick("grade", {g.value for g in Grade}), state=pick("state", {*STATES, "open"}),
            overdue=params.get("overdue") == "1", duplicates=params.get("duplicates") == "1", text=text, page=page,
        )


def _clock_due():
    """The next clock a case is measured against: acceptance, verification, then the rectification deadline."""
    return case(
        (cases.c.state == "filed", cases.c.accept_due_at),
        (cases.c.state == "accepted", cases.c.verify_due_at),
        (cases.c.state.in_(("verified", "rectifying")), cases.c.deadline),
        else_=None,
    )


def queue(engine: Engine, tenants: list[str], wanted: QueueFilter, size: int, now: datetime | None = None) -> tuple[list[dict[str, Any]], bool]:
    """A page of the queue, most urgent first, and whether another page follows."""
    now = now or datetime.now(UTC)
    due = _clock_due().label("due_at")
    conditions = [cases.c.tenant.in_([wanted.tenant] if wanted.tenant else tenants)]
    if wanted.state == "open":
        conditions.append(cases.c.state.in_(OPEN_STATES))
    elif wanted.state:
        conditions.append(cases.c.state == wanted.state)
    for column, value in ((cases.c.category, wanted.category), (cases.c.grade, wanted.grade)):
        if value:
            conditions.append(column == value)
    if wanted.area:
        conditions.append(or_(cases.c.area == wanted.area, cases.c.site == wanted.area))
    if wanted.overdue:
        conditions.append(or_(cases.c.overdue, and_(_clock_due().is_not(None), _clock_due() < now)))
    if wanted.duplicates:
        conditions.append(cases.c.possible_duplicate_of.is_not(None))
    if wanted.text:
        pattern = f"%{wanted.text.replace('%', '').replace('_', '')}%"
        conditions.append(or_(
            cases.c.description.like(pattern), cases.c.spot.like(pattern), cases.c.area.like(pattern),
            cases.c.equipment_tag.like(pattern), cases.c.report_id.like(f"{wanted.text}%"),
        ))
    query = (
        select(cases, due).where(*conditions)
        .order_by(due.is_(None), due, cases.c.filed_at.desc())
        .limit(size + 1).offset((wanted.page - 1) * size)
    )
    with engine.connect() as db:
        rows = [dict(row._mapping) for row in db.execute(query)]
    return rows[:size], len(rows) > size


def one_case(engine: Engine, report_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """A case, its timeline in order, and its photos."""
    with engine.connect() as db:
        row = db.execute(select(cases, _clock_due().label("due_at")).where(cases.c.report_id == report_id)).first()
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
