"""The one place that reaches into nats-py's internals: a fast tap for pull replies.

For every delivery nats-py matches the frame with regular expressions, parses all
stored headers into a dict (each event carries ~14: the CloudEvents envelope,
``Nats-Msg-Id`` and the append guards), builds a ``Msg``, queues it for the
subscription's task and awaits a callback coroutine. On a replay that was most of the
read cost, yet a replay needs only the stream sequence (in the reply subject), the
subject and the body.

So while a puller reads, the connection's protocol parser (``Client._ps``) is stood in
for: frames for a puller's inbox (routed by the subscription's ``_id``) are cut out of
the bytes read and handed over raw, and everything else on the connection (other
subscriptions, requests, JetStream control messages, pings) still goes to nats-py's
own dispatch (``Client._process_msg``) and parser. The subscription itself stays an
ordinary nats-py subscription, resubscribed on reconnect and removed on exit.

All of it depends on how nats-py is built inside, so ``tap_unavailable`` checks that
before each use: the version is one this tap was tested with, and the parser, dispatch
and subscription look as expected. Otherwise ``hazardloop.log.pull`` reads through
nats-py's public pull API instead. ``docs/architecture/library-internals.md`` says what this buys.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.errors import ProtocolError
from nats.protocol import parser as nats_parser

TESTED_VERSIONS = ((2, 16), (2, 16))
"""The nats-py releases (major, minor; first and last) whose internals this tap was checked against."""

_CONTROL_LINE = getattr(nats_parser, "AWAITING_CONTROL_LINE", None)
_PAYLOAD = getattr(nats_parser, "AWAITING_MSG_PAYLOAD", None)
_PARSER_PARTS = ("buf", "state", "needed", "parse", "reset")
_CRLF = b"\r\n"

Route = Callable[[bytes, bytes, bytes, bytes | None], None]
"""Takes a routed delivery raw: (subject, reply, payload, header block or None)."""


def tap_unavailable(nc: Client) -> str | None:
    """Why the tap cannot read for ``nc``; None when it can."""
    try:
        release = version("nats-py")
    except PackageNotFoundError:
        return "the installed nats-py release is unknown"
    if not _tested(release):
        return f"nats-py {release} is not a release the tap was tested with"
    if _CONTROL_LINE is None or _PAYLOAD is None:
        return "nats-py's parser states are not where the tap expects them"
    parser = getattr(nc, "_ps", None)
    if isinstance(parser, Tap):
        return None
    if not isinstance(parser, nats_parser.Parser) or not all(hasattr(parser, part) for part in _PARSER_PARTS):
        return "the connection's protocol parser is not nats-py's as the tap knows it"
    if not inspect.iscoroutinefunction(getattr(nc, "_process_msg", None)) or not isinstance(getattr(nc, "_subs", None), dict):
        return "nats-py's message dispatch is not as the tap knows it"
    if not {"in_msgs", "in_bytes"} <= set(getattr(nc, "stats", {})):
        return "nats-py's connection statistics are not as the tap knows them"
    if "id" not in inspect.signature(Subscription).parameters:
        return "nats-py's subscriptions carry no id the tap can route by"
    return None


def _tested(release: str) -> bool:
    try:
        major, minor = (int(part) for part in release.split(".")[:2])
    except ValueError:
        return False
    first, last = TESTED_VERSIONS
    return first <= (major, minor) <= last


def route(nc: Client, subscription: Subscription, to: Route) -> None:
    """Hand ``subscription``'s deliveries to ``to``, raw, until ``unroute``."""
    sid = subscription._id
    if nc._subs.get(sid) is not subscription:
        raise RuntimeError("nats-py does not know the subscription by the id the tap would route")
    Tap.of(nc).routes[sid] = to


def unroute(nc: Client, subscription: Subscription) -> None:
    """Stop routing ``subscription``; the last route gone, nats-py parses everything again."""
    tap = nc._ps
    if isinstance(tap, Tap):
        tap.remove(subscription._id)


def is_tapped(nc: Client) -> bool:
    """Whether the tap, rather than nats-py's own parser, reads the connection now."""
    return isinstance(getattr(nc, "_ps", None), Tap)


class Tap:
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
    def of(nc: Client) -> Tap:
        """The connection's tap, installed on first use."""
        tap = nc._ps
        if not isinstance(tap, Tap):
            tap = Tap(nc)
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
        if parser.buf or parser.state != _CONTROL_LINE:
            data = await self._complete_parsers_frame(data)
        buffer = self._rest + data if self._rest else data
        end, at = len(buffer), 0
        while at < end:
            line_end = buffer.find(_CRLF, at)
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
        while data and (parser.buf or parser.state != _CONTROL_LINE):
            if parser.state == _PAYLOAD:
                wanted = parser.needed + len(_CRLF) - len(parser.buf)
            else:
                line_end = data.find(b"\n")
                wanted = len(data) if line_end < 0 else line_end + 1
            await parser.parse(data[:wanted])
            data = data[wanted:]
        return data


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
