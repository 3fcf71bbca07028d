"""Appends while the broker is stalled (SIGSTOP): an answer never says "not stored" for an
event the log holds, and no retry stores an event twice. Each test stalls its own
nats-server, never the session's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext

from hazardloop.log.eventstore import AppendOutcomeUnknown, EventStore, Subjects
from hazardloop.log.natsserver import NatsServer
from tests.factories import report_filed, verified
from tests.stall import stall, wake
from tests.waiting import eventually


class CountingClient(nats.NATS):
    """The real client, counting the JetStream publishes that wait for an acknowledgement."""

    def __init__(self) -> None:
        super().__init__()
        self.publishes = 0

    def jetstream(self, **options) -> JetStreamContext:
        return CountingJetStream(self, **options)


class CountingJetStream(JetStreamContext):
    def __init__(self, client: CountingClient, **options) -> None:
        super().__init__(client, **options)
        self.client = client

    async def publish(self, *args, **kwargs):
        self.client.publishes += 1
        return await super().publish(*args, **kwargs)


class Stallable:
    def __init__(self, server: NatsServer) -> None:
        self.server = server

    def stop(self) -> None:
        stall(self.server.process)

    def resume(self) -> None:
        wake(self.server.process)


@pytest.fixture
async def broker(tmp_path) -> AsyncIterator[tuple[Stallable, CountingClient]]:
    server = NatsServer(tmp_path / "nats").start()
    stall = Stallable(server)
    connection = CountingClient()
    await connection.connect(server.url)
    try:
        yield stall, connection
    finally:
        stall.resume()
        with contextlib.suppress(Exception):
            await connection.close()
        server.stop()


async def stored(connection: nats.NATS, stream: str) -> list[str]:
    """The event ids the log holds, in order."""
    js = connection.jetstream()
    last = (await js.stream_info(stream)).state.last_seq
    return [(await js.get_msg(stream, seq)).headers["Nats-Msg-Id"] for seq in range(1, last + 1)]


async def make_store(connection: CountingClient, *, settle: float) -> EventStore:
    store = EventStore(connection, stream="STALL", subjects=Subjects("stall"), timeout=0.3, settle=settle)
    await store.ensure_stream()
    return store


async def test_an_append_unanswered_during_a_stall_learns_its_outcome_before_it_returns(broker):
    stall, connection = broker
    store = await make_store(connection, settle=20.0)
    filed = report_filed()
    stall.stop()
    appending = asyncio.ensure_future(store.append(filed, expected_version=0))
    await eventually(lambda: connection.publishes >= 2, timeout=10)  # the first went unanswered: it is being settled
    stall.resume()
    appended = await appending
    assert not appended.duplicate  # this call stored it: not "already there"
    assert await stored(connection, "STALL") == [str(filed.event_id)]
    follow_up = verified(filed)
    assert (await store.append(follow_up, expected_version=appended.sequence)).sequence == appended.sequence + 1


async def test_an_outcome_still_unknown_is_said_so_and_a_retry_finds_the_stored_event(broker):
    stall, connection = broker
    store = await make_store(connection, settle=1.0)
    filed = report_filed()
    stall.stop()
    with pytest.raises(AppendOutcomeUnknown) as unknown:
        await store.append(filed, expected_version=0)
    assert unknown.value.event_id == str(filed.event_id)
    stall.resume()
    retried = await store.append(filed, expected_version=0)  # the client's retry: same event id
    again = await store.append(filed, expected_version=0)
    assert retried.sequence == again.sequence == 1
    assert await stored(connection, "STALL") == [str(filed.event_id)]


async def test_pipelined_appends_unanswered_during_a_stall_are_each_stored_once(broker):
    stall, connection = broker
    store = await make_store(connection, settle=20.0)
    await store.append(report_filed(), expected_version=0)  # the pipeline's inbox exists before the stall
    events = [report_filed() for _ in range(5)]
    stall.stop()
    appending = asyncio.ensure_future(store.append_many([(event, 0) for event in events]))
    await eventually(lambda: connection.publishes >= 1, timeout=10)  # acknowledgements overdue: settling
    stall.resume()
    appended = await appending
    assert sorted(a.sequence for a in appended) == [2, 3, 4, 5, 6] and not any(a.duplicate for a in appended)
    assert (await stored(connection, "STALL"))[1:] == [str(e.event_id) for e in events]
