"""Reporter identities: sealed before they enter the log, opened only on purpose, erasable.

Envelope encryption (``hazardloop.privacy.keyvault``): each reporter has a random data key,
wrapped by their subsidiary's master key. An identity is sealed with the reporter's data
key and bound to its report by associated data. Erasing the data key (crypto-shredding)
makes every identity sealed with it unreadable, while the events themselves, and so
every replay, stay intact.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Annotated

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from pydantic import BaseModel, ConfigDict, StringConstraints

from hazardloop.events import SealedIdentity
from hazardloop.privacy.keyvault import NONCE_BYTES, KeyVault, WrongMasterKey
from hazardloop.privacy.keyvault import b64 as _b64
from hazardloop.privacy.keyvault import unb64 as _unb64

__all__ = ["Identity", "IdentityErased", "IdentityVault", "WrongMasterKey"]

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
EmployeeNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 -]{5,20}$")]


class Identity(BaseModel):
    """Who reported: personal data, never stored or logged in clear."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee_number: EmployeeNumber
    name: PersonName | None = None
    phone: Phone | None = None


class IdentityErased(Exception):
    """The reporter's data key was shredded: the identity can no longer be read."""


def _context(tenant: str, report_id: str) -> bytes:
    return f"hazardloop identity\x1f{tenant}\x1f{report_id}".encode()


class IdentityVault(KeyVault):
    """Seals and opens identities with per-reporter data keys kept in NATS KV."""

    def __init__(
        self, js: JetStreamContext, master_keys: Callable[[str], list[bytes]], *, bucket: str, replicas: int = 1
    ) -> None:
        super().__init__(
            js, master_keys, bucket=bucket, replicas=replicas, purpose="hazardloop data key",
            description="Reporters' data keys, wrapped by each subsidiary's master key",
        )

    async def seal(self, tenant: str, reporter: str, report_id: str, identity: Identity) -> SealedIdentity:
        data_key = await self.data_key(tenant, reporter, create=True)
        nonce = os.urandom(NONCE_BYTES)
        plaintext = identity.model_dump_json(exclude_none=True).encode()
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _context(tenant, report_id))
        return SealedIdentity(key_id=reporter, nonce=_b64(nonce), ciphertext=_b64(ciphertext))

    async def open(self, tenant: str, report_id: str, sealed: SealedIdentity) -> Identity:
        """The identity in clear; ``IdentityErased`` once the reporter's key is gone."""
        data_key = await self.data_key(tenant, sealed.key_id, create=False)
        if data_key is None:
            raise IdentityErased(f"the data key of {sealed.key_id} was erased")
        try:
            plaintext = AESGCM(data_key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), _context(tenant, report_id))
        except InvalidTag as exc:  # sealed under a key that was shredded and later replaced
            raise IdentityErased(f"the data key that sealed this identity of {sealed.key_id} was erased") from exc
        return Identity.model_validate_json(plaintext)
