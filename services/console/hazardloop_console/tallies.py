"""The dashboard's pre-summed figures: per subsidiary and filing week, what every report
adds to them, so a long period reads a few thousand tallies instead of every report.

Only what cannot change with the passing of time is tallied. A report still waiting on a
clock (overdue once its due time passes) is ``waiting``: the dashboard counts those of
its figures live, from the few rows that carry them. ``derived`` and ``measures`` are
pure functions of a row, so the projection, a rebuild and a bench fill agree exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hazardloop.writer import Writer
from hazardloop_console.queries import UNGRADED
from hazardloop_console.store import tallies

CLOCK_NAMES = ("accept", "verify", "close")
SPANS = {"accept": "accept_seconds", "verify": "verify_seconds", "close": "close_seconds"}
"""The column holding each clock's time from filing to done, where it was measured."""


def clock_times(row: dict[str, Any], clock: str) -> tuple[datetime | None, datetime | None]:
    """(done, due) of a clock: the same as ``queries.CLOCKS`` says in SQL."""
    if clock == "accept":
        return row["accepted_at"] or row["verified_at"], row["accept_due_at"]
    if clock == "verify":
        return row["verified_at"], row["verify_due_at"]
    return row["closed_at"], row["deadline"]


def next_due(row: dict[str, Any]) -> datetime | None:
    """The clock the case now runs against: the same as ``queries.clock_due`` in SQL."""
    return {"filed": row["accept_due_at"], "accepted": row["verify_due_at"], "verified": row["deadline"],
            "rectifying": row["deadline"]}.get(row["state"])


def waiting(row: dict[str, Any]) -> bool:
    """Some figure of the report turns when a due time passes: it is counted live."""
    return next_due(row) is not None or any(
        done is None and due is not None for done, due in (clock_times(row, clock) for clock in CLOCK_NAMES)
    )


def derived(row: dict[str, Any]) -> dict[str, Any]:
    """The columns the projection keeps beside a report's own: whether it is waiting, and
    each measured clock's time from filing to done (indexed, so a median is a seek)."""
    values: dict[str, Any] = {"waiting": waiting(row)}
    for clock, column in SPANS.items():
        done, due = clock_times(row, clock)
        values[column] = (done - row["filed_at"]).total_seconds() if done is not None and due is not None else None
    return values


def measures(row: dict[str, Any]) -> Counter[str]:
    """What one report adds to its subsidiary's week."""
    added: Counter[str] = Counter({f"reports {row['category']} {row['grade'] or UNGRADED}": 1})
    if row["escalation_step"] is not None or row["externally_escalated"]:
        added["escalated"] += 1
    if row["overdue"] and next_due(row) is None:
        added["overdue"] += 1  # else overdue_now depends on the time: counted live
    for clock in CLOCK_NAMES:
        done, due = clock_times(row, clock)
        if done is not None and due is not None:
            added[f"{clock} measured"] += 1
            added[f"{clock} {'within' if done <= due else 'late'}"] += 1
    return added


def change(db: Writer, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Move a report's tallies from what its row was to what it is."""
    deltas: Counter[tuple[str, str, str]] = Counter()
    for row, sign in ((before, -1), (after, 1)):
        if row is not None:
            for measure, amount in measures(row).items():
                deltas[(row["tenant"], row["week"], measure)] += sign * amount
    for (tenant, week, measure), amount in deltas.items():
        if amount:
            held = db.get(tallies, tenant=tenant, week=week, measure=measure)
            if held is None:
                db.insert(tallies, tenant=tenant, week=week, measure=measure, amount=amount)
            else:
                db.update(tallies, {"tenant": tenant, "week": week, "measure": measure}, amount=held.amount + amount)


def summed(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tallies of whole rows at once (a store filled without the projection)."""
    total: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        for measure, amount in measures(row).items():
            total[(row["tenant"], row["week"], measure)] += amount
    return [{"tenant": t, "week": w, "measure": m, "amount": a} for (t, w, m), a in total.items()]
