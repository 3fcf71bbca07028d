"""Seals: commitments to whole ranges of the log (see ``hazardloop.events.seal``).

The leaf of a message binds its sequence, its subject and its event's hash, so a
sealed message cannot be altered, dropped, moved or re-addressed unnoticed. Sealing
appends (notifications' schedule, an operator's command); verifying a seal only reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from hazardloop.audit.source import read_stream
from hazardloop.events import (
    GENESIS_HASH,
    MARK_LENGTH,
    MAX_SEAL_RANGE,
    SEAL_TENANT,
    RangeSealed,
    decode_event,
    hash_is_intact,
)
from hazardloop.log.eventstore import EventStore, StoredEvent, broker_errors
from hazardloop.log.placement import seal_aggregate_id

SEALER = "system:sealer"


def leaf(sequence: int, subject: str, event_hash: str) -> bytes:
    return hashlib.sha256(f"{sequence}\n{subject}\n{event_hash}".encode()).digest()


def commit(leaves: list[bytes]) -> tuple[str, str]:
    """(digest, marks) of consecutive leaves."""
    digest = hashlib.sha256(b"".join(leaves)).hexdigest()
    marks = "".join(item[: MARK_LENGTH // 2].hex() for item in leaves)
    return digest, marks


class UnsealableError(Exception):
    """The range holds a message that is not intact: sealing it would bless the damage."""


def seal_subjects(store: EventStore) -> str:
    """The seal chain's subjects: what its appends are guarded over."""
    return store.subjects.aggregate(SEAL_TENANT, RangeSealed.aggregate_type, seal_aggregate_id(store.topology.site))


async def last_seal(nc: Client, store: EventStore) -> StoredEvent | None:
    """The seal chain's last seal, in one read (None: never sealed).

    All a guarded append of the next seal needs (its sequence and hash), without
    reading the whole chain, which grows by a seal every few minutes for good.
    """
    async with broker_errors():
        try:
            message = await nc.jetstream().get_msg(store.stream, subject=seal_subjects(store))
        except NotFoundError:
            return None
    return StoredEvent(message.seq, decode_event(message.data))


@dataclass(frozen=True, slots=True)
class SealResult:
    seals: list[RangeSealed]
    sealed_through: int


async def seal_log(
    nc: Client, store: EventStore, *, until: int | None = None, chunk: int = MAX_SEAL_RANGE, at: datetime | None = None
) -> SealResult:
    """Seal every message after the last seal, up to ``until`` (default: the last now);
    ``at`` is the seals' time (default: now).

    Each seal is appended guarded by the seal chain's last sequence, so two sealers
    cannot both seal one range: the loser gets a conflict and may simply run again.
    A site's store seals its own stream in its site's chain.
    """
    if store.topology.is_hub:
        raise UnsealableError("the group stream only holds the sites' sealed streams: seal each site's stream")
    chain = seal_aggregate_id(store.topology.site)
    previous = await last_seal(nc, store)
    start = previous.event.last_sequence + 1 if previous is not None and isinstance(previous.event, RangeSealed) else 1
    version, prev_hash = (previous.sequence, previous.event.hash) if previous is not None else (0, GENESIS_HASH)
    end = await store.last_sequence() if until is None else until
    seals: list[RangeSealed] = []
    leaves: list[bytes] = []
    first = start

    async def flush() -> None:
        nonlocal leaves, first, version, prev_hash
        digest, marks = commit(leaves)
        seal = RangeSealed.record(
            prev_hash=prev_hash,
            tenant=SEAL_TENANT,
            aggregate_id=chain,
            actor=SEALER,
            occurred_at=at,
            first_sequence=first,
            last_sequence=first + len(leaves) - 1,
            count=len(leaves),
            digest=digest,
            marks=marks,
        )
        version = (await store.append(seal, expected_version=version)).sequence
        prev_hash = seal.hash
        seals.append(seal)
        first, leaves = seal.last_sequence + 1, []

    if end >= start:
        async for batch in read_stream(nc, store.stream, start=start, until=end):
            for message in batch:
                if message.sequence != first + len(leaves):
                    raise UnsealableError(f"sequence {first + len(leaves)} is missing from the log")
                try:
                    document = json.loads(message.data)
                except ValueError as exc:
                    raise UnsealableError(f"sequence {message.sequence} is not a JSON event") from exc
                if not isinstance(document, dict) or not hash_is_intact(document):
                    raise UnsealableError(f"sequence {message.sequence} does not match its own hash")
                leaves.append(leaf(message.sequence, message.subject, document["hash"]))
                if len(leaves) == chunk:
                    await flush()
        if leaves:
            await flush()
    return SealResult(seals, first - 1)
