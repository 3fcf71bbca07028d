"""Reads of verification's own store: cases, their clocks, the policies (call through a thread).

What the routes show, what the timekeeper looks at, and the one thing a command needs
that the log cannot give by aggregate: which reports were merged into a report.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, Select, select, union_all

from hazardloop.events import CaseworkPolicy
from hazardloop.timing.deadlines import Timer, TimerKind
from hazardloop_verification.domain import TERMINAL, Stage
from hazardloop_verification.projection import PENDING
from hazardloop_verification.store import cases, policies, timers

Case = dict[str, Any]
"""A case row as the API shows it (its texts still sealed)."""


def case_row(engine: Engine, report_id: str) -> Row | None:
    with engine.connect() as db:
        return db.execute(select(cases).where(cases.c.report_id == report_id)).first()


def as_case(row: Row) -> Case:
    values = dict(row._mapping)
    values["factors"] = json.loads(values["factors"]) if values["factors"] else None
    values["plan"] = json.loads(values["plan"]) if values["plan"] else None
    values["escalation"] = json.loads(values.pop("ladder") or "[]")
    values["sla_breaches"] = [b for b in (values["sla_breaches"] or "").split(",") if b]
    return values


def case_with_clocks(engine: Engine, report_id: str) -> Case | None:
    """A report's case with every clock it started (``timers``), soonest first."""
    with engine.connect() as db:
        row = db.execute(select(cases).where(cases.c.report_id == report_id)).first()
        if row is None:
            return None
        clocks = db.execute(select(timers).where(timers.c.report_id == report_id).order_by(timers.c.due_at, timers.c.key))
        return as_case(row) | {"timers": [dict(clock._mapping) for clock in clocks]}


def _cases(engine: Engine, query: Select) -> list[Case]:
    with engine.connect() as db:
        return [as_case(row) for row in db.execute(query)]


def at_stage(engine: Engine, tenants: Sequence[str], stage: Stage, limit: int) -> list[Case]:
    """Reports at one stage, oldest first.

    Each subsidiary's first ``limit`` are read off the queue index in order, then merged:
    one query over several subsidiaries would have to sort every report at the stage
    (tens of thousands with a large store) to find the oldest hundred.
    """
    order = (cases.c.filed_at, cases.c.report_id)
    per_tenant = [
        select(cases).where(cases.c.tenant == tenant, cases.c.stage == stage.value).order_by(*order).limit(limit)
        for tenant in dict.fromkeys(tenants)
    ]
    if len(per_tenant) <= 1:
        return _cases(engine, per_tenant[0]) if per_tenant else []
    merged = union_all(*(select(part.subquery()) for part in per_tenant)).subquery()
    return _cases(engine, select(merged).order_by(merged.c.filed_at, merged.c.report_id).limit(limit))


def overdue(engine: Engine, tenants: Sequence[str], limit: int) -> list[Case]:
    """Rectifications past their deadline and not yet closed, longest overdue first."""
    query = (
        select(cases)
        .where(
            cases.c.tenant.in_(tenants),
            cases.c.overdue_since.is_not(None),
            cases.c.stage.not_in([s.value for s in TERMINAL]),
        )
        .order_by(cases.c.overdue_since, cases.c.report_id)
        .limit(limit)
    )
    return _cases(engine, query)


def board(engine: Engine, tenants: Sequence[str], owner: str | None, limit: int) -> list[Case]:
    """Open rectifications (one owner's, or everyone's) by owner, each owner's nearest deadline first."""
    query = select(cases).where(cases.c.tenant.in_(tenants), cases.c.stage.in_([Stage.RECTIFYING.value, Stage.UNDER_REVIEW.value]))
    if owner is not None:
        query = query.where(cases.c.owner == owner)
    return _cases(engine, query.order_by(cases.c.owner, cases.c.deadline, cases.c.report_id).limit(limit))


def ledger(engine: Engine, tenants: Sequence[str], since: datetime | None, until: datetime | None, limit: int) -> list[Case]:
    """Reports filed in ``[since, until)``, in the order they were filed."""
    query = select(cases).where(cases.c.tenant.in_(tenants))
    if since is not None:
        query = query.where(cases.c.filed_at >= since)
    if until is not None:
        query = query.where(cases.c.filed_at < until)
    return _cases(engine, query.order_by(cases.c.filed_at, cases.c.report_id).limit(limit))


def policy_of(engine: Engine, tenant: str) -> CaseworkPolicy:
    """The policy in force as the read model holds it (the defaults until one is set)."""
    with engine.connect() as db:
        stored = db.execute(select(policies.c.policy).where(policies.c.tenant == tenant)).scalar()
    return CaseworkPolicy.model_validate_json(stored) if stored else CaseworkPolicy()


def merged_into(engine: Engine, report_id: str) -> dict[str, datetime]:
    """The reports already merged into ``report_id``, with when each was filed."""
    with engine.connect() as db:
        rows = db.execute(select(cases.c.report_id, cases.c.filed_at).where(cases.c.duplicate_of == report_id))
        return {row.report_id: row.filed_at for row in rows}


def due_clocks(engine: Engine, now: datetime, limit: int) -> dict[tuple[str, str], list[Timer]]:
    """The pending clocks due by ``now`` (at most ``limit``), by (tenant, report), soonest first."""
    query = (
        select(timers)
        .where(timers.c.status == PENDING, timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.report_id, timers.c.key)
        .limit(limit)
    )
    due: dict[tuple[str, str], list[Timer]] = defaultdict(list)
    with engine.connect() as db:
        for row in db.execute(query):
            due[(row.tenant, row.report_id)].append(Timer(TimerKind(row.kind), row.due_at, row.deadline, row.step))
    return due
