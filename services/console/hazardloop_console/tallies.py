"""The dashboard's pre-summed figures: per subsidiary and filing week, place, and UTC
day of payment, what every report adds to them, and each reporter's first and last
filing, so a long period reads a few thousand sums instead of every report.

A figure that turns with time (overdue, or late on a clock not done, once a due time
passes) is tallied as it will be when every due time has passed; the report's row keeps
``turns_until``, the last of those due times, so the dashboard takes back live what has
not happened yet from the few rows whose due times are still ahead. ``derived`` and
``measures`` are pure functions of a row, so the projection, a rebuild and a bench fill
agree exactly.

A replay from an empty store leaves the sums to its end (``defer``, ``settle``): one pass
over the cases' final rows instead of moving the sums at every step, which was a third of
the console's rebuild. Meanwhile ``sums_owed`` holds a row, so that a replay cut short
before the end leaves them owed, not missing: the next step sums them first
(``settle_if_owed``). So that both ways leave the same rows, a step that takes a row of
sums back to nothing (a week's ungraded reports, once all are graded) deletes it, as
summing the final rows would never make it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, select

from hazardloop.projections import Writer
from hazardloop_console.queries import UNGRADED
from hazardloop_console.store import cases, paid_tallies, place_tallies, reporters, sums_owed, tallies, week_figures

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


def turns_until(row: dict[str, Any]) -> datetime | None:
    """The last due time on whose passing a figure of the report turns: its next clock's
    (unless marked overdue already), and each clock's not done."""
    dues = [due for done, due in (clock_times(row, clock) for clock in CLOCK_NAMES) if done is None and due is not None]
    if not row["overdue"] and (due := next_due(row)) is not None:
        dues.append(due)
    return max(dues, default=None)


def derived(row: dict[str, Any]) -> dict[str, Any]:
    """The columns the projection keeps beside a report's own: until when its figures
    turn, and each measured clock's time from filing to done (indexed, so a median is a seek)."""
    values: dict[str, Any] = {"turns_until": turns_until(row)}
    for clock, column in SPANS.items():
        done, due = clock_times(row, clock)
        values[column] = (done - row["filed_at"]).total_seconds() if done is not None and due is not None else None
    return values


def measures(row: dict[str, Any]) -> Counter[str]:
    """What one report adds to its subsidiary's week, once every due time has passed."""
    added: Counter[str] = Counter({f"reports {row['category']} {row['grade'] or UNGRADED}": 1})
    if row["escalation_step"] is not None or row["externally_escalated"]:
        added["escalated"] += 1
    if row["overdue"] or next_due(row) is not None:
        added["overdue"] += 1
    for clock in CLOCK_NAMES:
        done, due = clock_times(row, clock)
        if done is not None and due is not None:
            added[f"{clock} measured"] += 1
            added[f"{clock} {'within' if done <= due else 'late'}"] += 1
        elif due is not None:
            added[f"{clock} late"] += 1
    return added


def additions(row: dict[str, Any]) -> Counter[tuple[Table, tuple[Any, ...], str]]:
    """What one report adds to every table of sums, as (table, primary key, column)."""
    added: Counter[tuple[Table, tuple[Any, ...], str]] = Counter()
    for measure, amount in measures(row).items():
        if measure.startswith("reports "):
            added[(tallies, (row["tenant"], row["week"], measure), "amount")] += amount
        else:
            added[(week_figures, (row["tenant"], row["week"]), measure.replace(" ", "_"))] += amount
    added[(place_tallies, (row["tenant"], row["site"], row["area"], row["spot"]), "reports")] += 1
    if row["reward_status"] == "granted" and row["reward_paid_at"] is not None:
        day = row["reward_paid_at"].astimezone(UTC).date().isoformat()
        added[(paid_tallies, (row["tenant"], day), "fen")] += row["reward_fen"] or 0
        added[(paid_tallies, (row["tenant"], day), "rewards")] += 1
    return added


def _grouped(deltas: Counter[tuple[Table, tuple[Any, ...], str]]) -> dict[tuple[Table, tuple[Any, ...]], dict[str, int]]:
    grouped: dict[tuple[Table, tuple[Any, ...]], dict[str, int]] = {}
    for (table, key, column), amount in deltas.items():
        grouped.setdefault((table, key), {})[column] = amount
    return grouped


def _key(table: Table, key: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(table.primary_key.columns.keys(), key, strict=True))


@lru_cache(maxsize=16)
def _sums(table: Table) -> list[str]:
    return [column.name for column in table.columns if not column.primary_key]


