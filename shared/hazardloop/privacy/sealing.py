"""Free text sealed under per-report keys: producers seal, consumers open, keys can be destroyed.

Why a key per report (not per reporter): retention runs per closed report, so each
report's text must be destroyable alone; an anonymous report has no reporter to key
by; and erasing a reporter destroys the text keys of the reports they filed (see
docs/sealed-text.md). The keys are data keys of a ``KeyVault`` (wrapped by the
subsidiary's master key, in the ``text-keys`` bucket).

Producers decide inside ``TextVault.sealing(tenant, report_id)``: every sealed field of
an event made there is sealed as it is made. Projections never store text in clear:
they keep ``text_token`` (the sealed text as one string) and, on ``ReportTextShredded``,
replace it by ``ERASED``. Pages and APIs ``reveal`` what they show just before showing
it: one key look-up per report, cached (bounded), however many texts the report has.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from pydantic import BaseModel

from hazardloop.events import SEALING, Event, SealedText
from hazardloop.privacy.keyvault import NONCE_BYTES, KeyVault, b64, unb64

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Event)

ERASED = "sealed:erased"
"""What a projection keeps of a text once its report's text key was destroyed."""
_TOKEN = re.compile(r"^sealed:v1:([a-z0-9][a-z0-9_-]{0,62}):([a-z0-9][a-z0-9_-]{0,62}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22,24000})$")
ERASED_API = "(erased)"
"""What an API answers for an erased text (pages show their own language's label)."""
_SCALARS = (type(None), bool, int, float, Decimal, date, time, timedelta, Enum)
"""Values that hold no text, passed over at once: most of a row's columns. Asking whether
one is a dataclass costs a failed attribute look-up, which made that question most of the
time a page of a hundred cases spent opening its texts."""


def _context(tenant: str, key_id: str) -> bytes:
    return f"hazardloop text\x1f{tenant}\x1f{key_id}".encode()


def text_token(tenant: str, value: SealedText | str | None) -> str | None:
    """What a projection stores of a text field: a sealed text as one string (never the
    text in clear); text from before sealing as it is."""
    if isinstance(value, SealedText):
        return f"sealed:v1:{tenant}:{value.key_id}:{value.nonce}:{value.ciphertext}"
    return value


def withheld(value: str | None, placeholder: str) -> str | None:
    """A stored text as a reader without the keys sees it: ``placeholder`` if it is sealed."""
    if value is not None and (value == ERASED or _TOKEN.match(value)):
        return placeholder
    return value


