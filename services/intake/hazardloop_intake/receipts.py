"""Receipt codes: how an anonymous reporter follows their report and later claims its reward.

A code is derived from the report id with a server key (HMAC), so a client that retries
a filing with the same Idempotency-Key gets the same code back, yet nobody can guess
one. Only its sha256 is recorded; the code itself is shown to the reporter alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

GROUPS = 5
GROUP_LENGTH = 5
"""25 base32 characters: 125 bits, grouped for reading aloud or writing down."""


class ReceiptCodes:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def code_for(self, tenant: str, report_id: str) -> str:
        mac = hmac.new(self._key, f"receipt\x1f{tenant}\x1f{report_id}".encode(), hashlib.sha256).digest()
        letters = base64.b32encode(mac).decode()[: GROUPS * GROUP_LENGTH]
        return "-".join(letters[i : i + GROUP_LENGTH] for i in range(0, len(letters), GROUP_LENGTH))

