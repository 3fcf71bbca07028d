"""The pull reader on a real nats-server, on both ways of reading: the same batches, and
every other subscription on the connection left to nats-py."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import api

from hazardloop.audit.source import format_time, parse_headers, time_of_ns
from hazardloop.events import encode_event
from hazardloop.log import natsinternals
from hazardloop.log.pull import BatchPuller
from tests.factories import report_filed, verified

both_paths = pytest.mark.usefixtures("pull_path")


async def filed_and_verified(store, count: int):
    """``count`` reports, each filed then verified: verifications sit at even sequences."""
    filed = [report_filed() for _ in range(count)]
    versions = [(await store.append(event, expected_version=0)).sequence for event in filed]
    for event, version in zip(filed, versions, strict=True):
        await store.append(verified(event), expected_version=version)


async def consumer_of(nc, store, event_type: str) -> str:
    config = api.ConsumerConfig(
        filter_subjects=[store.subjects.of_type(event_type)],
        ack_policy=api.AckPolicy.NONE,
        deliver_policy=api.DeliverPolicy.ALL,
        inactive_threshold=30,
    )
    return (await nc.jetstream().add_consumer(store.stream, config=config)).name


async def test_the_pinned_nats_py_is_read_through_the_tap_unless_told_otherwise(nc, store, pull_path):
    assert natsinternals.tap_unavailable(nc) is None
    name = await consumer_of(nc, store, "Verified")
    async with BatchPuller(nc, store.stream, name) as puller:
        assert puller.tapped == (pull_path == "tap") == natsinternals.is_tapped(nc)


@both_paths
async def test_a_pull_delivers_stream_sequences_subjects_bodies_and_headers_as_stored(nc, store):
    await filed_and_verified(store, 3)  # filed at 1-3, verified at 4-6
    name = await consumer_of(nc, store, "Verified")
    async with BatchPuller(nc, store.stream, name) as puller:
        pulled = await (await puller.request(2, expires=2))
    stored = [await nc.jetstream().get_msg(store.stream, seq) for seq in (4, 5)]
    assert [(p.sequence, p.subject, p.data) for p in pulled] == [(m.seq, m.subject, m.data) for m in stored]
    assert [parse_headers(p.headers) for p in pulled] == [m.headers for m in stored]
    assert [time_of_ns(p.stored_ns) for p in pulled] == [format_time(m.time) for m in stored]
    assert [p.pending for p in pulled] == [2, 1]


@both_paths
async def test_a_pull_that_ends_short_settles_on_the_servers_status(nc, store):
    await filed_and_verified(store, 2)
    name = await consumer_of(nc, store, "ReportFiled")
    async with BatchPuller(nc, store.stream, name) as puller:
        pulled = await asyncio.wait_for(await puller.request(10, expires=0.5), timeout=5)
        assert [p.sequence for p in pulled] == [1, 2]
        assert await asyncio.wait_for(await puller.request(10, expires=0.2), timeout=5) == []  # 408: nothing left


@both_paths
async def test_other_subscriptions_on_the_connection_keep_nats_pys_own_dispatch(nc, store):
    await filed_and_verified(store, 1)
    received: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_message(msg):
        received.set_result(msg)

    other = await nc.subscribe("elsewhere", cb=on_message)
    name = await consumer_of(nc, store, "ReportFiled")
    async with BatchPuller(nc, store.stream, name) as puller:
        pulling = await puller.request(1, expires=2)
        await nc.publish("elsewhere", encode_event(report_filed()), headers={"ce-id": "4711", "Nats-Msg-Id": "x"})
        msg = await asyncio.wait_for(received, timeout=5)
        assert msg.headers == {"ce-id": "4711", "Nats-Msg-Id": "x"}
        assert [p.sequence for p in await pulling] == [1]
    await other.unsubscribe()
    assert not natsinternals.is_tapped(nc)  # the last puller gone, nats-py parses and dispatches everything


async def test_a_nats_py_the_tap_does_not_know_is_read_through_the_public_api_with_one_warning(nc, store, monkeypatch, caplog):
    await filed_and_verified(store, 2)
    monkeypatch.setattr(natsinternals, "version", lambda _: "2.99.0")
    name = await consumer_of(nc, store, "ReportFiled")
    pulled = []
    for _ in range(2):
        async with BatchPuller(nc, store.stream, name) as puller:
            assert not puller.tapped and not natsinternals.is_tapped(nc)
            pulled += await (await puller.request(1, expires=2))
    assert [p.sequence for p in pulled] == [1, 2]
    warnings = [r.getMessage() for r in caplog.records if r.name == "hazardloop.log.pull"]
    assert len(warnings) == 1 and "nats-py 2.99.0" in warnings[0]
