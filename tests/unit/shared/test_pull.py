import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ProtocolError
from nats.protocol.parser import Parser

from hazardloop.audit.source import parse_headers
from hazardloop.log import natsinternals
from hazardloop.log.natsinternals import Tap
from hazardloop.log.pull import ack_position, header_block, status_of

V1 = "$JS.ACK.HAZARDLOOP.intake-rebuild.1.4711.12.1763830000123456789.288"
V2 = "$JS.ACK.hub.ACCHASH.HAZARDLOOP.intake-rebuild.1.4711.12.1763830000123456789.288.x7q"


@pytest.mark.parametrize("reply", [V1, V2])
def test_the_stream_sequence_and_pending_count_are_read_as_nats_py_reads_them(reply):
    metadata = Msg.Metadata._from_reply(reply)
    assert ack_position(reply.encode()) == (metadata.sequence.stream, metadata.num_pending) == (4711, 288)


@pytest.mark.parametrize("reply", [b"_INBOX.abc.1", b"$JS.ACK.too.short", b"$JS.NAK.A.B.1.2.3.4.5"])
def test_a_reply_that_is_no_jetstream_delivery_is_refused(reply):
    with pytest.raises(ValueError, match="not a JetStream delivery"):
        ack_position(reply)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (b"NATS/1.0 404 No Messages\r\n\r\n", "404"),
        (b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 5\r\nNats-Pending-Bytes: 0\r\n\r\n", "408"),
        (b"NATS/1.0 409 Consumer Deleted\r\n\r\n", "409"),
        (b"NATS/1.0\r\nStatus: 404\r\nNats-Msg-Id: 1\r\n\r\n", None),  # a stored header is no status line
        (b"NATS/1.0\r\nce-id: 4711\r\n\r\n", None),
        (None, None),
    ],
)
def test_only_an_inline_status_line_is_a_status(headers, status):
    assert status_of(headers) == status


# --- the parser stand-in --------------------------------------------------------------------

ROUTED, OTHER = 7, 9
HEADERS = b"NATS/1.0\r\nce-id: 4711\r\nNats-Msg-Id: 4711\r\n\r\n"


def hmsg(subject: bytes, sid: int, reply: bytes, headers: bytes, body: bytes) -> bytes:
    reply_arg = b" " + reply if reply else b""
    size = len(headers) + len(body)
    return b"HMSG %s %d%s %d %d\r\n%s%s\r\n" % (subject, sid, reply_arg, len(headers), size, headers, body)


def msg(subject: bytes, sid: int, reply: bytes, body: bytes) -> bytes:
    reply_arg = b" " + reply if reply else b""
    return b"MSG %s %d%s %d\r\n%s\r\n" % (subject, sid, reply_arg, len(body), body)


WIRE = b"".join(
    (
        hmsg(b"_INBOX.a", ROUTED, V1.encode(), HEADERS, b'{"n":1}'),
        msg(b"elsewhere", OTHER, b"", b"plain \r\n body"),  # a body may hold CRLF
        b"PING\r\n",
        hmsg(b"_INBOX.a", ROUTED, b"", b"NATS/1.0 408 Request Timeout\r\n\r\n", b""),
        hmsg(b"other.subject", OTHER, b"_INBOX.reply", HEADERS, b"{}"),
        b"+OK\r\n",
        msg(b"_INBOX.a", ROUTED, V2.encode(), b'{"n":2}'),
    )
)
ROUTED_FRAMES = [
    (b"_INBOX.a", V1.encode(), b'{"n":1}', HEADERS),
    (b"_INBOX.a", b"", b"", b"NATS/1.0 408 Request Timeout\r\n\r\n"),
    (b"_INBOX.a", V2.encode(), b'{"n":2}', None),
]
DISPATCHED = [
    (OTHER, b"elsewhere", b"", b"plain \r\n body", None),
    (OTHER, b"other.subject", b"_INBOX.reply", b"{}", HEADERS),
]


