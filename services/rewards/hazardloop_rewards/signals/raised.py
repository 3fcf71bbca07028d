"""Signals the rules raised that the log does not hold yet, and the one ``SignalRaised`` each gets.

The rules write their rows inside the projection's transaction, and a rebuild writes
them all again: so the projection itself never appends. A round of rewards reads the
signals without a ``SignalRaised`` in ``reward_signal_raised`` (filled from the log
alone) and records each once, deciding on the signal's own history: what is there
already is never recorded twice, however often a round looks or the store is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from hazardloop.events import Event, SignalRaised, SignalRule, stable_id
from hazardloop.log.eventstore import History
from hazardloop_rewards.store import signal_evidence, signal_raised, signals

RECORDER = "signals:rewards"
"""The actor of a ``SignalRaised``: the rules, not a person."""
MOST_EVIDENCE = 500
"""The reports one ``SignalRaised`` names at most (the event's limit)."""


@dataclass(frozen=True, slots=True)
class Unrecorded:
    """A signal the rules raised, as the store has it now."""

    signal_id: str
    tenant: str
    rule: SignalRule
    reporter: str | None
    evidence: tuple[str, ...]
    figures: dict[str, Any]
    raised_at: datetime


def unrecorded(engine: Engine, limit: int) -> list[Unrecorded]:
    """Up to ``limit`` signals with no ``SignalRaised`` applied yet, the earliest raised first."""
    found = (
        select(signals.c.signal_id, signals.c.tenant, signals.c.rule, signals.c.reporter, signals.c.figures, signals.c.raised_at)
        .join(signal_raised, signal_raised.c.signal_id == signals.c.signal_id, isouter=True)
        .where(signal_raised.c.signal_id.is_(None))
        .order_by(signals.c.raised_at, signals.c.signal_id)
        .limit(limit)
    )
    with engine.connect() as db:
        rows = list(db.execute(found))
        named: dict[str, list[str]] = {row.signal_id: [] for row in rows}
        if named:
            reports = select(signal_evidence).where(signal_evidence.c.signal_id.in_(named)).order_by(signal_evidence.c.report_id)
            for evidence in db.execute(reports):
                named[evidence.signal_id].append(evidence.report_id)
    return [
        Unrecorded(row.signal_id, row.tenant, SignalRule(row.rule), row.reporter, tuple(named[row.signal_id][:MOST_EVIDENCE]),
                   row.figures or {}, row.raised_at)
        for row in rows if named[row.signal_id]
    ]  # fmt: skip


def numbers_only(figures: dict[str, Any]) -> dict[str, int | float]:
    """The rule's figures that are numbers: the names some rules show (the verifier, the
    team, its top people, the period's label) stay out of the log."""
    return {name: value for name, value in figures.items() if isinstance(value, int | float) and not isinstance(value, bool)}


def record_raised(signal: Unrecorded, history: History, *, now: datetime) -> list[Event]:
    """The signal's ``SignalRaised``, unless its history holds one already.

    A reviewer's decision cannot come before it in practice (the round records a signal
    moments after it fires), but one recorded before signals were logged may: then the
    signal is still recorded as raised, after the decision."""
    if any(isinstance(stored.event, SignalRaised) for stored in history.events):
        return []
    return [
        SignalRaised.record(
            prev_hash=history.last_hash, tenant=signal.tenant,
            aggregate_id=signal.signal_id, actor=RECORDER, occurred_at=now,
            event_id=stable_id(signal.tenant, "signal-raised", signal.signal_id),
            rule=signal.rule, reporter=signal.reporter, evidence=signal.evidence, figures=numbers_only(signal.figures),
            raised_at=signal.raised_at,
        )
    ]  # fmt: skip
