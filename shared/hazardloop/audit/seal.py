"""Seals: commitments to whole ranges of the log (see ``hazardloop.events.seal``).

The leaf of a message binds its sequence, its subject and its event's hash, so a
sealed message cannot be altered, dropped, moved or re-addressed unnoticed. Sealing
is an operator's act (it appends); verifying a seal is an auditor's (it only reads).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from nats.aio.client import Client

from hazardloop.audit.source import read_stream
from hazardloop.events import MARK_LENGTH, MAX_SEAL_RANGE, SEAL_TENANT, RangeSealed, hash_is_intact
from hazardloop.log.eventstore import EventStore
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


@dataclass(frozen=True, slots=True)
class SealResult:
    seals: list[RangeSealed]
    sealed_through: int


async def seal_log(nc: Client, store: EventStore, *, until: int | None = None, chunk: int = MAX_SEAL_RANGE) -> SealResult:
    """Seal every message after the last seal, up to ``until`` (default: the last now).

    Each seal is appended guarded by the seal chain's last sequence, so two sealers
    cannot both seal one range: the loser gets a conflict and may simply run again.
    A site's store seals its own stream in its site's chain.
    """
    if store.topology.is_hub:
        raise UnsealableError("the group stream only holds the sites' sealed streams: seal each site's stream")
    chain = seal_aggregate_id(store.topology.site)
    history = await store.load(SEAL_TENANT, RangeSealed.aggregate_type, chain)
    previous = history.events[-1].event if history.events else None
    start = previous.last_sequence + 1 if isinstance(previous, RangeSealed) else 1
    version, prev_hash = history.version, history.last_hash
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
