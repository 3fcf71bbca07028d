"""Batch pulls from a JetStream consumer, read without nats-py's per-message work.

For every delivery nats-py matches the frame with regular expressions, parses all
stored headers into a dict (each event carries ~14: the CloudEvents envelope,
``Nats-Msg-Id`` and the append guards), builds a ``Msg``, queues it for the
subscription's task and awaits a callback coroutine. On a replay that was most of
the read cost, yet a replay needs only three things: the stream sequence (in the
reply subject), the subject and the body.

So while a puller reads, the connection's protocol parser is stood in for: frames
for a puller's inbox are cut out of the bytes read and handed over raw, and
everything else on the connection (other subscriptions, requests, JetStream control
messages, pings) still goes to nats-py's own dispatch and parser. The subscription
itself stays an ordinary nats-py subscription, resubscribed on reconnect and removed
on exit; the only header a pull reply needs is its status line (``404``/``408``/
``409``: the pull ended short), read from the raw bytes.

Pulling, unlike pushing, never runs ahead of the reader: the next batch is asked for
only when the previous one has been taken, so nothing can overflow the client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import NamedTuple

from nats.aio.client import Client
from nats.errors import ProtocolError
from nats.protocol.parser import AWAITING_CONTROL_LINE, AWAITING_MSG_PAYLOAD

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


class _Tap:
    """Stands in for a client's protocol parser while pullers read through it: deliveries
    to routed subscriptions go to their route as raw bytes, every other message to
    nats-py's own dispatch, and every other protocol line to nats-py's own parser.

    nats-py's parser matches two regular expressions and copies the frame into a dict
    and out of a growing buffer for each message: on a replay that was most of what
    reading cost. Here a frame is cut out of the bytes just read with ``find`` and
    ``split``; only an incomplete frame at the end is kept for the next read.
    """

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._parser = nc._ps
        """nats-py's own parser: it is handed the lines that are not messages, and the
        connection again once the last route is gone."""
        self._rest = b""
        """An incomplete frame at the end of the last read."""
        self.routes: dict[int, Route] = {}

    @staticmethod
    def of(nc: Client) -> _Tap:
        """The connection's tap, installed on first use."""
        tap = nc._ps
        if not isinstance(tap, _Tap):
            tap = _Tap(nc)
            nc._ps = tap  # type: ignore[assignment]
        return tap

    def remove(self, sid: int) -> None:
        """Stop routing ``sid``; the last route gone, nats-py parses everything again."""
        self.routes.pop(sid, None)
        if not self.routes and self._nc._ps is self:
            self._nc._ps = self._parser
            self._hand_back()

    def _hand_back(self) -> None:
        """Give nats-py's parser the incomplete frame this tap was holding."""
        if self._rest:
            self._parser.buf.extend(self._rest)
            self._rest = b""

    def reset(self) -> None:
        """nats-py resets its parser when it reconnects."""
        self._rest = b""
        self._parser.reset()

    async def parse(self, data: bytes = b"") -> None:
        parser = self._parser
        if parser.buf or parser.state != AWAITING_CONTROL_LINE:
            data = await self._complete_parsers_frame(data)
        buffer = self._rest + data if self._rest else data
        end, at = len(buffer), 0
        while at < end:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                break
            if buffer.startswith(b"HMSG ", at):
                frame = _frame(buffer, at + 5, line_end, headers=True)
            elif buffer.startswith(b"MSG ", at):
                frame = _frame(buffer, at + 4, line_end, headers=False)
            else:  # PING, PONG, INFO, +OK, -ERR: nats-py's parser acts on them
                line, at = buffer[at : line_end + 2], line_end + 2
                await parser.parse(line)
                continue
            subject, sid, reply, header_size, size = frame
            body = line_end + 2
            if body + size + 2 > end:
                break
            headers = buffer[body : body + header_size] if header_size else None
            payload = buffer[body + header_size : body + size]
            at = body + size + 2
            route = self.routes.get(sid)
            if route is None:
                await self._nc._process_msg(sid, subject, reply, payload, headers)
                continue
            stats = self._nc.stats
            stats["in_msgs"] += 1
            stats["in_bytes"] += len(payload)
            route(subject, reply, payload, headers)
        self._rest = buffer[at:]
        if self._nc._ps is not self:  # removed while dispatching: nats-py's parser goes on
            self._hand_back()

    async def _complete_parsers_frame(self, data: bytes) -> bytes:
        """Feed nats-py's parser exactly what it lacks of the frame it holds (the tap may
        be installed between two reads); returns the bytes left for the tap."""
        parser = self._parser
        while data and (parser.buf or parser.state != AWAITING_CONTROL_LINE):
            if parser.state == AWAITING_MSG_PAYLOAD:
                wanted = parser.needed + len(_CRLF) - len(parser.buf)
            else:
                line_end = data.find(b"\n")
                wanted = len(data) if line_end < 0 else line_end + 1
            await parser.parse(data[:wanted])
            data = data[wanted:]
        return data


_CRLF = b"\r\n"


def _frame(buffer: bytes, start: int, line_end: int, *, headers: bool) -> tuple[bytes, int, bytes, int, int]:
    """(subject, sid, reply, header size, total size) of a ``HMSG``/``MSG`` line from
    ``start``, its first argument: ``<subject> <sid> [reply] [header size] <size>``."""
    args = buffer[start:line_end].split()
    count = len(args) - headers
    try:
        if count == 4:
            return args[0], int(args[1]), args[2], int(args[3]) if headers else 0, int(args[-1])
        if count == 3:
            return args[0], int(args[1]), b"", int(args[2]) if headers else 0, int(args[-1])
    except ValueError:
        pass
    raise ProtocolError("nats: malformed MSG")


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
