"""Raw reads of the log for audits: stored times, header blocks, cut-offs by time.

Audits judge the bytes as stored, so nothing is decoded here; the reads themselves are
``hazardloop.log.reader.read_stream``'s (named consumers the auditor account may create).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import nats
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from hazardloop.log.reader import read_stream

__all__ = ["connect", "format_time", "last_sequence", "parse_headers", "read_stream", "sequence_as_of", "time_of_ns"]

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
