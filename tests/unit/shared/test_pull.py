import pytest
from nats.aio.msg import Msg

from hazardloop.pull import ack_position, status_of

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
