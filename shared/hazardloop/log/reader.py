"""Read the whole log (or the events of some types) in order, fast, without side effects.

For the command-line tools (reconciliation, audits): a *named* ephemeral pull
consumer, no acknowledgements, batches read as the caller consumes them. Named,
because the read-only auditor account may create only named consumers
(``$JS.API.CONSUMER.CREATE.<stream>.<name>``); it may not delete them either, so
each is left to expire on its own a few seconds after the read.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from nats.aio.client import Client
from nats.js import api

from hazardloop.events import Event, decode_event
from hazardloop.log.pull import BatchPuller, Pulled


async def read_stream(
    nc: Client,
    stream: str,
    *,
    subjects: Sequence[str] | None = None,
    start: int = 1,
    until: int | None = None,
    batch: int = 1000,
) -> AsyncIterator[list[Pulled]]:
    """Batches of stored messages, raw, from ``start`` up to ``until`` (default: the last now)."""
    js = nc.jetstream()
    end = (await js.stream_info(stream)).state.last_seq if until is None else until
    if end < start:
        return
    consumer = await js.add_consumer(
        stream,
        config=api.ConsumerConfig(
            name=f"log-reader-{uuid.uuid4().hex[:12]}",
            filter_subjects=list(subjects) if subjects else None,
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            inactive_threshold=10,
            mem_storage=True,
            description="log reader (read-only; expires on its own)",
        ),
    )
    async with BatchPuller(nc, stream, consumer.name) as puller:
        pending = consumer.num_pending
        while pending:
            messages = await (await puller.request(min(batch, pending), expires=5))
            if not messages:
                pending = (await js.consumer_info(stream, consumer.name)).num_pending
                continue
            pending = 0 if messages[-1].sequence >= end else messages[-1].pending
            yield [m for m in messages if m.sequence <= end]


async def read_log(
    nc: Client, stream: str, subjects: Sequence[str], *, until: int | None = None, batch: int = 1000
) -> AsyncIterator[tuple[int, Event]]:
    """(stream sequence, event) for every stored event matching ``subjects``, oldest first."""
    async for messages in read_stream(nc, stream, subjects=subjects, until=until, batch=batch):
        for message in messages:
            yield message.sequence, decode_event(message.data)


async def sequence_stored_by(nc: Client, stream: str, moment: datetime) -> int:
    """The last sequence stored at or before ``moment`` (0: none), by JetStream's own
    lookup by time: a consumer starting at the first message stored after ``moment``
    begins with everything before it delivered. Only a named consumer is created (as
    every reader here), so any account that may read the log may ask.

    Stored times are compared to the microsecond, as ``moment`` carries them (a message
    stored within the microsecond of ``moment`` is at it).
    """
    js = nc.jetstream()
    start = (moment.astimezone(UTC) + timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    info = await js.add_consumer(
        stream,
        config=api.ConsumerConfig(
            name=f"log-reader-{uuid.uuid4().hex[:12]}",
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_TIME,
            opt_start_time=start,  # type: ignore[arg-type]  # passed as written: no rounding
            inactive_threshold=10,
            mem_storage=True,
            description="log reader: a sequence by time (read-only; expires on its own)",
        ),
    )
    return info.delivered.stream_seq
