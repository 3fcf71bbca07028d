"""Browser sessions, kept on the server: the cookie holds only a random id.

The person's access token stays here, never in the browser; a stolen copy of the
store holds only hashes of the ids. A session ends at sign-out, after the idle time,
or when its token expires, whichever comes first.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, String, Table, Text, delete, insert, select, update

from hazardloop.projections.db import UtcDateTime
from hazardloop.web.auth import Role
from hazardloop_console.store import kept

sessions = Table(
    "console_sessions",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("subject", String(128), nullable=False),
    Column("name", String(128)),
    Column("tenants", Text, nullable=False),
    Column("roles", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("id_token", Text),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
)
"""Not part of the projection: a rebuild from the log does not sign anybody out."""

TOUCH_EVERY = timedelta(seconds=60)
"""How stale ``last_seen`` may be before a request writes it again (one write a minute, not one a request)."""


@dataclass(frozen=True)
class Person:
    """Who is signed in: what pages ask of them and what commands carry."""

    subject: str
    name: str | None
    tenants: tuple[str, ...]
    roles: frozenset[Role]
    token: str
    csrf: str
    id_token: str | None = None
    """The provider's ID token, which signing out hands back to end the provider's session too."""

    @property
    def shown_as(self) -> str:
        return self.name or self.subject

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def group_wide(self) -> bool:
        return "*" in self.tenants


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._engine = engine
        self._idle = idle

    def open(
        self, *, subject: str, name: str | None, tenants: list[str], roles: list[Role], token: str, expires_at: datetime,
        id_token: str | None = None,
    ) -> str:
        """A new session; its id goes into the cookie and nowhere else."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.expires_at < now))
            db.execute(insert(sessions).values(
                id_hash=_hash(session_id), subject=subject, name=name, tenants=json.dumps(tenants),
                roles=json.dumps([Role(r).value for r in roles]), token=token, id_token=id_token, csrf=secrets.token_urlsafe(24),
                expires_at=expires_at, last_seen=now,
            ))
        return session_id

    def find(self, session_id: str | None) -> Person | None:
        """The person of a live session; an idle or expired one is closed instead."""
        if not session_id:
            return None
        key = _hash(session_id)
        now = datetime.now(UTC)
        with self._engine.connect() as db:
            row = db.execute(select(sessions).where(sessions.c.id_hash == key)).first()
        if row is None:
            return None
        if row.expires_at <= now or row.last_seen + self._idle <= now:
            self.close(session_id)
            return None
        if now - row.last_seen >= TOUCH_EVERY:
            with self._engine.begin() as db:
                db.execute(update(sessions).where(sessions.c.id_hash == key).values(last_seen=now))
        return Person(
            subject=row.subject, name=row.name, tenants=tuple(json.loads(row.tenants)),
            roles=frozenset(Role(r) for r in json.loads(row.roles)), token=row.token, csrf=row.csrf, id_token=row.id_token,
        )

    def close(self, session_id: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))
