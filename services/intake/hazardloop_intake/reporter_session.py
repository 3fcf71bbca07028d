"""Reporters' sessions on the report form, kept on the server: the cookie holds only a random id.

A reporter signs in only to report in their own name and to follow their reports; the
access token stays here, never in the phone. A session ends at sign-out, after the idle
time, or when its token expires, whichever comes first. The tables are not part of the
projection: a rebuild from the log signs nobody out.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import Column, Engine, String, Table, Text, delete, insert, select, update

from hazardloop.auth import ALL_TENANTS, Principal, Role
from hazardloop.db import UtcDateTime
from hazardloop_intake.store import kept

SESSION_COOKIE = "hl_reporter"
COOKIE_PATH = "/f"
"""The reporter's pages only: intake's API never sees the cookie."""

reporter_sessions = Table(
    "intake_reporter_sessions",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("subject", String(128), nullable=False),
    Column("name", String(256)),
    Column("tenants", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("id_token", Text),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
)

TOUCH_EVERY = timedelta(seconds=60)
"""How stale ``last_seen`` may be before a request writes it again."""


@dataclass(frozen=True)
class ReporterSession:
    """A signed-in reporter: who the token says they are, and where they may report."""

    subject: str
    """The employee number (the token's subject)."""
    name: str | None
    tenants: tuple[str, ...]
    token: str
    csrf: str
    id_token: str | None = None

    @property
    def shown_as(self) -> str:
        return self.name or self.subject

    def may_file_in(self, tenant: str) -> bool:
        return ALL_TENANTS in self.tenants or tenant in self.tenants

    def principal(self, subsidiaries: list[str]) -> Principal:
        """The reporter as the services see them, for reads of their own reports."""
        return Principal(
            subject=self.subject, name=self.name, tenants=frozenset(self.tenants), roles=frozenset({Role.REPORTER}),
            subsidiaries=frozenset(subsidiaries),
        )


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ReporterSessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._engine = engine
        self._idle = idle

    def open(
        self, *, subject: str, name: str | None, tenants: list[str], token: str, expires_at: datetime, id_token: str | None = None
    ) -> str:
        """A new session; its id goes into the cookie and nowhere else."""
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(reporter_sessions).where(reporter_sessions.c.expires_at < now))
            db.execute(insert(reporter_sessions).values(
                id_hash=_hash(session_id), subject=subject, name=name, tenants=json.dumps(tenants), token=token,
                id_token=id_token, csrf=secrets.token_urlsafe(24), expires_at=expires_at, last_seen=now,
            ))
        return session_id

    def find(self, session_id: str | None) -> ReporterSession | None:
        """The reporter of a live session; an idle or expired one is closed instead."""
        if not session_id:
            return None
        key = _hash(session_id)
        now = datetime.now(UTC)
        with self._engine.connect() as db:
            row = db.execute(select(reporter_sessions).where(reporter_sessions.c.id_hash == key)).first()
        if row is None:
            return None
        if row.expires_at <= now or row.last_seen + self._idle <= now:
            self.close(session_id)
            return None
        if now - row.last_seen >= TOUCH_EVERY:
            with self._engine.begin() as db:
                db.execute(update(reporter_sessions).where(reporter_sessions.c.id_hash == key).values(last_seen=now))
        return ReporterSession(
            subject=row.subject, name=row.name, tenants=tuple(json.loads(row.tenants)), token=row.token, csrf=row.csrf,
            id_token=row.id_token,
        )

    def close(self, session_id: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(reporter_sessions).where(reporter_sessions.c.id_hash == _hash(session_id)))


def secure_cookies(request: Request) -> bool:
    """Cookies only over HTTPS where phones reach intake over HTTPS."""
    return request.app.state.intake.settings.form_base_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=secure_cookies(request), path=COOKIE_PATH
    )


async def signed_in_reporter(request: Request) -> ReporterSession | None:
    """The reporter signed in on this phone, or None."""
    sessions: ReporterSessions = request.app.state.reporter_sessions
    return sessions.find(request.cookies.get(SESSION_COOKIE))


SignedInReporter = Annotated[ReporterSession | None, Depends(signed_in_reporter)]
