"""The console's questions behind the owner's tasks and the manager's decisions.

Each list pages on the server (LIMIT/OFFSET over the owner and tenant/state indexes) and
puts first what is due first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, select

from hazardloop_console.store import cases, photos

IN_HAND = ("rectifying", "under_review")
"""A rectification the owner still answers for: being done, or done and awaiting acceptance."""
RECENTLY = timedelta(days=30)
"""How long a closed rectification stays on its owner's list."""
CLOSED_SHOWN = 10


@dataclass(frozen=True)
class Paged:
    rows: list[dict[str, Any]]
    number: int
    more: bool


def _paged(engine: Engine, query: Select, number: int, size: int) -> Paged:
    with engine.connect() as db:
        rows = [dict(row._mapping) for row in db.execute(query.limit(size + 1).offset((number - 1) * size))]
    return Paged(rows[:size], number, len(rows) > size)


def owned(engine: Engine, owner: str, tenants: list[str], number: int, size: int) -> Paged:
    """The rectifications ``owner`` answers for, the nearest deadline first."""
    query = (
        select(cases)
        .where(cases.c.owner == owner, cases.c.tenant.in_(tenants), cases.c.state.in_(IN_HAND))
        .order_by(cases.c.deadline.is_(None), cases.c.deadline, cases.c.report_id)
    )
    return _paged(engine, query, number, size)


def recently_closed(engine: Engine, owner: str, tenants: list[str], now: datetime) -> list[dict[str, Any]]:
    """What ``owner`` rectified and saw accepted lately, the latest first."""
    query = (
        select(cases)
        .where(cases.c.owner == owner, cases.c.tenant.in_(tenants), cases.c.state == "closed", cases.c.closed_at >= now - RECENTLY)
        .order_by(cases.c.closed_at.desc())
        .limit(CLOSED_SHOWN)
    )
    with engine.connect() as db:
        return [dict(row._mapping) for row in db.execute(query)]


def extensions_pending(engine: Engine, tenants: list[str], number: int, size: int) -> Paged:
    """Extension requests awaiting a decision, the nearest current deadline first."""
    query = (
        select(cases)
        .where(cases.c.tenant.in_(tenants), cases.c.state.in_(IN_HAND), cases.c.extension_requested_until.is_not(None))
        .order_by(cases.c.deadline.is_(None), cases.c.deadline, cases.c.report_id)
    )
    return _paged(engine, query, number, size)


def awaiting_review(engine: Engine, tenants: list[str], number: int, size: int) -> Paged:
    """Rectifications recorded and awaiting acceptance, the longest waiting first."""
    query = (
        select(cases)
        .where(cases.c.tenant.in_(tenants), cases.c.state == "under_review")
        .order_by(cases.c.rectified_at, cases.c.report_id)
    )
    return _paged(engine, query, number, size)


def evidence_of(engine: Engine, report_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each report's rectification photos: what a reviewer looks at before accepting."""
    if not report_ids:
        return {}
    query = (
        select(photos)
        .where(photos.c.report_id.in_(report_ids), photos.c.stage == "rectified")
        .order_by(photos.c.report_id, photos.c.position)
    )
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as db:
        for row in db.execute(query):
            found.setdefault(row.report_id, []).append(dict(row._mapping))
    return found
