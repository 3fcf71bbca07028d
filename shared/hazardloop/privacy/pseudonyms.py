"""Reporters' pseudonyms: random, and linked to a person only in an erasable directory.

A pseudonym is what the log, auditors and analytics see instead of a person. It is
random, so nothing computes it from who the person is: the one link from a person to
their pseudonym is their entry in a JetStream key-value bucket (one value per key, no
history), read by every service that must find "this person's reports". Erasure removes
the entry without leaving a marker, after which no key any service holds links the
pseudonym back to anyone.

The entry is found by a *blind index*, a keyed HMAC of subsidiary and person: a lookup
key only, never stored in an event. A second entry, keyed by the pseudonym, holds the
blind index, so that erasing a pseudonym finds its person's entry without a scan.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Iterable

from nats.js import JetStreamContext
from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from hazardloop.log.eventstore import broker_errors
from hazardloop.privacy.keyvault import one_value_bucket


def random_pseudonym() -> str:
    """A fresh pseudonym: 128 random bits, in the shape the events' ``Pseudonym`` takes."""
    return f"p-{secrets.token_hex(16)}"


class PseudonymDirectory:
    """Person -> pseudonym, created on a person's first named report, erasable."""

    def __init__(self, js: JetStreamContext, blind_key: bytes, *, bucket: str, replicas: int = 1) -> None:
        """``js`` carries the timeout after which the directory counts as unavailable;
        ``blind_key`` is the pseudonym key of the key ring, used for lookup keys only."""
        self._js = js
        self._blind_key = blind_key
        self._bucket_name = bucket
        self._replicas = replicas
        self._kv: KeyValue | None = None

    async def ensure(self) -> None:
        """Open the bucket, creating it if missing (every service may be the first to start)."""
        async with broker_errors():
            self._kv = await one_value_bucket(
                self._js, self._bucket_name, replicas=self._replicas,
                description="Reporters' pseudonyms by person: the only link from a person to a pseudonym",
            )

    def blind_index(self, tenant: str, subject: str) -> str:
        """The lookup key of a person in a subsidiary."""
        return hmac.new(self._blind_key, f"directory\x1f{tenant}\x1f{subject}".encode(), hashlib.sha256).hexdigest()[:40]

    async def find(self, tenant: str, subject: str) -> str | None:
        """The person's pseudonym in ``tenant``, None if they have none (never reported by
        name there, or erased)."""
        return await self._get(self._person_entry(tenant, self.blind_index(tenant, subject)))

    async def find_all(self, tenants: list[str], subject: str) -> list[str]:
        """The person's pseudonyms in each of ``tenants`` where they have one, read at once."""
        found = await asyncio.gather(*(self.find(tenant, subject) for tenant in tenants))
        return [pseudonym for pseudonym in found if pseudonym is not None]

    async def holder(self, tenant: str, pseudonym: str, people: Iterable[str]) -> str | None:
        """Which of ``people`` holds ``pseudonym`` in ``tenant`` (None: none of them, or it
        was erased). One read, the pseudonym's own entry (its person's blind index), then
        each candidate's blind index computed and compared: a person is found only among
        people the caller already names, never listed."""
        blind = await self._get(self._pseudonym_entry(tenant, pseudonym))
        if blind is None:
            return None
        return next((person for person in people if hmac.compare_digest(self.blind_index(tenant, person), blind)), None)

    async def assign(self, tenant: str, subject: str) -> str:
        """The person's pseudonym, created at random on first use.

        Race-safe: the entry is created only if absent, and a process that loses the race
        takes the winner's. The pseudonym's own entry is written first, so that every
        person's entry can be erased from its pseudonym.
        """
        blind = self.blind_index(tenant, subject)
        person_entry = self._person_entry(tenant, blind)
        existing = await self._get(person_entry)
        if existing is not None:
            return existing
        candidate = random_pseudonym()
        async with broker_errors():
            kv = self._bucket()
            await kv.put(self._pseudonym_entry(tenant, candidate), blind.encode())
            try:
                await kv.create(person_entry, candidate.encode())
                return candidate
            except KeyWrongLastSequenceError:  # another process assigned one first: use theirs
                await self._remove(self._pseudonym_entry(tenant, candidate))
        winner = await self._get(person_entry)
        if winner is None:  # erased in the same instant: try again from scratch
            return await self.assign(tenant, subject)
        return winner

    async def forget(self, tenant: str, pseudonym: str) -> bool:
        """Remove the link from a person to ``pseudonym``, leaving no marker; whether there
        was one. Idempotent: a retry after a failure finishes the job."""
        pseudonym_entry = self._pseudonym_entry(tenant, pseudonym)
        blind = await self._get(pseudonym_entry)
        if blind is None:
            return False
        person_entry = self._person_entry(tenant, blind)
        if await self._get(person_entry) == pseudonym:  # never a newer pseudonym of the same person
            await self._remove(person_entry)
        await self._remove(pseudonym_entry)
        return True

    async def _get(self, key: str) -> str | None:
        async with broker_errors():
            try:
                return (await self._bucket().get(key)).value.decode()
            except (KeyNotFoundError, KeyDeletedError):
                return None

    async def _remove(self, key: str) -> None:
        """Purge the key's messages from the bucket's stream: unlike a key-value purge, which
        keeps a marker under the key's name, this leaves nothing behind."""
        async with broker_errors():
            await self._js.purge_stream(f"KV_{self._bucket_name}", subject=f"$KV.{self._bucket_name}.{key}")

    def _bucket(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("PseudonymDirectory.ensure() was not awaited")
        return self._kv

    @staticmethod
    def _person_entry(tenant: str, blind: str) -> str:
        return f"{tenant}.person.{blind}"

    @staticmethod
    def _pseudonym_entry(tenant: str, pseudonym: str) -> str:
        return f"{tenant}.pseudonym.{pseudonym}"
