"""Receipt codes: how an anonymous reporter follows their report and later claims its reward.

A code is derived from the filing's Idempotency-Key together with a server key (HMAC):
a client that retries the filing with the same key gets the same code back, yet the
code cannot be computed from anything the services keep. The Idempotency-Key is never
stored (the report id is a one-way uuid5 of it), and the server key alone is not enough:
whoever holds every key and reads the whole log still cannot recompute a reporter's code.

Only the code's sha256 is recorded. A slow hash buys nothing here: it protects secrets
people choose, which are few enough to try one by one; a code carries 125 random bits
(from a 128-bit random Idempotency-Key, which intake creates when a client sends none),
far beyond any search, fast hash or slow.

After a rotation of the server key, new reports get codes of the newest version, and a
retried filing still gets back the code its record holds (every version is tried).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from hazardloop.privacy.receipts import receipt_digest

GROUPS = 5
GROUP_LENGTH = 5
"""25 base32 characters: 125 bits, grouped for reading aloud or writing down."""


class ReceiptCodes:
    def __init__(self, keys: bytes | Sequence[bytes]) -> None:
        self._keys = [keys] if isinstance(keys, bytes) else list(keys)

    def code_for(self, tenant: str, report_id: str, idempotency_key: str, *, recorded_digest: str | None = None) -> str:
        """The newest version's code, or the one whose digest the report's record holds."""
        codes = [self._code(key, tenant, report_id, idempotency_key) for key in self._keys]
        return next((code for code in codes if receipt_digest(code) == recorded_digest), codes[0])

    @staticmethod
    def _code(key: bytes, tenant: str, report_id: str, idempotency_key: str) -> str:
        message = f"receipt\x1f{tenant}\x1f{report_id}\x1f{idempotency_key}".encode()
        letters = base64.b32encode(hmac.new(key, message, hashlib.sha256).digest()).decode()[: GROUPS * GROUP_LENGTH]
        return "-".join(letters[i : i + GROUP_LENGTH] for i in range(0, len(letters), GROUP_LENGTH))