class Connection:
    """What the stand-in uses of a nats-py client: its parser, dispatch and counters."""

    def __init__(self) -> None:
        self._ps = Parser(self)
        self.stats = {"in_msgs": 0, "in_bytes": 0}
        self.dispatched: list[tuple] = []
        self.pings = 0

    async def _process_msg(self, sid, subject, reply, data, headers):
        self.dispatched.append((sid, bytes(subject), bytes(reply), bytes(data), None if headers is None else bytes(headers)))

    async def _process_ping(self):
        self.pings += 1


def routed_tap(connection: Connection) -> tuple:
    tap = Tap.of(connection)
    routed: list[tuple] = []
    tap.routes[ROUTED] = lambda subject, reply, data, headers: routed.append((subject, reply, data, headers))
    return tap, routed


async def test_frames_cut_anywhere_between_two_reads_arrive_whole_and_in_order():
    for cut in range(1, len(WIRE)):
        connection = Connection()
        tap, routed = routed_tap(connection)
        await tap.parse(WIRE[:cut])
        await tap.parse(WIRE[cut:])
        assert routed == ROUTED_FRAMES, cut
        assert connection.dispatched == DISPATCHED, cut  # nats-py's dispatch gets the rest, as its parser gives it
        assert connection.pings == 1, cut


async def test_the_stand_in_takes_over_from_and_hands_back_to_nats_pys_parser_mid_frame():
    for cut in range(1, len(WIRE)):
        connection = Connection()
        parser = connection._ps
        await parser.parse(WIRE[:cut])  # nats-py was in the middle of a frame when a puller came
        tap, routed = routed_tap(connection)
        rest = WIRE[cut:]
        await tap.parse(rest[: len(rest) // 2])
        tap.remove(ROUTED)  # ... and the puller left in the middle of another
        assert connection._ps is parser, cut
        await parser.parse(rest[len(rest) // 2 :])
        delivered = routed + [(s, r, d, h) for sid, s, r, d, h in connection.dispatched if sid == ROUTED]
        assert sorted(delivered) == sorted(ROUTED_FRAMES), cut
        assert [f for f in connection.dispatched if f[0] == OTHER] == DISPATCHED, cut
        assert connection.pings == 1, cut


async def test_a_malformed_message_line_is_a_protocol_error_as_in_nats_py():
    tap, _ = routed_tap(Connection())
    with pytest.raises(ProtocolError):
        await tap.parse(b"HMSG _INBOX.a seven 10 12\r\n")


# --- when the tap may read -------------------------------------------------------------------


def test_the_tap_reads_for_a_client_of_the_pinned_nats_py():
    assert natsinternals.tap_unavailable(Client()) is None


@pytest.mark.parametrize("release", ["2.17.0", "3.0.0", "2.15.9", "unknown"])
def test_a_nats_py_release_the_tap_was_not_tested_with_is_named(release, monkeypatch):
    monkeypatch.setattr(natsinternals, "version", lambda _: release)
    assert release in natsinternals.tap_unavailable(Client())


def test_a_connection_whose_parser_is_not_nats_pys_is_left_alone():
    client = Client()
    client._ps = object()
    assert "parser" in natsinternals.tap_unavailable(client)


@pytest.mark.parametrize(
    "headers",
    [{"ce-id": "4711", "Nats-Msg-Id": "4711", "Nats-Expected-Last-Subject-Sequence": "0"}, {"ce-source": "hazardloop/intake", "ce-subject": "北区 3号泵"}],
)
def test_a_header_block_rebuilt_from_nats_pys_parsed_headers_reads_back_the_same(headers):
    block = header_block(headers)
    assert block.startswith(b"NATS/1.0\r\n") and block.endswith(b"\r\n\r\n")
    assert parse_headers(block) == headers and status_of(block) is None
    assert header_block(None) is None and header_block({}) is None
