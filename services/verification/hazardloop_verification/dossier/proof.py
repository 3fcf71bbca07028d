"""The proof a dossier carries that its history was not altered: the hash chain and the seals over it.

Each event's hash covers its content and the hash of the report's previous event, so
an altered, dropped or reordered event breaks the chain. A seal (``RangeSealed``)
commits to every message of a whole range of the log; the seals covering the report's
events are checked here as the audit checks them: the seal's own hash and its place in
the seal chain, each report event's leaf against the seal's mark, and the seal's digest
recomputed from every message of its range.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import datetime

from nats.js import JetStreamContext, api
from pydantic import BaseModel

from hazardloop.audit.seal import commit, leaf
from hazardloop.events import GENESIS_HASH, MARK_LENGTH, SEAL_TENANT, RangeSealed, hash_is_intact
from hazardloop.log.eventstore import EventStore, StoredEvent, broker_errors
from hazardloop.log.placement import seal_aggregate_id

_PULL = 1000
_READ_SECONDS = 10.0
"""Bound on reading one seal's range (at most 10,000 messages) back from the log."""


class SealProof(BaseModel):
    """One seal over some of the report's events, and what checking it found."""

    seal_sequence: int
    sealed_at: datetime
    first_sequence: int
    last_sequence: int
    digest: str
    hash: str
    covers: list[int]
    """The report's events (by stream sequence) inside the sealed range."""
    seal_intact: bool
    """The seal event matches its own hash and follows the seal before it."""
    marks_match: bool
    """Each covered event's leaf (sequence, subject, hash) matches the seal's mark for it."""
    digest_matches: bool
    """The digest recomputed from every message of the range equals the seal's."""

    @property
    def holds(self) -> bool:
        return self.seal_intact and self.marks_match and self.digest_matches


def chain_intact(events: Sequence[StoredEvent]) -> list[bool]:
    """For each event: its content matches its hash and its ``prev_hash`` is the previous event's hash."""
    verdicts, previous = [], GENESIS_HASH
    for stored in events:
        event = stored.event
        verdicts.append(event.prev_hash == previous and hash_is_intact(event.model_dump(mode="json")))
        previous = event.hash
    return verdicts


async def seals_over(store: EventStore, js: JetStreamContext, events: Sequence[StoredEvent]) -> list[SealProof]:
    """The seals covering any of ``events``, each checked; events after the last seal are simply not covered yet."""
    if not events:
        return []
    seals = (await store.load(SEAL_TENANT, RangeSealed.aggregate_type, seal_aggregate_id(store.topology.site))).events
    proofs, previous = [], GENESIS_HASH
    for stored in seals:
        seal = stored.event
        intact = seal.prev_hash == previous and hash_is_intact(seal.model_dump(mode="json"))
        previous = seal.hash
        if not isinstance(seal, RangeSealed):
            continue
        covered = [e for e in events if seal.first_sequence <= e.sequence <= seal.last_sequence]
        if not covered:
            continue
        marks = all(_mark(seal, e.sequence) == leaf(e.sequence, store.subjects.of(e.event), e.event.hash)[: MARK_LENGTH // 2].hex() for e in covered)
        async with broker_errors(), asyncio.timeout(_READ_SECONDS):
            digest = commit(await _leaves(js, store, seal.first_sequence, seal.last_sequence))[0]
        proofs.append(
            SealProof(
                seal_sequence=stored.sequence,
                sealed_at=seal.occurred_at,
                first_sequence=seal.first_sequence,
                last_sequence=seal.last_sequence,
                digest=seal.digest,
                hash=seal.hash,
                covers=[e.sequence for e in covered],
                seal_intact=intact,
                marks_match=marks,
                digest_matches=digest == seal.digest,
            )
        )
    return proofs


def _mark(seal: RangeSealed, sequence: int) -> str:
    at = (sequence - seal.first_sequence) * MARK_LENGTH
    return seal.marks[at : at + MARK_LENGTH]


async def _leaves(js: JetStreamContext, store: EventStore, first: int, last: int) -> list[bytes]:
    """The leaf of every message stored at ``first..last``, read through a short-lived consumer.

    A message missing, unreadable or out of order leaves a gap, so the digest cannot match.
    """
    config = api.ConsumerConfig(
        deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=first,
        ack_policy=api.AckPolicy.NONE,
        inactive_threshold=10,
        mem_storage=True,
    )
    subscription = await js.pull_subscribe(store.subjects.all, stream=store.stream, config=config)
    leaves: list[bytes] = []
    try:
        expected = first
        while expected <= last:
            try:
                batch = await subscription.fetch(min(_PULL, last - expected + 1), timeout=2)
            except (TimeoutError, asyncio.TimeoutError):
                break
            for message in batch:
                sequence = message.metadata.sequence.stream
                if sequence > last:
                    break
                if sequence != expected:
                    return leaves  # a gap: the range is not whole
                try:
                    event_hash = json.loads(message.data)["hash"]
                except (ValueError, KeyError, TypeError):
                    event_hash = ""
                leaves.append(leaf(sequence, message.subject, str(event_hash)))
                expected += 1
    finally:
        await subscription.unsubscribe()
    return leaves
