"""Keeping a subsidiary's directory: each entry is its own aggregate in the log.

Setting an entry reads its history and appends only when something changed, guarded
by its last sequence, so loading the same file twice (or from two places at once)
adds nothing the second time.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from pydantic import Field

from hazardloop.web.edge import Command
from hazardloop.events import DirectoryEntryRemoved, DirectoryEntrySet, EndpointEntry, PersonEntry
from hazardloop.log.eventstore import ConcurrencyError, EventStore
from hazardloop.errors import NotFound

ATTEMPTS = 3
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


class DirectoryDocument(Command):
    """A subsidiary's directory as a file or an admin request gives it."""

    people: list[PersonEntry] = Field(default_factory=list, max_length=5000)
    endpoints: list[EndpointEntry] = Field(default_factory=list, max_length=500)
    prune: bool = False
    """Remove entries not in this document (the document is then the whole directory)."""


def aggregate_id(kind: str, name: str) -> str:
    """The entry's aggregate: its own name when that is a subject token, else a digest of it."""
    slug = name if _TOKEN.match(name) else "h" + hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"{kind}-{slug}"


def _name(entry: PersonEntry | EndpointEntry) -> str:
    return entry.person if isinstance(entry, PersonEntry) else entry.endpoint


async def current(store: EventStore, tenant: str, kind: str, name: str) -> tuple[Any, int, str]:
    """(the entry as the log has it or None, version, last hash)."""
    history = await store.load(tenant, "directory", aggregate_id(kind, name))
    last = history.events[-1].event if history.events else None
    entry = last.entry if isinstance(last, DirectoryEntrySet) else None
    return entry, history.version, history.last_hash


async def set_entry(store: EventStore, tenant: str, entry: PersonEntry | EndpointEntry, *, actor: str, now: datetime) -> bool:
    """Record the entry; False when the directory already says exactly this."""
    name = _name(entry)
    for attempt in range(1, ATTEMPTS + 1):
        stored, version, last_hash = await current(store, tenant, entry.kind, name)
        if stored == entry:
            return False
        event = DirectoryEntrySet.record(
            prev_hash=last_hash, tenant=tenant, aggregate_id=aggregate_id(entry.kind, name), actor=actor, occurred_at=now, entry=entry
        )
        try:
            await store.append(event, expected_version=version)
            return True
        except ConcurrencyError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def remove_entry(store: EventStore, tenant: str, kind: str, name: str, *, actor: str, now: datetime) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        stored, version, last_hash = await current(store, tenant, kind, name)
        if stored is None:
            if attempt == 1:
                raise NotFound(f"no {kind} {name!r} in the directory of {tenant}")
            return False
        event = DirectoryEntryRemoved.record(
            prev_hash=last_hash, tenant=tenant, aggregate_id=aggregate_id(kind, name), actor=actor, occurred_at=now, kind=kind, name=name
        )
        try:
            await store.append(event, expected_version=version)
            return True
        except ConcurrencyError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def load(
    store: EventStore, tenant: str, document: DirectoryDocument, *, actor: str, now: datetime, listed: list[tuple[str, str]] = ()
) -> dict[str, int]:
    """Set every entry of ``document``; with ``prune``, remove the ``listed`` (kind, name) it lacks."""
    changed = 0
    for entry in [*document.people, *document.endpoints]:
        changed += await set_entry(store, tenant, entry, actor=actor, now=now)
    removed = 0
    if document.prune:
        keep = {("person", p.person) for p in document.people} | {("endpoint", e.endpoint) for e in document.endpoints}
        for kind, name in listed:
            if (kind, name) not in keep:
                removed += await remove_entry(store, tenant, kind, name, actor=actor, now=now)
    total = len(document.people) + len(document.endpoints)
    return {"entries": total, "changed": changed, "unchanged": total - changed, "removed": removed}
