"""A report form kept while its reporter signs in, so nothing typed is lost on the way.

The draft holds personal free text, so it is kept sealed under the reporter's browser's
secret (``browser_sealed``): intake's store alone reveals nothing. A draft nobody comes
back for is gone after ``TTL``. Never in a URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Engine, LargeBinary, String, Table, delete, insert, select

from hazardloop.db import UtcDateTime
from hazardloop_intake import browser_sealed
from hazardloop_intake.store import kept

DRAFT_COOKIE = "hl_draft"
PURPOSE = "form draft"
TTL = timedelta(minutes=20)
"""Time a reporter has to sign in and come back to the form."""

drafts = Table(
    "intake_form_drafts",
    kept,
    Column("id_hash", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)


class Drafts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keep(self, draft: dict[str, Any]) -> str:
        """Store the draft; the value returned goes into the reporter's cookie, and only there."""
        secret = browser_sealed.new_secret()
        sealed = browser_sealed.seal(secret, PURPOSE, json.dumps(draft).encode())
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(drafts).where(drafts.c.expires_at < now))
            db.execute(insert(drafts).values(id_hash=browser_sealed.row_key(secret, PURPOSE), sealed=sealed, expires_at=now + TTL))
        return secret

    def open(self, secret: str | None) -> dict[str, Any] | None:
        """The draft of this cookie's value, while it is kept."""
        if not browser_sealed.plausible(secret):
            return None
        with self._engine.connect() as db:
            row = db.execute(select(drafts).where(drafts.c.id_hash == browser_sealed.row_key(secret, PURPOSE))).first()
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        plain = browser_sealed.unseal(secret, PURPOSE, row.sealed)
        return None if plain is None else json.loads(plain)

    def drop(self, secret: str | None) -> None:
        if browser_sealed.plausible(secret):
            with self._engine.begin() as db:
                db.execute(delete(drafts).where(drafts.c.id_hash == browser_sealed.row_key(secret, PURPOSE)))
