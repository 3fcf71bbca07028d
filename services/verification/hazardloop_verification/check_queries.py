"""Reads of checks elsewhere from verification's store (call through a thread): what the
routes show and which clocks the timekeeper fires."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from hazardloop.timing.deadlines import Timer, TimerKind
from hazardloop_verification.check_projection import PENDING
from hazardloop_verification.store import check_tasks, check_timers, checks


def _task(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["escalation"] = json.loads(values.pop("ladder") or "[]")
    return values


def _check(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["subsidiaries"] = values["subsidiaries"].split(",")
    return values


def check_row(engine: Engine, check_id: str) -> dict[str, Any] | None:
    with engine.connect() as db:
        row = db.execute(select(checks).where(checks.c.check_id == check_id)).first()
    return None if row is None else _check(row)


def tasks_of(engine: Engine, check_ids: Sequence[str], tenants: Sequence[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Each check's tasks (only those in ``tenants``, if given), by subsidiary."""
    query = select(check_tasks).where(check_tasks.c.check_id.in_(list(check_ids)))
    if tenants is not None:
        query = query.where(check_tasks.c.tenant.in_(list(tenants)))
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with engine.connect() as db:
        for row in db.execute(query.order_by(check_tasks.c.check_id, check_tasks.c.tenant)):
            found[row.check_id].append(_task(row))
    return found


def raised_in(engine: Engine, tenants: Sequence[str], limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """Checks raised on the reports of ``tenants``, the latest first."""
    query = (
        select(checks)
        .where(checks.c.tenant.in_(list(tenants)))
        .order_by(checks.c.raised_at.desc(), checks.c.check_id)
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as db:
        return [_check(row) for row in db.execute(query)]


def tasks_in(engine: Engine, tenants: Sequence[str], *, open_only: bool, limit: int) -> list[dict[str, Any]]:
    """The tasks addressed to ``tenants`` (only those awaiting an answer, if ``open_only``), nearest deadline first."""
    query = select(check_tasks).where(check_tasks.c.tenant.in_(list(tenants)))
    if open_only:
        closed = select(checks.c.check_id).where(checks.c.closed_at.is_not(None))
        query = query.where(check_tasks.c.answer.is_(None), check_tasks.c.check_id.not_in(closed))
    query = query.order_by(check_tasks.c.deadline, check_tasks.c.check_id, check_tasks.c.tenant).limit(limit)
    with engine.connect() as db:
        return [_task(row) for row in db.execute(query)]


def due_check_clocks(engine: Engine, now: datetime, limit: int) -> dict[tuple[str, str], list[Timer]]:
    """The pending clocks of tasks due by ``now`` (at most ``limit``), by (tenant, check), soonest first."""
    query = (
        select(check_timers)
        .where(check_timers.c.status == PENDING, check_timers.c.due_at <= now)
        .order_by(check_timers.c.due_at, check_timers.c.check_id, check_timers.c.tenant, check_timers.c.key)
        .limit(limit)
    )
    due: dict[tuple[str, str], list[Timer]] = defaultdict(list)
    with engine.connect() as db:
        for row in db.execute(query):
            due[(row.tenant, row.check_id)].append(Timer(TimerKind(row.kind), row.due_at, row.deadline, row.step))
    return due
