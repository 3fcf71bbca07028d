"""Read the whole log (or the events of some types) in order, fast, without side effects.

For the command-line tools (reconciliation, audits): an ephemeral pull consumer, no
acknowledgements, batches read as the caller consumes them, deleted afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from nats.aio.client import Client
from nats.js import api

from hazardloop.events import Event, decode_event
from hazardloop.pull import BatchPuller


async def read_log(nc: Client, stream: str, subjects: Sequence[str], *, batch: int = 1000) -> AsyncIterator[tuple[int, Event]]:
    """(stream sequence, event) for every stored event matching ``subjects``, oldest first."""
    js = nc.jetstream()
    end = (await js.stream_info(stream)).state.last_seq
    if end == 0:
        return
    consumer = await js.add_consumer(
        stream,
        config=api.ConsumerConfig(
            filter_subjects=list(subjects),
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.ALL,
            inactive_threshold=60,
            mem_storage=True,
            description="log reader",
        ),
    )
    try:
        async with BatchPuller(nc, stream, consumer.name) as puller:
            pending = consumer.num_pending
            while pending:
                messages = await (await puller.request(min(batch, pending), expires=5))
                if not messages:
                    pending = (await js.consumer_info(stream, consumer.name)).num_pending
                    continue
                for message in messages:
                    if message.sequence > end:
                        return
                    yield message.sequence, decode_event(message.data)
                pending = 0 if messages[-1].sequence >= end else messages[-1].pending
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, consumer.name)
