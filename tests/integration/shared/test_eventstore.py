"""The event log on a real nats-server: guards, dedupe, history, outages."""

import asyncio
import contextlib

import nats
import pytest
from nats.js.errors import APIError

from hazardloop.eventstore import ConcurrencyError, EventStore, EventStoreUnavailable, Subjects
from hazardloop.natsserver import NatsServer
from tests.factories import report_filed, verified


async def test_stream_setup_is_idempotent_and_history_cannot_be_deleted(store, nc):
    await store.ensure_stream(replicas=1)
    await store.append(report_filed(), expected_version=0)
    info = await nc.jetstream().stream_info(store.stream)
    assert info.config.deny_delete and info.config.deny_purge
    assert info.config.storage == "file"
    with pytest.raises(APIError):
        await nc.jetstream().delete_msg(store.stream, 1)
    with pytest.raises(APIError):
        await nc.jetstream().purge_stream(store.stream)
    assert (await store.last_sequence()) == 1


async def test_history_of_an_aggregate_comes_back_in_order_with_its_version(store):
    filed = report_filed()
    other = report_filed()
    await store.append(filed, expected_version=0)
    await store.append(other, expected_version=0)
    await store.append(verified(filed), expected_version=1)
    history = await store.load(filed.tenant, "report", filed.aggregate_id)
    assert [s.event.type for s in history.events] == ["ReportFiled", "Verified"]
    assert history.version == 3 and history.last_hash == history.events[-1].event.hash
    assert (await store.load(filed.tenant, "report", "nobody")).version == 0


async def test_stale_expectation_raises_a_typed_conflict(store):
    filed = report_filed()
    await store.append(filed, expected_version=0)
    with pytest.raises(ConcurrencyError):
        await store.append(report_filed(report_id=filed.aggregate_id), expected_version=0)


async def test_racing_appends_to_one_aggregate_exactly_one_wins(store):
    filed = report_filed()
    await store.append(filed, expected_version=0)
    contenders = [verified(filed, "confirmed_hazard", grade) for grade in ("general", "larger", "major") * 4]
    results = await asyncio.gather(
        *(store.append(event, expected_version=1) for event in contenders), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, ConcurrencyError) for r in results if isinstance(r, Exception))
    assert len((await store.load(filed.tenant, "report", filed.aggregate_id)).events) == 2


async def test_the_same_event_appended_twice_is_stored_once(store, nc):
    filed = report_filed()
    first = await store.append(filed, expected_version=0)
    again = await store.append(filed, expected_version=0)  # a client retry
    assert again.duplicate and again.sequence == first.sequence
    raw = await store.append_many([(filed, 0)])  # and through the pipelined path
    assert raw[0].duplicate
    assert (await nc.jetstream().stream_info(store.stream)).state.messages == 1


async def test_pipelined_appends_are_each_guarded(store):
    taken = report_filed()
    await store.append(taken, expected_version=0)
    fresh = [report_filed() for _ in range(50)]
    appended = await store.append_many([(e, 0) for e in fresh])
    assert [a.sequence for a in appended] == list(range(2, 52))
    with pytest.raises(ConcurrencyError):
        await store.append_many([(report_filed(), 0), (report_filed(report_id=taken.aggregate_id), 0)])


async def test_subscribers_filter_by_tenant_and_type_with_wildcards(store, nc):
    await store.append_many([(report_filed(tenant="mine"), 0), (report_filed(tenant="refinery"), 0)])
    mine = report_filed(tenant="mine")
    await store.append(mine, expected_version=0)
    await store.append(verified(mine), expected_version=3)
    js = nc.jetstream()
    prefix = store.subjects.prefix

    async def count(subject: str) -> int:
        info = await js.add_consumer(store.stream, filter_subject=subject, ack_policy="explicit")
        await js.delete_consumer(store.stream, info.name)
        return info.num_pending

    assert await count(f"{prefix}.mine.>") == 3
    assert await count(f"{prefix}.*.*.*.Verified") == 1
    assert await count(f"{prefix}.refinery.*.*.ReportFiled") == 1


async def test_messages_carry_cloudevents_headers(store, nc):
    filed = report_filed(tenant="mine")
    await store.append(filed, expected_version=0)
    message = await nc.jetstream().get_msg(store.stream, 1)
    assert message.headers["ce-id"] == str(filed.event_id)
    assert message.headers["ce-type"] == "hazardloop.ReportFiled.v2"
    assert message.headers["Nats-Msg-Id"] == str(filed.event_id)


async def test_a_dead_broker_is_a_typed_bounded_unavailability(tmp_path):
    server = NatsServer(tmp_path / "nats").start()
    async def quiet(_):
        pass

    connection = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=quiet)
    store = EventStore(connection, stream="DOWN", subjects=Subjects("down"), timeout=0.5, settle=1.0)
    await store.ensure_stream()
    server.kill()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(EventStoreUnavailable):
        await store.append(report_filed(), expected_version=0)
    with pytest.raises(EventStoreUnavailable):
        await store.append_many([(report_filed(), 0)])
    with pytest.raises(EventStoreUnavailable):
        await store.load("refinery", "report", "x")
    assert loop.time() - started < 5
    with contextlib.suppress(ConnectionError):  # closing flushes onto a dead socket
        await connection.close()
