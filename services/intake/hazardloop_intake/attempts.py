"""Reporters' sign-ins under way at the identity provider, kept here until it sends them back.

The phone holds only a random id in a short-lived HttpOnly cookie; the state, nonce and
PKCE verifier never leave intake. A callback is honoured once, in the browser that
started the sign-in, with the state it was sent with.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, String, Table, Text, delete, insert, select

from hazardloop.db import UtcDateTime
from hazardloop_intake.store import kept

attempts = Table(
    "intake_signin_attempts",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("state", String(128), nullable=False),
    Column("nonce", String(128), nullable=False),
    Column("verifier", String(128), nullable=False),
    Column("next_url", Text, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

TTL = timedelta(minutes=10)
"""Time a reporter has at the provider's page before intake forgets the attempt."""


@dataclass(frozen=True)
class Attempt:
    state: str
    nonce: str
    verifier: str
    next_url: str


def _hash(attempt_id: str) -> str:
    return hashlib.sha256(attempt_id.encode()).hexdigest()


class SignInAttempts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, *, state: str, nonce: str, verifier: str, next_url: str) -> str:
        """Remember an attempt; the id returned goes into the phone's cookie."""
        attempt_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(attempts).where(attempts.c.expires_at < now))
            db.execute(insert(attempts).values(
                id_hash=_hash(attempt_id), state=state, nonce=nonce, verifier=verifier, next_url=next_url, expires_at=now + TTL,
            ))
        return attempt_id

    def finish(self, attempt_id: str | None) -> Attempt | None:
        """The attempt, taken out of the store: a callback is honoured once, and only in time."""
        if not attempt_id:
            return None
        key = _hash(attempt_id)
        with self._engine.begin() as db:
            row = db.execute(select(attempts).where(attempts.c.id_hash == key)).first()
            db.execute(delete(attempts).where(attempts.c.id_hash == key))
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        return Attempt(state=row.state, nonce=row.nonce, verifier=row.verifier, next_url=row.next_url)
