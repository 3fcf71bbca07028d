"""Batch pulls from a JetStream consumer, for replays and whole-log reads.

Two ways to read, the same batches either way. By default pull replies are taken raw off
the connection (``hazardloop.log.natsinternals``: several times less work per message than
nats-py's own dispatch); where that tap is unavailable (a nats-py release it was not
tested with) or ``HAZARDLOOP_PULL=public`` is set, nats-py's public pull API reads
instead, and the first such read logs why.

Pulling, unlike pushing, never runs ahead of the reader: the next batch is asked for
only when the previous one has been taken, so nothing can overflow the client.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from typing import NamedTuple

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext

from hazardloop.log import natsinternals

log = logging.getLogger("hazardloop.log.pull")

PULL_PATH = "HAZARDLOOP_PULL"
"""Set to ``public`` to read through nats-py's public pull API only."""

_STATUS_LINE = b"NATS/1.0 "
"""A header block starting so carries an inline status (``NATS/1.0 404 No Messages``)."""


class Pulled(NamedTuple):
    """One stored message as a pull delivers it (a named tuple: made per message on a
    replay, it costs a quarter of a frozen dataclass)."""

    sequence: int
    """Its stream sequence."""
    subject: str
    data: bytes
    pending: int
    """Messages still pending for the consumer after this one."""
    headers: bytes | None = None
    """The stored header block, raw (audit exports keep it; replays ignore it)."""
    stored_ns: int = 0
    """When the broker stored it, in nanoseconds since the epoch."""


def status_of(headers: bytes | None) -> str | None:
    """The inline status code of a header block, None for a stored message's headers."""
    if headers and headers.startswith(_STATUS_LINE):
        code = headers[len(_STATUS_LINE) : len(_STATUS_LINE) + 3]
        if code.isdigit():
            return code.decode()
    return None


def ack_position(reply: bytes) -> tuple[int, int]:
    """(stream sequence, pending) from a JetStream delivery's reply subject."""
    sequence, _, pending = ack_metadata(reply)
    return sequence, pending


def ack_metadata(reply: bytes) -> tuple[int, int, int]:
    """(stream sequence, stored at in ns, pending) from a JetStream delivery's reply subject.

    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>``,
    or the newer form with domain and account hash after ``ACK`` (and a trailing token).
    """
    tokens = reply.split(b".")
    if len(tokens) < 9 or tokens[0] != b"$JS" or tokens[1] != b"ACK":
        raise ValueError(f"not a JetStream delivery: {reply!r}")
    first = 5 if len(tokens) == 9 else 7
    return int(tokens[first]), int(tokens[first + 2]), int(tokens[first + 3])


class BatchPuller:
    """Asks a consumer for ``batch`` messages at a time and collects them, through the
    tap where it can read, else through nats-py's public pull API."""

    def __init__(self, nc: Client, stream: str, consumer: str) -> None:
        self._nc = nc
        self._stream = stream
        self._consumer = consumer
        self._reader: _TappedReader | _PublicReader | None = None
        self._pulling: asyncio.Future[list[Pulled]] | None = None

    @property
    def tapped(self) -> bool:
        """Whether pull replies are taken raw off the connection."""
        return isinstance(self._reader, _TappedReader)

    async def __aenter__(self) -> BatchPuller:
        reason = _why_public(self._nc)
        if reason is None:
            self._reader = _TappedReader(self._nc, self._stream, self._consumer)
        else:
            _announce(reason)
            self._reader = _PublicReader(self._nc, self._stream, self._consumer)
        await self._reader.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader is not None:
            await self._reader.close()

    async def request(self, batch: int, expires: float) -> asyncio.Future[list[Pulled]]:
        """Ask for up to ``batch`` messages; the future settles when they came or time ran out."""
        if self._reader is None:
            raise RuntimeError("open the puller first (async with)")
        if self._pulling is not None and not self._pulling.done():
            raise RuntimeError("one pull at a time")
        self._pulling = await self._reader.request(batch, expires)
        return self._pulling


