"""Envelope encryption: random data keys kept in a key-value bucket, wrapped by master keys.

Each data key is a random AES-256 key, stored in a JetStream key-value bucket wrapped
(AES-GCM) by its subsidiary's master key, which comes from settings and never enters
NATS. Erasing a data key (crypto-shredding) makes everything sealed with it unreadable,
while the events that carry the ciphertext, and so every replay, stay intact. Reporters'
identities (``hazardloop.privacy.identity``) and reports' free text (``hazardloop.privacy.sealing``)
each keep their own bucket of such keys.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BucketNotFoundError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
)
from nats.js.kv import KeyValue

from hazardloop.log.eventstore import broker_errors
from hazardloop.privacy.keyring import KeyUnavailable

NONCE_BYTES = 12


class WrongMasterKey(KeyUnavailable):
    """A stored data key does not unwrap: none of the subsidiary's master keys is the one it was wrapped with."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def one_value_bucket(js: JetStreamContext, name: str, *, description: str, replicas: int, create: bool = True) -> KeyValue | None:
    """The key-value bucket ``name``, created if missing (with ``create``; else None). One
    value per key, no history: what is erased from it leaves no earlier version behind."""
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        if not create:
            return None
        return await js.create_key_value(
            KeyValueConfig(bucket=name, history=1, storage=StorageType.FILE, replicas=replicas, description=description)
        )


class KeyVault:
    """Data keys named ``<tenant>.<key id>`` in one bucket, wrapped by the tenant's master key.

    ``purpose`` goes into the wrapping's associated data, so a key of one vault can never
    be passed off as a key of another.
    """

    def __init__(
        self,
        js: JetStreamContext,
        master_keys: Callable[[str], list[bytes]],
        *,
        bucket: str,
        purpose: str,
        description: str,
        replicas: int = 1,
    ) -> None:
        """``js`` carries the timeout after which the key store counts as unavailable;
        ``master_keys`` gives a subsidiary's master keys, newest first: new data keys are
        wrapped by the newest, old ones unwrap with whichever listed key wrapped them."""
        self._js = js
        self._master_keys = master_keys
        self._bucket_name = bucket
        self._purpose = purpose
        self._description = description
        self._replicas = replicas
        self._kv: KeyValue | None = None

    async def ensure(self, *, create: bool = True) -> None:
        """Bind the key bucket, creating it if missing (one value per key: shredding leaves
        no history). ``create=False`` (a service that only reads) binds it on first use
        instead when it does not exist yet."""
        async with broker_errors():
            self._kv = await one_value_bucket(
                self._js, self._bucket_name, description=self._description, replicas=self._replicas, create=create
            )

    async def data_key(self, tenant: str, key_id: str, *, create: bool, new: bool = False) -> bytes | None:
        """The data key in clear; with ``create``, a new one if there is none (yet, or any more).

        ``new`` (with ``create``): the key does not exist yet as a rule (a report being filed),
        so it is created without a look first, one round trip to the broker instead of two;
        only when one is there after all (a retried filing) is it read.
        """
        name = self._name(tenant, key_id)
        master_keys = self._master_keys(tenant)
        async with broker_errors():
            kv = await self._bucket()
            if kv is None:
                if create:
                    raise RuntimeError(f"{type(self).__name__}.ensure() was not awaited")
                return None  # nothing was ever sealed here
            if create and new and (made := await self._create(kv, name, master_keys[0], tenant, key_id)) is not None:
                return made
            try:
                wrapped = (await kv.get(name)).value
            except (KeyNotFoundError, KeyDeletedError):
                if not create:
                    return None
                if (made := await self._create(kv, name, master_keys[0], tenant, key_id)) is not None:
                    return made
                wrapped = (await kv.get(name)).value  # another process created it first: use theirs
        return self._unwrap(master_keys, wrapped, tenant, key_id)[0]

    async def _create(self, kv: KeyValue, name: str, master_key: bytes, tenant: str, key_id: str) -> bytes | None:
        """A new data key, stored wrapped under ``name`` if no key is stored there; None if one is."""
        data_key = AESGCM.generate_key(bit_length=256)
        try:
            await kv.create(name, self._wrap(master_key, data_key, tenant, key_id))
        except KeyWrongLastSequenceError:
            return None
        return data_key

    async def shred(self, tenant: str, key_id: str) -> None:
        """Erase a data key, with its history; idempotent."""
        async with broker_errors():
            kv = await self._bucket()
            if kv is not None:
                await kv.purge(self._name(tenant, key_id))

    async def rewrap(self, tenant: str) -> int:
        """Wrap every data key of ``tenant`` by its newest master key, so that older ones can
        leave the key ring; how many were re-wrapped. Safe to repeat or interrupt."""
        master_keys, count = self._master_keys(tenant), 0
        async with broker_errors():
            kv = await self._bucket()
            if kv is None:
                return 0
            try:
                names = [name for name in await kv.keys() if name.startswith(f"{tenant}.")]
            except NoKeysError:
                return 0
            for name in names:
                key_id = name.removeprefix(f"{tenant}.")
                try:
                    entry = await kv.get(name)
                except (KeyNotFoundError, KeyDeletedError):
                    continue  # erased meanwhile
                data_key, newest = self._unwrap(master_keys, entry.value, tenant, key_id)
                if newest:
                    continue
                try:
                    await kv.update(name, self._wrap(master_keys[0], data_key, tenant, key_id), last=entry.revision)
                except KeyWrongLastSequenceError:
                    continue  # erased meanwhile: nothing left to keep
                count += 1
        return count

    def _context(self, tenant: str, key_id: str) -> bytes:
        return f"{self._purpose}\x1f{tenant}\x1f{key_id}".encode()

    def _wrap(self, master_key: bytes, data_key: bytes, tenant: str, key_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(master_key).encrypt(nonce, data_key, self._context(tenant, key_id))

    def _unwrap(self, master_keys: list[bytes], wrapped: bytes, tenant: str, key_id: str) -> tuple[bytes, bool]:
        """(data key, whether the newest master key wrapped it), trying each master key in turn."""
        for index, master_key in enumerate(master_keys):
            try:
                data_key = AESGCM(master_key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._context(tenant, key_id))
            except InvalidTag:
                continue
            return data_key, index == 0
        raise WrongMasterKey(f"no master key configured for {tenant!r} unwraps the data key of {key_id}")

    async def _bucket(self) -> KeyValue | None:
        """The bound bucket; None while a reader's bucket does not exist yet (nothing sealed)."""
        if self._kv is None:
            try:
                self._kv = await self._js.key_value(self._bucket_name)
            except BucketNotFoundError:
                return None
        return self._kv

    @staticmethod
    def _name(tenant: str, key_id: str) -> str:
        return f"{tenant}.{key_id}"
