"""An anonymous reporter's session after a receipt-code look-up: the code kept on the
server for a short idle time, so that it never travels in a URL or a page.

The cookie holds a random secret and nothing else. The store keys the session by a
hash of that secret and keeps the code encrypted (AES-256-GCM) under a key derived
from it: a copy of intake's store alone opens no session and reveals no code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Engine, LargeBinary, String, Table, delete, insert, select, update

from hazardloop.db import UtcDateTime
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
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class ReceiptSession:
    receipt_code: str
    csrf: str


def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), b"hazardloop receipt session\x1f" + purpose, hashlib.sha256).digest()


def _id_hash(secret: str) -> str:
    return _derive(secret, b"id").hex()


class ReceiptSessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._engine = engine
        self.idle = idle

    def open(self, receipt_code: str) -> str:
        """A new session for ``receipt_code``: the secret goes into the cookie and nowhere else."""
        secret = secrets.token_urlsafe(32)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + AESGCM(_derive(secret, b"key")).encrypt(nonce, receipt_code.encode(), b"receipt-code")
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
        if not secret or len(secret) > 100:
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
        try:
            code = AESGCM(_derive(secret, b"key")).decrypt(row.sealed_code[:NONCE_BYTES], row.sealed_code[NONCE_BYTES:], b"receipt-code")
        except InvalidTag:
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
