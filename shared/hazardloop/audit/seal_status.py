"""How far the log is sealed, and since when: what a monitor watches between seals.

Read in a handful of broker calls, never a scan: the stream's last sequence, the seal
chain's last seal, and the seals appended after the range it covers (one, normally:
itself). Seal events are not counted as unsealed: each is sealed by the next seal,
and counting them would have every seal call for another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from nats.aio.client import Client
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from hazardloop.audit.seal import last_seal, seal_subjects
from hazardloop.events import RangeSealed
from hazardloop.log.eventstore import EventStore, broker_errors


@dataclass(frozen=True, slots=True)
class SealStatus:
    """How far the log is sealed: ``age_seconds`` and ``unsealed_events`` are what a monitor watches."""

    last_sequence: int
    """The log's last sequence (0: empty)."""
    sealed_through: int
    """The last sequence the seals cover (0: never sealed)."""
    unsealed_events: int
    """Messages after ``sealed_through``, seal events not counted."""
    since: datetime | None
    """When the last seal was made; never sealed: when the first unsealed event was (None: empty log)."""
    age_seconds: float
    """Seconds from ``since`` to the moment asked about (0 without ``since``)."""

    def stale(self, after: timedelta) -> bool:
        """Events have waited for a seal longer than ``after`` (a quiet log is never stale)."""
        return self.unsealed_events > 0 and self.age_seconds > after.total_seconds()


async def seal_status(nc: Client, store: EventStore, *, now: datetime) -> SealStatus:
    """The log's seal status as of ``now`` (the caller's clock)."""
    js = nc.jetstream()
    async with broker_errors():
        state = (await js.stream_info(store.stream)).state
    last = state.last_seq
    previous = await last_seal(nc, store)
    if previous is None or not isinstance(previous.event, RangeSealed):
        since = None if last == 0 else await _first_made(nc, store.stream, state.first_seq)
        return _status(last, 0, last, since, now)
    sealed_through = previous.event.last_sequence
    seals = await _seals_after(nc, store, sealed_through)
    return _status(last, sealed_through, last - sealed_through - seals, previous.event.occurred_at, now)


def _status(last: int, sealed_through: int, unsealed: int, since: datetime | None, now: datetime) -> SealStatus:
    age = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
    return SealStatus(last, sealed_through, unsealed, since, age)


async def _seals_after(nc: Client, store: EventStore, sequence: int) -> int:
    """How many seals are stored after ``sequence``: those of the last sealing, no more."""
    js, subjects, count = nc.jetstream(), seal_subjects(store), 0
    async with broker_errors():
        while True:
            try:
                message = await js.get_msg(store.stream, seq=sequence + 1, subject=subjects, next=True)
            except NotFoundError:
                return count
            count, sequence = count + 1, message.seq


async def _first_made(nc: Client, stream: str, sequence: int) -> datetime | None:
    """When the message at ``sequence`` was made: its event's own time, else its stored time."""
    async with broker_errors():
        message = await nc.jetstream().get_msg(stream, seq=sequence)
    return _made_at(message)


def _made_at(message: RawStreamMsg) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(message.data)["occurred_at"])
    except (ValueError, TypeError, KeyError):
        return message.time  # not an event: damage, which the sealer will name
