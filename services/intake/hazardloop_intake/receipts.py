"""Receipt codes: how an anonymous reporter follows their report and later claims its reward.

A code is derived from the report id with a server key (HMAC), so a client that retries
a filing with the same Idempotency-Key gets the same code back, yet nobody can guess
one. Only its sha256 is recorded; the code itself is shown to the reporter alone. After
a rotation of the key, new reports get codes of the newest version, and a retried filing
still gets back the code its record holds (every version is tried against the digest).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from hazardloop.receipts import receipt_digest

GROUPS = 5
GROUP_LENGTH = 5
"""25 base32 characters: 125 bits, grouped for reading aloud or writing down."""


class ReceiptCodes:
    def __init__(self, keys: bytes | Sequence[bytes]) -> None:
        self._keys = [keys] if isinstance(keys, bytes) else list(keys)

    def code_for(self, tenant: str, report_id: str, *, recorded_digest: str | None = None) -> str:
        """The newest version's code, or the one whose digest the report's record holds."""
        codes = [self._code(key, tenant, report_id) for key in self._keys]
        return next((code for code in codes if receipt_digest(code) == recorded_digest), codes[0])

    @staticmethod
    def _code(key: bytes, tenant: str, report_id: str) -> str:
        mac = hmac.new(key, f"receipt\x1f{tenant}\x1f{report_id}".encode(), hashlib.sha256).digest()
        letters = base64.b32encode(mac).decode()[: GROUPS * GROUP_LENGTH]
        return "-".join(letters[i : i + GROUP_LENGTH] for i in range(0, len(letters), GROUP_LENGTH))
