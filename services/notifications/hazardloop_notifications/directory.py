"""Each subsidiary's directory as notifications projects it: entries, and who holds each role."""

from __future__ import annotations

import json
from typing import Any
from weakref import ref

from sqlalchemy import Engine, select

from hazardloop.events import DirectoryEntryRemoved, DirectoryEntrySet, DirectoryRole
from hazardloop.projections import Writer
from hazardloop_notifications.domain import entry_name
from hazardloop_notifications.store import directory_entries, directory_roles

Member = dict[str, Any]
"""An entry as JSON: ``kind`` person (person, email, language) or endpoint (endpoint, url, format, language)."""


class Listing:
    """Who holds each role, and each person's entry, as routing reads them.

    Reads are kept across batches, so a rebuild asks the database once per role and
    not per event. A batch that changes the directory empties that cache and keeps
    what it reads to itself, so a batch rolled back leaves nothing behind; a batch that
    changes nothing read only what was committed, which is safe to keep.

    Batches run one at a time, each with its own writer: the batch in hand is known by
    a weak reference to its writer, taken once per batch (a weak-keyed mapping looked
    up per read built a weak reference per event, a rebuild's largest routing cost).
    """

    def __init__(self) -> None:
        self._kept: dict[tuple[str, ...], Any] = {}
        self._writer: ref[Writer] | None = None
        self._seen: dict[tuple[str, ...], Any] = {}
        """What the batch in hand read."""
        self._changing = False
        """Whether the batch in hand changes the directory."""

    def _batch(self, db: Writer) -> None:
        """Start afresh when ``db`` is another batch's writer than the last one seen."""
        if self._writer is None or self._writer() is not db:
            self._writer, self._seen, self._changing = ref(db), {}, False

    def _read(self, db: Writer, key: tuple[str, ...], load: Any) -> Any:
        self._batch(db)
        seen = self._seen
        if key in seen:
            return seen[key]
        if not self._changing and key in self._kept:
            return self._kept[key]
        value = seen[key] = load()
        if not self._changing:
            self._kept[key] = value
        return value

    def _changed(self, db: Writer) -> None:
        self._batch(db)
        self._changing = True
        self._kept.clear()
        self._seen.clear()

    def members(self, db: Writer, tenant: str, role: DirectoryRole) -> list[Member]:
        def load() -> list[Member]:
            row = db.get(directory_roles, tenant=tenant, role=role.value)
            return json.loads(row["members"]) if row else []

        return self._read(db, ("role", tenant, role.value), load)

    def person(self, db: Writer, tenant: str, name: str) -> Member | None:
        def load() -> Member | None:
            row = db.get(directory_entries, tenant=tenant, kind="person", name=name)
            return json.loads(row["entry"]) if row else None

        return self._read(db, ("person", tenant, name), load)

    def when_entry_set(self, event: DirectoryEntrySet, db: Writer, _: Listing | None = None) -> None:
        self._changed(db)
        when_entry_set(event, db)

    def when_entry_removed(self, event: DirectoryEntryRemoved, db: Writer, _: Listing | None = None) -> None:
        self._changed(db)
        when_entry_removed(event, db)


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


def when_entry_removed(event: DirectoryEntryRemoved, db: Writer) -> None:
    _remove(db, event.tenant, event.kind, event.name)
    key = {"tenant": event.tenant, "kind": event.kind, "name": event.name}
    if db.get(directory_entries, **key) is not None:
        # Kept as an empty entry rather than deleted: the writer batches inserts and
        # updates only, and an empty entry routes nothing.
        db.update(directory_entries, key, entry="null", updated_at=event.occurred_at)


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


def listed_entries(engine: Engine, tenant: str) -> list[tuple[str, str]]:
    """The (kind, name) of every entry the subsidiary's directory lists, as projected:
    what a whole directory document replaces."""
    with engine.connect() as db:
        rows = db.execute(select(directory_entries.c.kind, directory_entries.c.name, directory_entries.c.entry).where(directory_entries.c.tenant == tenant))
        return [(row.kind, row.name) for row in rows if row.entry != "null"]
