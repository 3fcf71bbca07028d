"""Reporter identities: sealed before they enter the log, opened only on purpose, erasable.

Envelope encryption. Each reporter has a random AES-256 data key, kept in a JetStream
key-value bucket wrapped (AES-GCM) by their subsidiary's master key, which comes from
settings and never enters NATS. An identity is sealed with the reporter's data key and
bound to its report by associated data. Erasing the data key (crypto-shredding) makes
every identity sealed with it unreadable, while the events themselves, and so every
replay, stay intact.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Annotated

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ConfigDict, StringConstraints

from hazardloop.eventstore import broker_errors
from hazardloop.events import SealedIdentity
from hazardloop.keyring import KeyUnavailable

NONCE_BYTES = 12

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


class WrongMasterKey(KeyUnavailable):
    """A stored data key does not unwrap: none of the subsidiary's master keys is the one it was wrapped with."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _context(tenant: str, report_id: str) -> bytes:
    return f"hazardloop identity\x1f{tenant}\x1f{report_id}".encode()


def _wrapping_context(tenant: str, reporter: str) -> bytes:
    return f"hazardloop data key\x1f{tenant}\x1f{reporter}".encode()


def _wrap(master_key: bytes, data_key: bytes, tenant: str, reporter: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master_key).encrypt(nonce, data_key, _wrapping_context(tenant, reporter))


def _unwrap(master_keys: list[bytes], wrapped: bytes, tenant: str, reporter: str) -> tuple[bytes, bool]:
    """(data key, whether the newest master key wrapped it), trying each master key in turn."""
    for index, master_key in enumerate(master_keys):
        try:
            data_key = AESGCM(master_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrapping_context(tenant, reporter))
        except InvalidTag:
            continue
        return data_key, index == 0
    raise WrongMasterKey(f"no master key configured for {tenant!r} unwraps the data key of {reporter}")


class IdentityVault:
    """Seals and opens identities with per-reporter data keys kept in NATS KV."""

    def __init__(
        self, js: JetStreamContext, master_keys: Callable[[str], list[bytes]], *, bucket: str, replicas: int = 1
    ) -> None:
        """``js`` carries the timeout after which the key store counts as unavailable;
        ``master_keys`` gives a subsidiary's master keys, newest first: new data keys are
        wrapped by the newest, old ones unwrap with whichever listed key wrapped them."""
        self._js = js
        self._master_keys = master_keys
        self._bucket_name = bucket
        self._replicas = replicas
        self._kv: KeyValue | None = None

    async def ensure(self) -> None:
        """Create the key bucket if missing (one value per key: shredding leaves no history)."""
        async with broker_errors():
            try:
                self._kv = await self._js.key_value(self._bucket_name)
            except BucketNotFoundError:
                self._kv = await self._js.create_key_value(
                    KeyValueConfig(
                        bucket=self._bucket_name,
                        history=1,
                        storage=StorageType.FILE,
                        replicas=self._replicas,
                        description="Reporters' data keys, wrapped by each subsidiary's master key",
                    )
                )

    async def seal(self, tenant: str, reporter: str, report_id: str, identity: Identity) -> SealedIdentity:
        data_key = await self._data_key(tenant, reporter, create=True)
        nonce = os.urandom(NONCE_BYTES)
        plaintext = identity.model_dump_json(exclude_none=True).encode()
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _context(tenant, report_id))
        return SealedIdentity(key_id=reporter, nonce=_b64(nonce), ciphertext=_b64(ciphertext))

    async def open(self, tenant: str, report_id: str, sealed: SealedIdentity) -> Identity:
        """The identity in clear; ``IdentityErased`` once the reporter's key is gone."""
        data_key = await self._data_key(tenant, sealed.key_id, create=False)
        if data_key is None:
            raise IdentityErased(f"the data key of {sealed.key_id} was erased")
        try:
            plaintext = AESGCM(data_key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), _context(tenant, report_id))
        except InvalidTag as exc:  # sealed under a key that was shredded and later replaced
            raise IdentityErased(f"the data key that sealed this identity of {sealed.key_id} was erased") from exc
        return Identity.model_validate_json(plaintext)

    async def shred(self, tenant: str, reporter: str) -> None:
        """Erase the reporter's data key, with its history; idempotent."""
        async with broker_errors():
            await self._bucket().purge(self._name(tenant, reporter))

    async def rewrap(self, tenant: str) -> int:
        """Wrap every data key of ``tenant`` by its newest master key, so that older ones can
        leave the key ring; how many were re-wrapped. Safe to repeat or interrupt."""
        master_keys, count = self._master_keys(tenant), 0
        async with broker_errors():
            kv = self._bucket()
            try:
                names = [name for name in await kv.keys() if name.startswith(f"{tenant}.")]
            except NoKeysError:
                return 0
            for name in names:
                reporter = name.removeprefix(f"{tenant}.")
                try:
                    entry = await kv.get(name)
                except (KeyNotFoundError, KeyDeletedError):
                    continue  # erased meanwhile
                data_key, newest = _unwrap(master_keys, entry.value, tenant, reporter)
                if newest:
                    continue
                try:
                    await kv.update(name, _wrap(master_keys[0], data_key, tenant, reporter), last=entry.revision)
                except KeyWrongLastSequenceError:
                    continue  # erased meanwhile: nothing left to keep
                count += 1
        return count

    async def _data_key(self, tenant: str, reporter: str, *, create: bool) -> bytes | None:
        name = self._name(tenant, reporter)
        master_keys = self._master_keys(tenant)
        async with broker_errors():
            kv = self._bucket()
            try:
                wrapped = (await kv.get(name)).value
            except (KeyNotFoundError, KeyDeletedError):
                if not create:
                    return None
                data_key = AESGCM.generate_key(bit_length=256)
                try:
                    await kv.create(name, _wrap(master_keys[0], data_key, tenant, reporter))
                    return data_key
                except KeyWrongLastSequenceError:  # another process created it first: use theirs
                    wrapped = (await kv.get(name)).value
        return _unwrap(master_keys, wrapped, tenant, reporter)[0]

    def _bucket(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("IdentityVault.ensure() was not awaited")
        return self._kv

    @staticmethod
    def _name(tenant: str, reporter: str) -> str:
        return f"{tenant}.{reporter}"
