"""Notifications' rules: the directory's entries, each delivery's record, the clocks'
events and what a message may say about its report.

Pure: each aggregate is rebuilt from its history in the log and answers a command with
the events to append, chained onto that history (none when the log says so already);
nothing here reads a store, the broker or a request. Who hears what lives in
``routing``, its own module because it is one self-contained table of every event type.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Self

from pydantic import Field

from hazardloop.errors import DomainError, NotFound
from hazardloop.events import (
    GENESIS_HASH,
    DigestDue,
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    EndpointEntry,
    Event,
    MessageRead,
    NotificationFailed,
    NotificationRetried,
    NotificationSent,
    PersonEntry,
    RectificationReminderDue,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.web.edge import Command

# --- the directory ---------------------------------------------------------------------------

DIRECTORY = "directory"
"""The aggregate type of a directory entry: each person and endpoint is its own aggregate."""

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


class DirectoryDocument(Command):
    """A subsidiary's directory as a file or an admin request gives it."""

    people: list[PersonEntry] = Field(default_factory=list, max_length=5000)
    endpoints: list[EndpointEntry] = Field(default_factory=list, max_length=500)
    prune: bool = False
    """Remove entries not in this document (the document is then the whole directory)."""

    def entries(self) -> list[PersonEntry | EndpointEntry]:
        return [*self.people, *self.endpoints]

    def not_listed(self, listed: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The ``listed`` (kind, name) this document removes: with ``prune``, those it lacks."""
        if not self.prune:
            return []
        keep = {(entry.kind, entry_name(entry)) for entry in self.entries()}
        return [(kind, name) for kind, name in listed if (kind, name) not in keep]


def entry_name(entry: PersonEntry | EndpointEntry) -> str:
    return entry.person if isinstance(entry, PersonEntry) else entry.endpoint


def entry_id(kind: str, name: str) -> str:
    """The entry's aggregate id: its own name when that is a subject token, else a digest of it."""
    slug = name if _TOKEN.match(name) else "h" + hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"{kind}-{slug}"


@dataclass(frozen=True, slots=True)
class Listed:
    """One directory entry as its log has it: ``entry`` None when never set or removed.

    A command that would change nothing appends nothing, so loading the same directory
    twice (or from two places at once) adds nothing the second time.
    """

    tenant: str
    kind: str
    name: str
    entry: PersonEntry | EndpointEntry | None
    last_hash: str

    @classmethod
    def from_history(cls, tenant: str, kind: str, name: str, history: History) -> Self:
        last = history.events[-1].event if history.events else None
        entry = last.entry if isinstance(last, DirectoryEntrySet) else None
        return cls(tenant, kind, name, entry, history.last_hash)

    @property
    def aggregate_id(self) -> str:
        return entry_id(self.kind, self.name)

    def set(self, entry: PersonEntry | EndpointEntry, *, actor: str, now: datetime) -> list[Event]:
        if entry == self.entry:
            return []
        return [DirectoryEntrySet.record(
            prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=self.aggregate_id, actor=actor, occurred_at=now, entry=entry
        )]

    def remove(self, *, actor: str, now: datetime, missing_ok: bool = False) -> list[Event]:
        """Take the entry out; an entry not there is ``NotFound``, or nothing to do when
        ``missing_ok`` (a whole document pruning what another request removed already)."""
        if self.entry is None:
            if missing_ok:
                return []
            raise NotFound(f"no {self.kind} {self.name!r} in the directory of {self.tenant}")
        return [DirectoryEntryRemoved.record(
            prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=self.aggregate_id, actor=actor, occurred_at=now,
            kind=self.kind, name=self.name,
        )]


# --- deliveries ------------------------------------------------------------------------------

DELIVERY = "delivery"
"""The aggregate type of a delivery: one message to one recipient through one channel."""

SENDER = "notifications"
"""The actor of delivery outcomes."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a delivery's outcome records of it: which message, to whom, how, caused by what."""

    key: str
    tenant: str
    kind: str
    channel: str
    recipient: str
    report_id: str | None
    source_event_id: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """From a row of the outbox, or of the inbox as ``store.inbox_deliveries`` selects it."""
        return cls(*(row[field.name] for field in fields(cls)))

    def sent(self, *, prev_hash: str, attempts: int, now: datetime) -> NotificationSent:
        """Its ``NotificationSent``: one id per delivery, so it lands once however often it is recorded."""
        return self._outcome(NotificationSent, stable_id("notification-sent", self.key), prev_hash, now, attempts=attempts)

    def failed(self, *, prev_hash: str, round: int, attempts: int, error: str, now: datetime) -> NotificationFailed:
        """Its ``NotificationFailed`` in the ``round``-th try of it (each retry by an operator starts one)."""
        event_id = stable_id("notification-failed", self.key, str(round))
        return self._outcome(NotificationFailed, event_id, prev_hash, now, attempts=max(attempts, 1), error=error[-2000:])

    def _outcome(self, kind: type[Any], event_id: uuid.UUID, prev_hash: str, now: datetime, **payload: Any) -> Any:
        source = uuid.UUID(self.source_event_id)
        return kind.record(
            prev_hash=prev_hash, tenant=self.tenant, aggregate_id=self.key, actor=SENDER, event_id=event_id, occurred_at=now,
            correlation_id=source, causation_id=source, kind=self.kind, channel=self.channel, recipient=self.recipient,
            report_id=self.report_id, source_event_id=self.source_event_id, **payload,
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery as its log has it: sent once at most, dead-lettered until an operator retries it.

    A message the log says was sent is never recorded again, whatever the sender's own
    notes say (a rebuild, a restart mid-batch, another sender that got there first).
    """

    tenant: str
    key: str
    events: tuple[Event, ...]
    last_hash: str

    @classmethod
    def from_history(cls, tenant: str, key: str, history: History) -> Self:
        return cls(tenant, key, tuple(stored.event for stored in history.events), history.last_hash)

    @property
    def sent(self) -> bool:
        return any(isinstance(event, NotificationSent) for event in self.events)

    @property
    def dead_lettered(self) -> bool:
        return bool(self.events) and isinstance(self.events[-1], NotificationFailed)

    @property
    def state(self) -> str:
        """``sent``, ``failed`` (dead-lettered) or ``pending``, as the delivery log lists it."""
        return "sent" if self.sent else "failed" if self.dead_lettered else "pending"

    def record_sent(self, outgoing: Outgoing, *, attempts: int, now: datetime) -> list[Event]:
        """The channel took the message: recorded, unless the log has it sent already."""
        return [] if self.sent else [outgoing.sent(prev_hash=self.last_hash, attempts=attempts, now=now)]

    def dead_letter(self, outgoing: Outgoing, *, attempts: int, error: str, now: datetime) -> list[Event]:
        """The sender gave up: dead-lettered, unless sent meanwhile or dead-lettered already."""
        if self.sent or self.dead_lettered:
            return []
        return [outgoing.failed(prev_hash=self.last_hash, round=len(self.events), attempts=attempts, error=error, now=now)]

    def retry(self, *, actor: str, now: datetime, comment: str | None = None) -> list[Event]:
        """An operator sends a dead-lettered message on its way again; nothing else can be retried."""
        if not self.dead_lettered:
            raise DomainError("only a dead-lettered delivery can be retried", state=self.state)
        return [NotificationRetried.record(
            prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=self.key, actor=actor,
            event_id=stable_id("notification-retried", self.key, str(len(self.events))), occurred_at=now, comment=comment,
        )]


# --- inbox messages read -----------------------------------------------------------------------


def message_read(tenant: str, box: str, message_id: str, *, reader: str, now: datetime) -> MessageRead:
    """The first and only event of a message's reading: its id derived from the message,
    so reading it again (or from two devices at once) records nothing more."""
    return MessageRead.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=str(stable_id("inbox", box, message_id)), actor=reader,
        event_id=stable_id("message-read", box, message_id), occurred_at=now, box=box, message_id=message_id,
    )


# --- the clocks: reminders and digests -------------------------------------------------------

CLOCK = "notifications:clock"
"""The actor of reminders and digests."""


def reminder_due(tenant: str, report_id: str, *, owner: str, deadline: datetime, hours_before: int, now: datetime) -> RectificationReminderDue:
    """The reminder ``hours_before`` the deadline: its ids derived from the report, the
    deadline and the lead, so it fires once however often it is found due."""
    key = f"{deadline.isoformat()}/{hours_before}h"
    return RectificationReminderDue.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=str(stable_id("reminder", report_id, key)), actor=CLOCK,
        event_id=stable_id("reminder-due", report_id, key), occurred_at=now,
        report_id=report_id, owner=owner, deadline=deadline, hours_before=hours_before,
    )


def digest_slot(now: datetime, at: time, zone: tzinfo) -> datetime:
    """The latest time the daily digest fell due (``at`` each day in ``zone``): a day
    missed is not sent late, the next slot supersedes it."""
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), at, zone)
    return slot - timedelta(days=1) if slot > local else slot


def digest_due(tenant: str, slot: datetime, *, now: datetime) -> DigestDue:
    """The subsidiary's digest of the day ending at ``slot``: one per subsidiary and day."""
    day = slot.date().isoformat()
    return DigestDue.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=f"d-{day}", actor=CLOCK,
        event_id=stable_id("digest", tenant, day), occurred_at=now, day=day, since=slot - timedelta(days=1),
    )


# --- what a message says ---------------------------------------------------------------------


def report_context(row: Mapping[str, Any] | None, *, staff: bool) -> dict[str, Any]:
    """What a message may say about its report, merged into its parameters when rendered:
    never who reported it, and the reporter's own words only to staff who handle it."""
    if row is None or row.get("place") is None:
        return {"place": "", "category": ""}
    context = {"place": row["place"], "category": row["category"]}
    if staff:
        context["description"] = row["description"]
    return context
