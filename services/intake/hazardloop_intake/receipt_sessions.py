"""An anonymous reporter's session after a receipt-code look-up: the code kept on the
server for a short idle time, so that it never travels in a URL or a page.

The cookie holds a random secret and nothing else; the code is kept sealed under it
(``browser_sealed``): a copy of intake's store alone opens no session and reveals no code.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Engine, LargeBinary, String, Table, delete, insert, select, update

from hazardloop.db import UtcDateTime
from hazardloop_intake import browser_sealed
from hazardloop_intake.store import kept

receipt_sessions = Table(
    "intake_receipt_sessions",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("sealed_code", LargeBinary, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
)
"""Not part of the projection: a rebuild from the log ends nobody's visit."""

LONGEST = timedelta(hours=4)
"""However busy, a session ends this long after the look-up: the code is asked again."""
TOUCH_EVERY = timedelta(seconds=30)
PURPOSE = "receipt code"


@dataclass(frozen=True, slots=True)
class ReceiptSession:
    receipt_code: str
    csrf: str


def _id_hash(secret: str) -> str:
    return browser_sealed.row_key(secret, PURPOSE)


class ReceiptSessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._engine = engine
        self.idle = idle

    def open(self, receipt_code: str) -> str:
        """A new session for ``receipt_code``: the secret goes into the cookie and nowhere else."""
        secret = browser_sealed.new_secret()
        sealed = browser_sealed.seal(secret, PURPOSE, receipt_code.encode())
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(receipt_sessions).where(receipt_sessions.c.last_seen < now - self.idle))
            db.execute(
                insert(receipt_sessions).values(
                    id_hash=_id_hash(secret), sealed_code=sealed, csrf=secrets.token_urlsafe(24), started_at=now, last_seen=now
                )
            )
        return secret

    def find(self, secret: str | None) -> ReceiptSession | None:
        """The live session of the cookie's secret; an idle or old one is ended instead."""
        if not browser_sealed.plausible(secret):
            return None
        key = _id_hash(secret)
        now = datetime.now(UTC)
        with self._engine.connect() as db:
            row = db.execute(select(receipt_sessions).where(receipt_sessions.c.id_hash == key)).first()
        if row is None:
            return None
        if row.last_seen + self.idle <= now or row.started_at + LONGEST <= now:
            self.close(secret)
            return None
        code = browser_sealed.unseal(secret, PURPOSE, row.sealed_code)
        if code is None:
            return None
        if now - row.last_seen >= TOUCH_EVERY:
            with self._engine.begin() as db:
                db.execute(update(receipt_sessions).where(receipt_sessions.c.id_hash == key).values(last_seen=now))
        return ReceiptSession(code.decode(), row.csrf)

    def close(self, secret: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(receipt_sessions).where(receipt_sessions.c.id_hash == _id_hash(secret)))


def new_csrf() -> str:
    """A double-submit token for the look-up form (before any session exists)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
