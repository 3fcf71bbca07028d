"""Each subsidiary's directory as notifications projects it: entries, and who holds each role.

Routing reads a role's members by key, once per batch at most: what a batch has read
is kept with that batch's writer, so a replay does not ask the database per event,
and nothing read survives a batch that is rolled back.
"""

from __future__ import annotations

import json
from typing import Any
from weakref import WeakKeyDictionary

from hazardloop.events import DirectoryEntryRemoved, DirectoryEntrySet, DirectoryRole, EndpointEntry, PersonEntry
from hazardloop.writer import Writer
from hazardloop_notifications.store import directory_entries, directory_roles

Member = dict[str, Any]
"""An entry as JSON: ``kind`` person (person, email, language) or endpoint (endpoint, url, format, language)."""

_cache: WeakKeyDictionary[Writer, dict[tuple[Any, ...], Any]] = WeakKeyDictionary()


def _cached(db: Writer, key: tuple[Any, ...], load: Any) -> Any:
    seen = _cache.setdefault(db, {})
    if key not in seen:
        seen[key] = load()
    return seen[key]


def _forget(db: Writer, *keys: tuple[Any, ...]) -> None:
    seen = _cache.get(db)
    if seen is not None:
        for key in keys:
            seen.pop(key, None)


def entry_name(entry: PersonEntry | EndpointEntry) -> str:
    return entry.person if isinstance(entry, PersonEntry) else entry.endpoint


def members(db: Writer, tenant: str, role: DirectoryRole) -> list[Member]:
    def load() -> list[Member]:
        row = db.get(directory_roles, tenant=tenant, role=role.value)
        return json.loads(row["members"]) if row else []

    return _cached(db, ("role", tenant, role.value), load)


def person(db: Writer, tenant: str, name: str) -> Member | None:
    def load() -> Member | None:
        row = db.get(directory_entries, tenant=tenant, kind="person", name=name)
        return json.loads(row["entry"]) if row else None

    return _cached(db, ("person", tenant, name), load)


def when_entry_set(event: DirectoryEntrySet, db: Writer) -> None:
    entry = event.entry
    name = entry_name(entry)
    _remove(db, event.tenant, entry.kind, name)
    document = entry.model_dump(mode="json")
    key = {"tenant": event.tenant, "kind": entry.kind, "name": name}
    if db.get(directory_entries, **key) is None:
        db.insert(directory_entries, **key, entry=json.dumps(document, sort_keys=True), updated_at=event.occurred_at)
    else:
        db.update(directory_entries, key, entry=json.dumps(document, sort_keys=True), updated_at=event.occurred_at)
    for role in entry.roles:
        _set_members(db, event.tenant, role.value, [*_members_of(db, event.tenant, role.value), document])
    _forget(db, ("person", event.tenant, name))


def when_entry_removed(event: DirectoryEntryRemoved, db: Writer) -> None:
    _remove(db, event.tenant, event.kind, event.name)
    key = {"tenant": event.tenant, "kind": event.kind, "name": event.name}
    if db.get(directory_entries, **key) is not None:
        # Kept as an empty entry rather than deleted: the writer batches inserts and
        # updates only, and an empty entry routes nothing.
        db.update(directory_entries, key, entry="null", updated_at=event.occurred_at)
    _forget(db, ("person", event.tenant, event.name))


def _remove(db: Writer, tenant: str, kind: str, name: str) -> None:
    """Take the entry out of every role it held."""
    row = db.get(directory_entries, tenant=tenant, kind=kind, name=name)
    old = json.loads(row["entry"]) if row else None
    if not old:
        return
    for role in old["roles"]:
        kept = [m for m in _members_of(db, tenant, role) if not (m["kind"] == kind and _name(m) == name)]
        _set_members(db, tenant, role, kept)


def _name(member: Member) -> str:
    return member["person"] if member["kind"] == "person" else member["endpoint"]


def _members_of(db: Writer, tenant: str, role: str) -> list[Member]:
    row = db.get(directory_roles, tenant=tenant, role=role)
    return json.loads(row["members"]) if row else []


def _set_members(db: Writer, tenant: str, role: str, listed: list[Member]) -> None:
    value = json.dumps(sorted(listed, key=lambda m: (m["kind"], _name(m))), sort_keys=True)
    if db.get(directory_roles, tenant=tenant, role=role) is None:
        db.insert(directory_roles, tenant=tenant, role=role, members=value)
    else:
        db.update(directory_roles, {"tenant": tenant, "role": role}, members=value)
    _forget(db, ("role", tenant, role))
