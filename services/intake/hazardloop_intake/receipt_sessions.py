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

from sqlalchemy import Engine

from hazardloop_intake.browser_sealed import BrowserStore, browser_table
from hazardloop_intake.store import kept

receipt_sessions = browser_table("intake_receipt_sessions", kept, holds="the receipt code")
"""Not part of the projection: a rebuild from the log ends nobody's visit."""

LONGEST = timedelta(hours=4)
"""However busy, a session ends this long after the look-up: the code is asked again."""


@dataclass(frozen=True, slots=True)
class ReceiptSession:
    receipt_code: str
    csrf: str


class ReceiptSessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._store = BrowserStore(engine, receipt_sessions, "receipt code", idle=idle, touch_every=timedelta(seconds=30))

    def open(self, receipt_code: str) -> str:
        """A new session for ``receipt_code``: the secret goes into the cookie and nowhere else."""
        return self._store.keep(receipt_code.encode(), expires_at=datetime.now(UTC) + LONGEST)

    def find(self, secret: str | None) -> ReceiptSession | None:
        """The live session of the cookie's secret; an idle or old one is ended instead."""
        found = self._store.find(secret)
        return None if found is None else ReceiptSession(found.value.decode(), found.csrf)

    def close(self, secret: str) -> None:
        self._store.drop(secret)


def new_csrf() -> str:
    """A double-submit token for the look-up form (before any session exists)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
