"""Batch pulls from a JetStream consumer, read without nats-py's per-message work.

For every delivery nats-py parses all stored headers into a dict (each event carries
~14: the CloudEvents envelope, ``Nats-Msg-Id`` and the append guards), builds a
``Msg``, queues it for the subscription's task and awaits a callback coroutine. On a
replay that was most of the read cost, yet a replay needs only three things: the
stream sequence (in the reply subject), the subject and the body.

So the puller taps the connection's dispatch for its own inbox alone: deliveries to
that one subscription are taken raw, and everything else on the connection (other
subscriptions, requests, JetStream control messages) still goes through nats-py.
The subscription itself stays an ordinary nats-py subscription, resubscribed on
reconnect and removed on exit; the only header a pull reply needs is its status
line (``404``/``408``/``409``: the pull ended short), read from the raw bytes.

Pulling, unlike pushing, never runs ahead of the reader: the next batch is asked for
only when the previous one has been taken, so nothing can overflow the client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import NamedTuple

from nats.aio.client import Client

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


Route = Callable[[bytes, bytes, bytes, bytes | None], None]


class _Done:
    """An awaitable that is already done: what the tap gives nats-py's reader to await
    for a routed delivery, sparing a coroutine per message."""

    __slots__ = ()

    def __await__(self) -> Iterator[None]:
        return iter(())


_DONE = _Done()


class _Tap:
    """Stands in for a client's ``_process_msg``: deliveries to routed subscriptions go
    to their route as raw bytes, all others to nats-py's own dispatch."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._dispatch = nc._process_msg
        self.routes: dict[int, Route] = {}

    def __call__(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None) -> Awaitable[None]:
        route = self.routes.get(sid)
        if route is None:
            return self._dispatch(sid, subject, reply, data, headers)
        stats = self._nc.stats
        stats["in_msgs"] += 1
        stats["in_bytes"] += len(data)
        route(subject, reply, data, headers)
        return _DONE

    @staticmethod
    def of(nc: Client) -> _Tap:
        """The connection's tap, installed on first use."""
        tap = vars(nc).get("_process_msg")
        if not isinstance(tap, _Tap):
            tap = _Tap(nc)
            nc._process_msg = tap  # type: ignore[method-assign]
        return tap

    def remove(self, sid: int) -> None:
        """Stop routing ``sid``; the last route gone, nats-py dispatches everything again."""
        self.routes.pop(sid, None)
        if not self.routes and vars(self._nc).get("_process_msg") is self:
            del self._nc._process_msg


class BatchPuller:
    """Asks a consumer for ``batch`` messages at a time and collects them."""

    def __init__(self, nc: Client, stream: str, consumer: str) -> None:
        self._nc = nc
        self._api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = nc.new_inbox()
        self._subscription = None
        self._wanted = 0
        self._batch: list[Pulled] = []
        self._filled: asyncio.Future[list[Pulled]] | None = None

    async def __aenter__(self) -> BatchPuller:
        self._subscription = await self._nc.subscribe(self._inbox)
        _Tap.of(self._nc).routes[self._subscription._id] = self._on_message
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._subscription is not None:
            _Tap.of(self._nc).remove(self._subscription._id)
            await self._subscription.unsubscribe()

    async def request(self, batch: int, expires: float) -> asyncio.Future[list[Pulled]]:
        """Ask for up to ``batch`` messages; the future settles when they came or time ran out."""
        if self._filled is not None and not self._filled.done():
            raise RuntimeError("one pull at a time")
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