FACTS = (
    "tenant", "week", "category", "grade", "state", "overdue", "escalation_step", "externally_escalated",
    "accept_due_at", "verify_due_at", "deadline", "accepted_at", "verified_at", "closed_at", "site", "area", "spot",
    "reward_status", "reward_paid_at", "reward_fen",
)  # fmt: skip
"""The columns ``additions`` reads: a row's sums are a function of these alone."""


@lru_cache(maxsize=4096)
def _additions_of(facts: tuple[Any, ...]) -> Counter[tuple[Table, tuple[Any, ...], str]]:
    """``additions`` of a row with these ``FACTS`` (shared: never changed in place). A step's
    row before is the row after the step before it, so most rows are worked out once."""
    return additions(dict(zip(FACTS, facts, strict=True)))


def _facts(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple([row[column] for column in FACTS])


_deferring: ContextVar[bool] = ContextVar("console_sums_deferred", default=False)
"""Set while a replay from an empty store runs in this context (its task and the threads it hands batches to)."""


def defer(on: bool) -> None:
    """A replay from an empty store starts (``on``) or ends: the sums are left to ``settle``."""
    _deferring.set(on)


def settle_if_owed(db: Writer) -> None:
    """Sum what a replay left owed, before a step moves any sum: called by every handler
    that changes a case, before it writes anything."""
    if not _deferring.get() and db.get(sums_owed, owed=1) is not None:
        settle(db)


def settle(db: Writer) -> None:
    """Every table of sums from the cases' rows as they stand, if a replay left them owed."""
    if db.get(sums_owed, owed=1) is None:
        return
    db.flush()
    connection = db.connection
    facts = select(*(cases.c[column] for column in (*FACTS, "reporter", "filed_at")))
    rows = (dict(row._mapping) for row in connection.execute(facts.execution_options(yield_per=5_000)))
    for table, values in summed(rows).items():
        connection.execute(table.delete())
        if values:
            connection.execute(table.insert(), values)
    connection.execute(sums_owed.delete())


def change(db: Writer, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Move a report's sums from what its row was to what it is; a new report also
    widens its reporter's first and last filing. In a replay from an empty store, only
    note them owed."""
    if _deferring.get():
        if db.get(sums_owed, owed=1) is None:
            db.insert(sums_owed, owed=1)
        return
    now = _facts(after)
    deltas = _additions_of(now)
    if before is not None:
        was = _facts(before)
        if was == now:  # a step that moves none of its sums (a message, a claim)
            return
        deltas = Counter(deltas)
        deltas.subtract(_additions_of(was))
    for (table, key), amounts in _grouped(deltas).items():
        if not any(amounts.values()):
            continue
        where = _key(table, key)
        held = db.get(table, **where)
        if held is None:
            db.insert(table, **where, **{column: amounts.get(column, 0) for column in _sums(table)})
        else:
            moved = {column: held[column] + amount for column, amount in amounts.items()}
            if not any({**held, **moved}[column] for column in _sums(table)):
                db.delete(table, **where)  # back to nothing: no row, as a replay summing at its end leaves it
            else:
                db.update(table, where, **moved)
    if before is None:
        _reported(db, after["tenant"], after["reporter"], after["filed_at"])


def _reported(db: Writer, tenant: str, reporter: str, at: datetime) -> None:
    held = db.get(reporters, tenant=tenant, reporter=reporter)
    if held is None:
        db.insert(reporters, tenant=tenant, reporter=reporter, first_at=at, last_at=at)
    elif at < held.first_at or at > held.last_at:
        db.update(reporters, {"tenant": tenant, "reporter": reporter},
                  first_at=min(at, held.first_at), last_at=max(at, held.last_at))


def summed(rows: Iterable[dict[str, Any]]) -> dict[Table, list[dict[str, Any]]]:
    """Every table of sums from whole rows at once (a store filled without the projection)."""
    total: Counter[tuple[Table, tuple[Any, ...], str]] = Counter()
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for row in rows:
        total.update(additions(row))
        key, at = (row["tenant"], row["reporter"]), row["filed_at"]
        first, last = spans.get(key, (at, at))
        spans[key] = (min(first, at), max(last, at))
    filled: dict[Table, list[dict[str, Any]]] = {table: [] for table in (tallies, week_figures, place_tallies, paid_tallies)}
    for (table, key), amounts in _grouped(total).items():
        filled[table].append(_key(table, key) | {column: amounts.get(column, 0) for column in _sums(table)})
    filled[reporters] = [{"tenant": t, "reporter": r, "first_at": a, "last_at": b} for (t, r), (a, b) in spans.items()]
    return filled
