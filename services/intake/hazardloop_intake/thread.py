"""A report's thread: who may read and write it, and how a message is recorded.

Three kinds of people reach a thread, each proving it differently: the anonymous
reporter by the receipt code, a named reporter by their token, safety staff of the
report's subsidiary by theirs. Whoever they are, a message is one event on the
report's thread aggregate, written once however often it is sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from hazardloop.events import Event, MessageText, ReporterWrote, StaffWrote, stable_id
from hazardloop.log.eventstore import History
from hazardloop.privacy.receipts import receipt_digest
from hazardloop.web.auth import Principal, Role
from hazardloop.web.edge import Command

WRITERS = frozenset({Role.VERIFIER, Role.MANAGER})
"""Who writes to reporters for the safety department: its verifiers and managers."""


class Write(Command):
    """A message for the other side of the thread (plain text)."""

    text: MessageText = Field(description="At most 2000 characters.")


@dataclass(frozen=True, slots=True)
class Looker:
    """Who is looking at a report, and how they proved it: the reporter (by receipt code or
    by token) or a member of staff. Pages and routes ask it, never the proof itself."""

    reporter: bool
    actor: str
    """As the log records them: ``reporter:<pseudonym>``, or staff by their subject."""
    receipt_code: str | None = None
    token: str | None = None
    """What proves them to another service (the dossier, a reward claim)."""

    @property
    def anonymous(self) -> bool:
        return self.receipt_code is not None


def looker(row: Any, *, principal: Principal | None, receipt_code: str | None, own_pseudonyms: frozenset[str] = frozenset()) -> Looker | None:
    """Who ``principal`` or ``receipt_code`` is for the report ``row``, or None if nobody of its."""
    if row is None:
        return None
    if receipt_code is not None:
        if row.receipt_digest is not None and row.receipt_digest == receipt_digest(receipt_code):
            return Looker(reporter=True, actor=f"reporter:{row.reporter}", receipt_code=receipt_code)
        return None
    if principal is None or not principal.may_access(row.tenant):
        return None
    if principal.has_any(WRITERS):
        return Looker(reporter=False, actor=principal.subject)
    if not row.anonymous and row.reporter in own_pseudonyms:
        return Looker(reporter=True, actor=f"reporter:{row.reporter}")
    return None


def message_id(report_id: str, idempotency_key: str) -> uuid.UUID:
    """A message's event id: the same report and key, the same message (a resent form posts once)."""
    return stable_id(report_id, "thread", idempotency_key)


def message(history: History, event_id: uuid.UUID) -> Event | None:
    """The thread's message with this id, if it holds it."""
    return next((stored.event for stored in history.events if stored.event.event_id == event_id), None)


def write(history: History, *, tenant: str, report_id: str, who: Looker, text: str, event_id: uuid.UUID, now: datetime) -> list[Event]:
    """The message to append, or nothing when this very message is already in the thread."""
    if message(history, event_id) is not None:
        return []
    kind = ReporterWrote if who.reporter else StaffWrote
    return [
        kind.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=report_id, actor=who.actor, event_id=event_id,
            occurred_at=now, text=text,
        )
    ]
