"""Seals: commitments to whole ranges of the log (see ``hazardloop.events.seal``).

The leaf of a message binds its sequence, its subject and its event's hash, so a
sealed message cannot be altered, dropped, moved or re-addressed unnoticed. Sealing
is an operator's act (it appends); verifying a seal is an auditor's (it only reads).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from hazardloop.audit.source import read_stream
from hazardloop.events import MARK_LENGTH, MAX_SEAL_RANGE, SEAL_AGGREGATE_ID, SEAL_TENANT, RangeSealed, decode_event, hash_is_intact
from hazardloop.log.eventstore import EventStore, Subjects

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
class LastSeal:
    """Where the seal chain stands: what an operator's staleness alert watches."""

    last_sequence: int
    sealed_at: datetime


def seal_subject(subjects: Subjects) -> str:
    """The seal chain's subjects (one aggregate, every seal appended to it)."""
    return subjects.aggregate(SEAL_TENANT, RangeSealed.aggregate_type, SEAL_AGGREGATE_ID)


async def last_seal(js: JetStreamContext, stream: str, subject: str) -> LastSeal | None:
    """The newest seal on ``subject`` (see ``seal_subject``), or None before the first:
    one lookup of the subject's last message, however long the chain."""
    try:
        message = await js.get_last_msg(stream, subject)
    except NotFoundError:
        return None
    seal = decode_event(message.data or b"")
    if not isinstance(seal, RangeSealed):
        return None
    return LastSeal(seal.last_sequence, seal.occurred_at)


@dataclass(frozen=True, slots=True)
class SealResult:
    seals: list[RangeSealed]
    sealed_through: int


async def seal_log(nc: Client, store: EventStore, *, until: int | None = None, chunk: int = MAX_SEAL_RANGE) -> SealResult:
    """Seal every message after the last seal, up to ``until`` (default: the last now).

    Each seal is appended guarded by the seal chain's last sequence, so two sealers
    cannot both seal one range: the loser gets a conflict and may simply run again.
    """
    history = await store.load(SEAL_TENANT, RangeSealed.aggregate_type, SEAL_AGGREGATE_ID)
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
            aggregate_id=SEAL_AGGREGATE_ID,
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
