"""A report form kept while its reporter signs in, so nothing typed is lost on the way.

The draft holds personal free text, so it is kept sealed under the reporter's browser's
secret (``browser_sealed``): intake's store alone reveals nothing. A draft nobody comes
back for is gone after ``TTL``. Never in a URL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from hazardloop_intake.browser_sealed import BrowserStore, browser_table
from hazardloop_intake.store import kept

DRAFT_COOKIE = "hl_draft"
TTL = timedelta(minutes=20)
"""Time a reporter has to sign in and come back to the form."""

drafts = browser_table("intake_form_drafts", kept, holds="the form as typed: text, choices, photos' digests")


class Drafts:
    def __init__(self, engine: Engine) -> None:
        self._store = BrowserStore(engine, drafts, "form draft")

    def keep(self, draft: dict[str, Any]) -> str:
        """Store the draft; the value returned goes into the reporter's cookie, and only there."""
        return self._store.keep(json.dumps(draft).encode(), expires_at=datetime.now(UTC) + TTL)

    def open(self, secret: str | None) -> dict[str, Any] | None:
        """The draft of this cookie's value, while it is kept."""
        found = self._store.find(secret)
        return None if found is None else json.loads(found.value)

    def drop(self, secret: str | None) -> None:
        self._store.drop(secret)
