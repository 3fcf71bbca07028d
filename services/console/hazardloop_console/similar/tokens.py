"""Descriptions as a blind index: their words, kept only as keyed digests.

A description is normalised (NFKC, so full-width ``Ｐ－１０１`` is ``P-101``; then
case-folded) and cut into tokens: each run of Chinese characters into its overlapping
character bigrams (``机械密封`` is ``机械 械密 密封``; a lone character is its own
token), each run of letters and digits into a word (a tag such as ``P-101`` is one word,
also kept without its separators, so ``P101`` finds it). Chinese is written without
spaces, and bigrams find the same words however a sentence around them is segmented,
with no dictionary to ship or keep current.

Only ``digest(key, token)`` is ever stored: an HMAC-SHA-256 under the subsidiary's index
key, cut to 64 bits. Without the key a digest names no word; with another subsidiary's
key the same word has another digest, so the index of one says nothing about another's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+(?:[-_./][^\W_{_HAN}]+)*)")
_SEPARATORS = re.compile(r"[-_./]")
DIGEST_CHARS = 16
"""64 bits in hex: no two of a subsidiary's few hundred thousand distinct tokens collide in practice."""


def normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str | None) -> list[str]:
    """The distinct tokens of ``text``, in the order they first appear."""
    found: dict[str, None] = {}
    for han, word in _RUNS.findall(normalised(text or "")):
        if han:
            found.update(dict.fromkeys([han] if len(han) == 1 else [han[i:i + 2] for i in range(len(han) - 1)]))
        else:
            found[word] = None
            found[_SEPARATORS.sub("", word)] = None
    return list(found)


def index_key(secret: bytes, tenant: str) -> bytes:
    """The subsidiary's index key, derived from the service's pseudonym key: that key is held
    for good (never rotated), as an index's digests must stay comparable for good."""
    info = f"hazardloop blind index\x1f{tenant}".encode()
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(secret)


def digest(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()[:DIGEST_CHARS]