def _why_public(nc: Client) -> str | None:
    """Why this read goes through the public API; None when the tap reads."""
    if os.environ.get(PULL_PATH) == "public":
        return f"{PULL_PATH}=public is set"
    return natsinternals.tap_unavailable(nc)


@functools.cache
def _announce(reason: str) -> None:
    """Once per process and reason: reads are slower on the public path."""
    if reason.startswith(PULL_PATH):
        log.info("log reads use nats-py's public pull API: %s", reason)
    else:
        log.warning("log reads use nats-py's public pull API, several times slower: %s", reason)


class _TappedReader:
    """Pull replies taken raw off the connection by ``natsinternals``' tap."""

    def __init__(self, nc: Client, stream: str, consumer: str) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = nc.new_inbox()
        self._subscription: Subscription | None = None
        self._wanted = 0
        self._batch: list[Pulled] = []
        self._filled: asyncio.Future[list[Pulled]] | None = None

    async def open(self) -> None:
        self._subscription = await self._nc.subscribe(self._inbox)
        natsinternals.route(self._nc, self._subscription, self._on_message)

    async def close(self) -> None:
        if self._subscription is not None:
            natsinternals.unroute(self._nc, self._subscription)
            await self._subscription.unsubscribe()

    async def request(self, batch: int, expires: float) -> asyncio.Future[list[Pulled]]:
        self._wanted, self._batch = batch, []
        self._filled = asyncio.get_running_loop().create_future()
        body = json.dumps({"batch": batch, "expires": int(expires * 1e9)}).encode()
        await self._nc.publish(self._api, body, reply=self._inbox)
        return self._filled

    def _on_message(self, subject: bytes, reply: bytes, data: bytes, headers: bytes | None) -> None:
        future = self._filled
        if future is None or future.done():
            return
        if not data and status_of(headers) is not None:  # 404/408/409: the pull ended short
            future.set_result(self._batch)
            return
        try:
            sequence, stored_ns, pending = ack_metadata(reply)
        except ValueError as exc:
            future.set_exception(exc)
            return
        self._batch.append(Pulled(sequence, subject.decode(), data, pending, headers, stored_ns))
        if len(self._batch) >= self._wanted:
            future.set_result(self._batch)


class _PublicReader:
    """nats-py's pull subscription and ``fetch``: each message parsed, headers and all."""

    def __init__(self, nc: Client, stream: str, consumer: str) -> None:
        self._js = nc.jetstream()
        self._stream = stream
        self._consumer = consumer
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._fetching: asyncio.Task[list[Pulled]] | None = None

    async def open(self) -> None:
        self._subscription = await self._js.pull_subscribe_bind(self._consumer, stream=self._stream)

    async def close(self) -> None:
        if self._fetching is not None and not self._fetching.done():  # the reader left mid-pull
            self._fetching.cancel()
            await asyncio.gather(self._fetching, return_exceptions=True)
        if self._subscription is not None:
            await self._subscription.unsubscribe()

    async def request(self, batch: int, expires: float) -> asyncio.Future[list[Pulled]]:
        self._fetching = asyncio.create_task(self._fetch(batch, expires))
        return self._fetching

    async def _fetch(self, batch: int, expires: float) -> list[Pulled]:
        assert self._subscription is not None
        try:
            messages = await self._subscription.fetch(batch, timeout=expires)
        except TimeoutError:  # nats-py's and asyncio's alike: nothing came in time: the pull ended short, as a 408 ends it
            return []
        return [_pulled(message) for message in messages]


def _pulled(msg: Msg) -> Pulled:
    sequence, stored_ns, pending = ack_metadata(msg.reply.encode())
    return Pulled(sequence, msg.subject, msg.data, pending, header_block(msg.headers), stored_ns)


def header_block(headers: dict[str, str] | None) -> bytes | None:
    """A header block as stored (``NATS/1.0\\r\\nName: value\\r\\n...\\r\\n``), rebuilt
    from the names and values nats-py parsed out of it: the block nats-py sends when it
    publishes them."""
    if not headers:
        return None
    return b"NATS/1.0\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode() + b"\r\n"
