"""QR-code links to the report form: each carries a signature, so only printed codes open a form.

The form needs no login (a phone, a contractor, a visitor), so the link itself is the
credential: an HMAC over the subsidiary and place. A guessed or edited link is refused.
New links are signed with the newest form key; a printed link signed with any listed
version still opens its form, until that version is dropped from the key ring.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from collections.abc import Sequence
from urllib.parse import quote

import segno


class FormLinks:
    def __init__(self, keys: bytes | Sequence[bytes], public_url: str) -> None:
        self._keys = [keys] if isinstance(keys, bytes) else list(keys)
        self._public_url = public_url.rstrip("/")

    def signature(self, tenant: str, place_id: str, *, key: bytes | None = None) -> str:
        message = f"form\x1f{tenant}\x1f{place_id}".encode()
        mac = hmac.new(key or self._keys[0], message, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def is_valid(self, tenant: str, place_id: str, signature: str | None) -> bool:
        if signature is None:
            return False
        given = signature.encode()  # compared as bytes: an edited link with any character is just wrong
        return any(hmac.compare_digest(self.signature(tenant, place_id, key=key).encode(), given) for key in self._keys)

    def url_for(self, tenant: str, place_id: str) -> str:
        return f"{self._public_url}/f/{quote(tenant)}/{quote(place_id)}?k={self.signature(tenant, place_id)}"


def qr_code(url: str, kind: str) -> tuple[bytes, str]:
    """The link as a printable QR code: PNG (for labels) or SVG (for posters)."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=8, border=4, xmldecl=True)
        return out.getvalue(), "image/svg+xml"
    code.save(out, kind="png", scale=10, border=4)
    return out.getvalue(), "image/png"
