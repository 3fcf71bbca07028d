"""The dashboard's figures of what follows a report beyond its own loop: the checks
elsewhere each subsidiary was asked for (what it answered, what it found there too, what
is overdue), and reviewers' decisions on fraud signals (dismissed, confirmed).

Both are few beside reports (a check a week, a task per subsidiary; a decision a day), so
each figure is one GROUP BY over the console's rows of them, under the dashboard's period
and subsidiaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, case, func, select

from hazardloop_console.store import check_tasks, signal_decisions

if TYPE_CHECKING:
    from hazardloop_console.figures import Scope

CHECK_FIGURES = ("raised", "answered", "found", "overdue")
SIGNAL_FIGURES = ("dismissed", "confirmed")


def _flag(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def checks(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """Per subsidiary asked, the checks elsewhere it was asked for in the period: how many,
    answered, found there too, and overdue with no answer (as the check's own page says)."""
    start, end = scope.instants()
    task = check_tasks.c
    query = (
        select(task.tenant, func.count(), _flag(task.answer.is_not(None)), _flag(task.answer == "found"),
               _flag(and_(task.answer.is_(None), task.overdue)))
        .where(task.tenant.in_(scope.tenants), task.opened_at >= start, task.opened_at < end)
        .group_by(task.tenant).order_by(task.tenant)
    )  # fmt: skip
    with engine.connect() as db:
        return [dict(zip(("tenant", *CHECK_FIGURES), row, strict=True)) for row in db.execute(query)]


def signals(engine: Engine, scope: Scope) -> list[dict[str, Any]]:
    """Per subsidiary, reviewers' decisions on fraud signals made in the period: dismissed,
    confirmed (a signal dismissed that comes back may be decided again, and counts again)."""
    start, end = scope.instants()
    decided = signal_decisions.c
    query = (
        select(decided.tenant, *(_flag(decided.decision == figure) for figure in SIGNAL_FIGURES))
        .where(decided.tenant.in_(scope.tenants), decided.decided_at >= start, decided.decided_at < end)
        .group_by(decided.tenant).order_by(decided.tenant)
    )
    with engine.connect() as db:
        return [dict(zip(("tenant", *SIGNAL_FIGURES), row, strict=True)) for row in db.execute(query)]
