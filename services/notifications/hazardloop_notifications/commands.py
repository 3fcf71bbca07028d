"""Notifications' command handlers: load the aggregate from the log, let the domain decide,
append guarded.

Every change of an aggregate goes through ``EventStore.decide``: of two racing commands
one lands, and the other reloads and decides again against it, so it gets the answer
the winner's events call for (nothing left to do, a 404 or a 409). Events that open an
aggregate of their own, with an id derived from what they are for (an inbox message's
delivery, a message read, a reminder, a digest), need no history: they are appended many
at a time, each guarded to be its aggregate's first, so a repeat records nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from hazardloop.events import GENESIS_HASH, EndpointEntry, Event, Note, PersonEntry
from hazardloop.log.eventstore import AggregateStore, Appended
from hazardloop.privacy.sealing import TextVault
from hazardloop_notifications.domain import (
    DELIVERY,
    DIRECTORY,
    Delivery,
    DirectoryDocument,
    Listed,
    Outgoing,
    entry_id,
    entry_name,
    message_read,
)

# --- the directory ---------------------------------------------------------------------------


async def directory_entry(store: AggregateStore, tenant: str, kind: str, name: str) -> Listed:
    """An entry as the log has it (so right after it is set, before the read model has it)."""
    return Listed.from_history(tenant, kind, name, await store.load(tenant, DIRECTORY, entry_id(kind, name)))


async def set_entry(store: AggregateStore, tenant: str, entry: PersonEntry | EndpointEntry, *, actor: str, now: datetime) -> bool:
    """Record the entry; False when the directory already says exactly this."""
    kind, name = entry.kind, entry_name(entry)
    events = await store.decide(
        tenant, DIRECTORY, entry_id(kind, name),
        lambda history: Listed.from_history(tenant, kind, name, history).set(entry, actor=actor, now=now),
    )
    return bool(events)


async def remove_entry(
    store: AggregateStore, tenant: str, kind: str, name: str, *, actor: str, now: datetime, missing_ok: bool = False
) -> bool:
    """Take the entry out of the directory: ``NotFound`` when it is not there, or False with ``missing_ok``."""
    events = await store.decide(
        tenant, DIRECTORY, entry_id(kind, name),
        lambda history: Listed.from_history(tenant, kind, name, history).remove(actor=actor, now=now, missing_ok=missing_ok),
    )
    return bool(events)


async def load_directory(
    store: AggregateStore, tenant: str, document: DirectoryDocument, *, actor: str, now: datetime, listed: Iterable[tuple[str, str]] = ()
) -> dict[str, int]:
    """Set every entry of ``document``; with ``prune``, remove the ``listed`` (kind, name) it lacks.

    ``listed`` comes from the read model, which may lag: an entry it lists that the log
    has removed already is nothing to remove.
    """
    entries = document.entries()
    changed = 0
    for entry in entries:
        changed += await set_entry(store, tenant, entry, actor=actor, now=now)
    removed = 0
    for kind, name in document.not_listed(listed):
        removed += await remove_entry(store, tenant, kind, name, actor=actor, now=now, missing_ok=True)
    return {"entries": len(entries), "changed": changed, "unchanged": len(entries) - changed, "removed": removed}


# --- deliveries ------------------------------------------------------------------------------


async def delivery(store: AggregateStore, tenant: str, key: str) -> Delivery:
    """A delivery as the log has it: what the sender checks before it sends."""
    return Delivery.from_history(tenant, key, await store.load(tenant, DELIVERY, key))


async def record_sent(store: AggregateStore, outgoing: Outgoing, *, attempts: int, now: datetime) -> bool:
    """Record that the channel took the message; False when the log had it sent already."""
    events = await store.decide(
        outgoing.tenant, DELIVERY, outgoing.key,
        lambda history: Delivery.from_history(outgoing.tenant, outgoing.key, history).record_sent(outgoing, attempts=attempts, now=now),
    )
    return bool(events)


async def dead_letter(store: AggregateStore, outgoing: Outgoing, *, attempts: int, error: str, now: datetime) -> bool:
    """Record that the sender gave up on the message; False when the log says it was
    sent or dead-lettered meanwhile."""
    events = await store.decide(
        outgoing.tenant, DELIVERY, outgoing.key,
        lambda history: Delivery.from_history(outgoing.tenant, outgoing.key, history).dead_letter(
            outgoing, attempts=attempts, error=error, now=now
        ),
    )
    return bool(events)


async def retry_delivery(
    store: AggregateStore, texts: TextVault, tenant: str, key: str, *, report_id: str | None, actor: str, now: datetime, comment: Note | None = None
) -> Event:
    """Send a dead-lettered delivery on its way again (a 409 naming its state otherwise).

    The operator's comment is sealed under the message's report; a message about no
    report (a digest) is about nobody in particular.
    """
    sealing = texts.sealing(tenant, report_id) if report_id else contextlib.nullcontext()
    async with sealing:
        [event] = await store.decide(
            tenant, DELIVERY, key,
            lambda history: Delivery.from_history(tenant, key, history).retry(actor=actor, now=now, comment=comment),
        )
    return event


async def record_inbox_deliveries(store: AggregateStore, messages: Sequence[Outgoing], *, now: datetime) -> int:
    """An inbox message is delivered once it is projected: record each as sent, once."""
    await _open_each(store, [message.sent(prev_hash=GENESIS_HASH, attempts=1, now=now) for message in messages])
    return len(messages)


# --- inbox messages read -----------------------------------------------------------------------


class Unread(NamedTuple):
    """A message its reader marks read."""

    tenant: str
    box: str
    message_id: str
    reader: str


async def mark_read(store: AggregateStore, messages: Iterable[Unread], *, now: datetime) -> int:
    """Record each message read; how many were not recorded read before."""
    appended = await _open_each(store, [message_read(m.tenant, m.box, m.message_id, reader=m.reader, now=now) for m in messages])
    return sum(1 for a in appended if not a.duplicate)


# --- the clocks ------------------------------------------------------------------------------


async def fire(store: AggregateStore, due: Sequence[Event]) -> int:
    """Record reminders and digests that fell due (each fires once, however often it is found due)."""
    await _open_each(store, due)
    return len(due)


async def _open_each(store: AggregateStore, events: Sequence[Event]) -> list[Appended]:
    """Append events that each open their own aggregate, pipelined, each guarded to be its first."""
    return await store.append_many([(event, 0) for event in events]) if events else []
