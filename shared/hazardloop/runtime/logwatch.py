"""What the log says about a service, read for a scrape: the stream's head, how far the
projection's consumer is behind, and the last seal.

A scrape must stay cheap and must answer while the broker is down: each reading is a
handful of small JetStream API calls, bounded by a short timeout, kept for a few seconds
(scrapers, dashboards and people refreshing share one reading), and a failed reading is
simply unknown (the gauges show nothing rather than a stale or made-up number).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from hazardloop.audit.seal_status import SealStatus, seal_status
from hazardloop.log.eventstore import EventStore

log = logging.getLogger("hazardloop.runtime.logwatch")

READING_TIMEOUT = 2.0
"""The whole reading's bound: a scraper's own timeout is typically 10 s."""

READING_LIFETIME = 5.0
"""How long a reading is served before the broker is asked again."""


@dataclass(frozen=True, slots=True)
class LogReading:
    """One look at the log; None where the broker did not say."""

    stream_last_sequence: int | None = None
    projection_pending: int | None = None
    """Events of the projection's kinds in the log that it has not applied yet: those
    its consumer has not delivered, and those delivered but not yet committed."""
    seal: SealStatus | None = None
    """How far the log is sealed (None: not looked at, or the broker did not say)."""
    taken_at: float = -math.inf
    """``time.monotonic()`` when taken: the first reading is always stale."""

    def seal_age_seconds(self) -> float | None:
        """Time since the last seal (never sealed: since the first event); 0 for an empty log."""
        return self.seal.age_seconds if self.seal else None

    def unsealed_events(self) -> int | None:
        """Events after the last one a seal covers, seals not counted."""
        return self.seal.unsealed_events if self.seal else None

UNKNOWN = LogReading()


class LogWatch:
    """Reads the log for a scrape, at most once per ``lifetime``, one reading at a time.

    ``seals`` False leaves the seal chain alone: the console's NATS user may not read the
    log's messages by sequence (the services' may), and the seal is the same for all.
    """

    def __init__(self, *, stream: str, seals: bool, timeout: float = READING_TIMEOUT, lifetime: float = READING_LIFETIME) -> None:
        self.stream, self.seals = stream, seals
        self.timeout, self.lifetime = timeout, lifetime
        self.reading = UNKNOWN
        self._lock = asyncio.Lock()

    async def read(self, nc: Client | None, store: EventStore | None, consumer: str | None) -> LogReading:
        """The latest reading, refreshed if older than its lifetime. ``nc`` is None while the
        service is not connected, ``consumer`` (the projection's durable) before it runs."""
        async with self._lock:
            if time.monotonic() - self.reading.taken_at >= self.lifetime:
                self.reading = await self._take(nc, store, consumer)
            return self.reading

    async def _take(self, nc: Client | None, store: EventStore | None, consumer_name: str | None) -> LogReading:
        now = time.monotonic()
        if nc is None or store is None or consumer_name is None:
            return LogReading(taken_at=now)
        js = nc.jetstream(timeout=self.timeout)
        try:
            async with asyncio.timeout(self.timeout):
                stream = await js.stream_info(self.stream)
                seal = await seal_status(nc, store, now=datetime.now(UTC)) if self.seals else None
                try:
                    consumer = await js.consumer_info(self.stream, consumer_name)
                    pending = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
                except NotFoundError:  # the runner is recreating it at its checkpoint
                    pending = None
        except Exception as exc:  # noqa: BLE001 - broker down or slow: unknown
            log.debug("the log could not be read for metrics: %r", exc)
            return LogReading(taken_at=now)
        return LogReading(
            stream_last_sequence=stream.state.last_seq,
            projection_pending=pending,
            seal=seal,
            taken_at=now,
        )