def forget(value: Any, report_id: str) -> Any:
    """``value`` (a stored text or JSON of texts) with every text sealed under
    ``report_id``'s key replaced by ``ERASED``."""
    if isinstance(value, str):
        match = _TOKEN.match(value)
        return ERASED if match and match[2] == report_id else value
    if isinstance(value, dict):
        return {k: forget(v, report_id) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [forget(v, report_id) for v in value]
    return value


def as_tokens(tenant: str, value: Any) -> Any:
    """``value`` (an event as JSON, say) with every sealed text in it turned into its
    ``text_token``, ready to ``reveal``."""
    if isinstance(value, dict):
        if value.get("scheme") == "aes-256-gcm" and value.keys() == {"scheme", "key_id", "nonce", "ciphertext"}:
            return text_token(tenant, SealedText.model_validate(value))
        return {k: as_tokens(tenant, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_tokens(tenant, v) for v in value]
    return value


class TextVault(KeyVault):
    """Seals and opens reports' free text; keeps recently used keys in memory (bounded)."""

    def __init__(
        self, js: JetStreamContext, master_keys: Callable[[str], list[bytes]], *, bucket: str, replicas: int = 1,
        cached_keys: int = 4096,
    ) -> None:
        super().__init__(
            js, master_keys, bucket=bucket, replicas=replicas, purpose="hazardloop text key",
            description="Reports' text keys, wrapped by each subsidiary's master key",
        )
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cached_keys = cached_keys

    @contextlib.asynccontextmanager
    async def sealing(self, tenant: str, report_id: str, *, new_report: bool = False) -> AsyncIterator[None]:
        """Events made inside seal their text under the report's key (made if missing).

        ``new_report``: the report is being filed, so its key is as a rule not made yet and
        is created without a look first (``KeyVault.data_key``'s ``new``).
        """
        data_key = await self._key(tenant, report_id, create=True, new=new_report)
        aead = AESGCM(data_key)

        def seal(text: str) -> SealedText:
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = aead.encrypt(nonce, text.encode(), _context(tenant, report_id))
            return SealedText(key_id=report_id, nonce=b64(nonce), ciphertext=b64(ciphertext))

        token = SEALING.set(seal)
        try:
            yield
        finally:
            SEALING.reset(token)

    async def open(self, tenant: str, value: SealedText | str | None, *, erased: str = ERASED_API) -> str | None:
        """The text in clear; ``erased`` when its report's text key was destroyed."""
        if not isinstance(value, SealedText):
            return value
        return (await self.reveal(text_token(tenant, value), erased=erased))

    async def reveal(self, value: Any, *, erased: str = ERASED_API) -> Any:
        """``value`` (a stored text, or dicts, lists and tuples of them, such as rows) with
        every sealed text opened; ``erased`` for those whose key was destroyed. Each
        report's key is looked up once, all of them at the same time."""
        found: dict[tuple[str, str], bytes | None] = {}
        _collect(value, found)
        for ref in found:
            found[ref] = self._cache.get(ref)
        missing = [ref for ref, key in found.items() if key is None]
        keys = await asyncio.gather(*(self._key(tenant, key_id, create=False) for tenant, key_id in missing))
        found.update(zip(missing, keys, strict=True))  # held here: the cache may already have let some go
        return _opened(value, found, erased)

    async def open_events(self, tenant: str, events: list[E], *, erased: str = ERASED_API) -> list[E]:
        """Copies of ``events`` with their sealed fields in clear, for a document that shows
        them (their hashes, over the ciphertext, are checked before)."""
        sealed = [{k: text_token(tenant, v) for k, v in vars(e).items() if isinstance(v, SealedText)} for e in events]
        opened = await self.reveal(sealed, erased=erased)
        return [e.model_copy(update=texts) if texts else e for e, texts in zip(events, opened, strict=True)]

    async def reveal_model(self, model: M, *, erased: str = ERASED_API) -> M:
        """A copy of an API's answer with its sealed texts opened."""
        return type(model).model_validate(await self.reveal(model.model_dump(), erased=erased))

    async def shred(self, tenant: str, key_id: str) -> None:
        self._cache.pop((tenant, key_id), None)
        await super().shred(tenant, key_id)

    async def _key(self, tenant: str, key_id: str, *, create: bool, new: bool = False) -> bytes | None:
        ref = (tenant, key_id)
        if (cached := self._cache.get(ref)) is not None:
            self._cache.move_to_end(ref)
            return cached
        data_key = await self.data_key(tenant, key_id, create=create, new=new)
        if data_key is not None:  # a destroyed key is not remembered: a later text may bring a new one
            self._cache[ref] = data_key
            if len(self._cache) > self._cached_keys:
                self._cache.popitem(last=False)
        return data_key


def holds_sealed(value: Any) -> bool:
    """Whether ``value`` holds any sealed or erased text (a page without any needs no keys)."""
    found: dict[tuple[str, str], bytes | None] = {}
    _collect(value, found)
    return bool(found) or _holds_erased(value)


def _holds_erased(value: Any) -> bool:
    if isinstance(value, str):
        return value == ERASED
    return any(_holds_erased(v) for v in _parts(value))


def _collect(value: Any, found: dict[tuple[str, str], bytes | None]) -> None:
    if isinstance(value, str):
        if value.startswith("sealed:v1:") and (match := _TOKEN.match(value)):
            found[(match[1], match[2])] = None
        return
    for item in _parts(value):  # leaves inline: a call per container or token, not per column
        if isinstance(item, str):
            if item.startswith("sealed:v1:") and (match := _TOKEN.match(item)):
                found[(match[1], match[2])] = None
        elif not isinstance(item, _SCALARS):
            _collect(item, found)


def _parts(value: Any) -> list[Any]:
    """What a container that may hold stored texts holds: a dict's values, a list's or tuple's
    items, a dataclass's fields (a page's paged rows, say)."""
    if isinstance(value, _SCALARS):
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    return []


def _opened(value: Any, keys: dict[tuple[str, str], bytes | None], erased: str) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, str):
        if value == ERASED:
            return erased
        if not value.startswith("sealed:v1:") or not (match := _TOKEN.match(value)):
            return value
        tenant, key_id, nonce, ciphertext = match.groups()
        data_key = keys.get((tenant, key_id))
        if data_key is None:
            return erased
        try:
            return AESGCM(data_key).decrypt(unb64(nonce), unb64(ciphertext), _context(tenant, key_id)).decode()
        except InvalidTag:  # sealed under a key that was destroyed and later made anew
            return erased
    if isinstance(value, dict):  # a row: its plain columns kept inline, as above
        return {
            k: v if isinstance(v, _SCALARS) or (isinstance(v, str) and not v.startswith("sealed:")) else _opened(v, keys, erased)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_opened(v, keys, erased) for v in value]
    if isinstance(value, tuple):
        return tuple(_opened(v, keys, erased) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and holds_sealed(value):
        fields = {f.name: _opened(getattr(value, f.name), keys, erased) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **fields)  # only one that holds sealed text is copied
    return value
