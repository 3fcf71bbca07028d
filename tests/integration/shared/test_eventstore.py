"""The event log on a real nats-server: the store contract, plus what only the broker has
(stream configuration, subjects and headers for subscribers, outages)."""

import asyncio
import contextlib

import nats
import pytest
from nats.js.errors import APIError

from hazardloop.log.eventstore import EventStore, EventStoreUnavailable, Subjects
from hazardloop.log.natsserver import NatsServer
from tests.eventstore_contract import EventStoreContract
from tests.factories import report_filed, verified


class TestJetStreamEventStore(EventStoreContract):
    """The contract on JetStream: ``store`` is tests/conftest.py's, on a stream of the test's own."""


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
    store = EventStore(connection.jetstream(), stream="DOWN", subjects=Subjects("down"), timeout=0.5, settle=1.0)
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
