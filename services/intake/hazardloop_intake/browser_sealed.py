"""What intake keeps on the server for one browser, sealed under that browser's own secret.

A form kept while its reporter signs in, a signed-in reporter's session (name and tokens)
and an anonymous reporter's receipt code are personal data or credentials, and they must
not travel in URLs or pages. The browser's cookie holds a random secret and nothing else;
the store keeps a hash of it to find the row and the value encrypted (AES-256-GCM) under
a key derived from it, so a copy of intake's store alone opens nothing. Each use names
its purpose, so a secret of one kind opens nothing of another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
LONGEST_SECRET = 100
"""A cookie longer than any secret we hand out is not looked up at all."""


def new_secret() -> str:
    """256 random bits for the cookie, and for the cookie only."""
    return secrets.token_urlsafe(32)


def _derive(secret: str, purpose: str, use: str) -> bytes:
    return hmac.new(secret.encode(), f"hazardloop browser\x1f{purpose}\x1f{use}".encode(), hashlib.sha256).digest()


def row_key(secret: str, purpose: str) -> str:
    """The store's key for the browser's row: it does not open the value."""
    return _derive(secret, purpose, "row").hex()


def seal(secret: str, purpose: str, value: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(_derive(secret, purpose, "key")).encrypt(nonce, value, purpose.encode())


def unseal(secret: str, purpose: str, sealed: bytes) -> bytes | None:
    """The value, or None if this secret did not seal it."""
    try:
        return AESGCM(_derive(secret, purpose, "key")).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], purpose.encode())
    except InvalidTag:
        return None


def plausible(secret: str | None) -> bool:
    """Whether a cookie's value is worth looking up."""
    return bool(secret) and len(secret) <= LONGEST_SECRET
