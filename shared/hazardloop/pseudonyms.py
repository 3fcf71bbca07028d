"""Stable pseudonyms for reporters: what the log, auditors and analytics see instead of a name."""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymizer:
    """Keyed HMAC: stable per person and subsidiary, not reversible without the key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, tenant: str, subject: str) -> str:
        digest = hmac.new(self._key, f"{tenant}\x1f{subject}".encode(), hashlib.sha256).hexdigest()
        return f"p-{digest[:32]}"
