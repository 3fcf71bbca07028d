"""The dashboard's figures of what follows a report beyond its own loop: the checks
elsewhere each subsidiary was asked for (what it answered, what it found there too, what
is overdue), and fraud signals: raised by the rewards rules, dismissed or confirmed by
reviewers.

Both are few beside reports (a check a week, a task per subsidiary; a signal or a
decision a day), so each figure is one GROUP BY over the console's rows of them, under
the dashboard's period and subsidiaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, case, func, select

from hazardloop_console.store import check_tasks, signal_decisions, signals_raised

if TYPE_CHECKING:
    from hazardloop_console.figures import Scope

CHECK_FIGURES = ("raised", "answered", "found", "overdue")
SIGNAL_FIGURES = ("raised", "dismissed", "confirmed")
DECISIONS = ("dismissed", "confirmed")


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
    """Per subsidiary, the fraud signals of the period: raised (by the day the rule first
    fired), dismissed and confirmed (by the day of the decision; a signal dismissed that
    comes back may be decided again, and counts again)."""
    start, end = scope.instants()
    raised, decided = signals_raised.c, signal_decisions.c
    raised_query = (
        select(raised.tenant, func.count())
        .where(raised.tenant.in_(scope.tenants), raised.raised_at >= start, raised.raised_at < end)
        .group_by(raised.tenant)
    )
    decided_query = (
        select(decided.tenant, *(_flag(decided.decision == figure) for figure in DECISIONS))
        .where(decided.tenant.in_(scope.tenants), decided.decided_at >= start, decided.decided_at < end)
        .group_by(decided.tenant)
    )
    counts: dict[str, dict[str, Any]] = {}
    with engine.connect() as db:
        for tenant, count in db.execute(raised_query):
            counts.setdefault(tenant, dict.fromkeys(SIGNAL_FIGURES, 0))["raised"] = count
        for tenant, *figures in db.execute(decided_query):
            counts.setdefault(tenant, dict.fromkeys(SIGNAL_FIGURES, 0)).update(zip(DECISIONS, figures, strict=True))
    return [{"tenant": tenant, **counts[tenant]} for tenant in sorted(counts)]
