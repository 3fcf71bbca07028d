"""Raw reads of the log for audits: every stored message, in order, with its stored time.

Audits must judge the bytes as stored, so nothing is decoded here. Reads use a
*named* ephemeral consumer: the read-only auditor account may create those
(``$JS.API.CONSUMER.CREATE.<stream>.<name>``) and nothing else, and it may not delete
them, so each is left to expire on its own shortly after the read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
from nats.aio.client import Client
from nats.js import api
from nats.js.errors import NotFoundError

from hazardloop.pull import BatchPuller, Pulled

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""Fixed width, so stored times compare correctly as text (archives and as-of cut-offs)."""


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def time_of_ns(stored_ns: int) -> str:
    seconds, nanos = divmod(stored_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000).strftime(TIME_FORMAT)


def parse_headers(block: bytes | None) -> dict[str, str]:
    """A stored NATS header block (``NATS/1.0\\r\\nName: value\\r\\n...``) as a dict."""
    if not block:
        return {}
    headers: dict[str, str] = {}
    for line in block.decode(errors="replace").split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers


async def connect(servers: list[str], *, timeout: float, creds: str | None = None) -> Client:
    """A connection for audit work; ``creds`` is a NATS credentials file (user JWT + seed).

    A user and password go in the URL (``nats://auditor:secret@host:4222``).
    """
    return await nats.connect(servers, connect_timeout=timeout, user_credentials=creds, max_reconnect_attempts=3)


async def last_sequence(nc: Client, stream: str) -> int:
    return (await nc.jetstream().stream_info(stream)).state.last_seq


async def read_stream(
    nc: Client,
    stream: str,
    *,
    start: int = 1,
    until: int | None = None,
    subjects: list[str] | None = None,
    batch: int = 1000,
) -> AsyncIterator[list[Pulled]]:
    """Batches of stored messages from ``start`` up to ``until`` (default: the last now)."""
    js = nc.jetstream()
    end = await last_sequence(nc, stream) if until is None else until
    if end < start:
        return
    consumer = await js.add_consumer(
        stream,
        config=api.ConsumerConfig(
            name=f"audit-{uuid.uuid4().hex[:12]}",
            filter_subjects=subjects,
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            inactive_threshold=10,
            mem_storage=True,
            description="audit read (read-only; expires on its own)",
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


async def sequence_as_of(nc: Client, stream: str, moment: datetime) -> int:
    """The last sequence stored at or before ``moment`` (0: none), by binary search.

    The broker stamps messages in sequence order, so stored times rise with the sequence.
    """
    js = nc.jetstream()
    low, high = 0, await last_sequence(nc, stream)
    while low < high:
        middle = (low + high + 1) // 2
        try:
            stored = (await asyncio.wait_for(js.get_msg(stream, middle), 10)).time
        except NotFoundError:
            stored = None
        if stored is not None and stored <= moment:
            low = middle
        else:
            high = middle - 1
    return low
