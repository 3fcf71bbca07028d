"""A report form kept while its reporter signs in, so nothing typed is lost on the way.

The draft holds personal free text, so it is kept encrypted: the key is derived from a
random value that only the reporter's cookie holds, and the store keeps only a hash of
that value and the ciphertext. Intake's store alone reveals nothing; a draft nobody
comes back for is gone after ``TTL``. Never in a URL.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Engine, LargeBinary, String, Table, delete, insert, select

from hazardloop.db import UtcDateTime
from hazardloop_intake.store import kept

DRAFT_COOKIE = "hl_draft"
TTL = timedelta(minutes=20)
"""Time a reporter has to sign in and come back to the form."""

drafts = Table(
    "intake_form_drafts",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


def _id_hash(secret: str) -> str:
    return hashlib.sha256(b"draft-id\x1f" + secret.encode()).hexdigest()


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"draft-key\x1f" + secret.encode()).digest()


class Drafts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keep(self, draft: dict[str, Any]) -> str:
        """Store the draft; the value returned goes into the reporter's cookie, and only there."""
        secret = secrets.token_urlsafe(32)
        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(_key(secret)).encrypt(nonce, json.dumps(draft).encode(), None)
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(drafts).where(drafts.c.expires_at < now))
            db.execute(insert(drafts).values(id_hash=_id_hash(secret), sealed=sealed, expires_at=now + TTL))
        return secret

    def open(self, secret: str | None) -> dict[str, Any] | None:
        """The draft of this cookie's value, while it is kept."""
        if not secret:
            return None
        with self._engine.connect() as db:
            row = db.execute(select(drafts).where(drafts.c.id_hash == _id_hash(secret))).first()
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        try:
            plain = AESGCM(_key(secret)).decrypt(row.sealed[:12], row.sealed[12:], None)
        except InvalidTag:
            return None
        return json.loads(plain)

    def drop(self, secret: str | None) -> None:
        if secret:
            with self._engine.begin() as db:
                db.execute(delete(drafts).where(drafts.c.id_hash == _id_hash(secret)))
