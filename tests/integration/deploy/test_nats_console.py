"""The console's own NATS user (deploy/nats/hazardloop.conf): it reads the whole log through its
own consumers and can neither write the log nor disturb another service's consumer.

The console runs in-process on the shipped 3-node cluster as the ``console`` user, the
events are written as the services' ``hazardloop`` user, exactly as in production.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from nats.errors import Error as NatsError
from nats.js import api

from hazardloop.events import encode_event
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable, Subjects
from tests.factories import report_filed
from tests.integration.deploy.cluster import Cluster
from tests.integration.deploy.on_cluster import STREAM, replay, run, services_as
from tests.waiting import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(90)]

async def eventually_appended(store: EventStore, event, timeout: float = 20.0) -> None:
    """A new R3 stream answers appends once its leader is elected; until then an append is
    "not stored, try again" (a 503 to the services' callers). Retrying is safe: same event id."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await store.append(event, expected_version=0)
            return
        except EventStoreUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def file_reports(cluster: Cluster, count: int) -> list[str]:
    """Reports filed into the log as the services' user; their ids."""

    async def append(connection):
        store = EventStore(connection, stream=STREAM, subjects=Subjects("hazard"), timeout=5.0)
        await store.ensure_stream(replicas=3)
        events = [report_filed() for _ in range(count)]
        for event in events:
            await eventually_appended(store, event)
        return [event.aggregate_id for event in events]

    return run(append, cluster.urls("hazardloop"))


def cases(database: Path) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(database) as db:
        try:
            return {report for (report,) in db.execute("SELECT report_id FROM console_cases")}
        except sqlite3.OperationalError:  # no tables yet
            return set()


@pytest.fixture
def console_harness(cluster: Cluster, tmp_path: Path):
    with services_as(cluster, "console", tmp_path / "console") as running:
        yield running


def test_the_console_reads_the_whole_log_through_its_own_consumers_as_its_own_user(cluster, console_harness, tmp_path):
    store = tmp_path / "console" / "console.db"
    console = console_harness.start("console")  # first on an empty cluster: it creates the missing log
    assert console.get("/readyz").status_code == 200

    filed = file_reports(cluster, 3)
    wait_for(lambda: cases(store) == set(filed))  # pulled and acknowledged through its durable consumer

    console_harness.stop(console)  # a restart re-creates its consumer at the store's checkpoint
    filed += file_reports(cluster, 2)
    console = console_harness.start("console")
    wait_for(lambda: cases(store) == set(filed))

    rebuilt = tmp_path / "console-rebuilt.db"  # an operator's rebuild, as the console's user
    replay(console_harness, "console", rebuilt)
    assert cases(rebuilt) == set(filed)
    assert cluster.violations() == [], "the console was refused something it needs"


def test_the_console_user_can_neither_write_the_log_nor_touch_another_services_consumer(cluster):
    """Refused by the permissions themselves (each refusal is logged by the server)."""
    file_reports(cluster, 1)

    async def intake_consumer(connection):
        js = connection.jetstream(timeout=5)
        await js.add_consumer(STREAM, config=api.ConsumerConfig(durable_name="intake", ack_policy=api.AckPolicy.ALL))

    run(intake_consumer, cluster.urls("hazardloop"))

    async def attempt(connection):
        refused = connection.jetstream(timeout=1)  # a refused request has no answer: it only times out
        event = report_filed()
        subject = Subjects("hazard").of(event)
        outcomes = await asyncio.gather(
            refused.publish(subject, encode_event(event)),
            refused.update_stream(api.StreamConfig(name=STREAM, subjects=["hazard.>"], max_msgs=1, num_replicas=3)),
            refused.purge_stream(STREAM),
            refused.delete_consumer(STREAM, "intake"),
            connection.request(f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.intake", b'{"batch": 1}', timeout=1),
            refused.add_consumer(STREAM, config=api.ConsumerConfig(name="intake", ack_policy=api.AckPolicy.NONE)),
            return_exceptions=True,
        )
        return [outcome for outcome in outcomes if not isinstance(outcome, NatsError)], subject

    unrefused, event_subject = run(attempt, cluster.urls("console"))
    assert unrefused == []

    async def log_and_consumer(connection):
        js = connection.jetstream(timeout=5)
        info = await js.consumer_info(STREAM, "intake")
        return (await js.stream_info(STREAM)).state.messages, info.config.ack_policy, info.num_pending

    assert run(log_and_consumer, cluster.urls("admin")) == (1, api.AckPolicy.ALL, 1), "one event; intake's consumer untouched"
    denied = {event_subject, f"$JS.API.STREAM.UPDATE.{STREAM}", f"$JS.API.STREAM.PURGE.{STREAM}",
              f"$JS.API.CONSUMER.DELETE.{STREAM}.intake", f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.intake",
              f"$JS.API.CONSUMER.CREATE.{STREAM}.intake"}
    violations = wait_for(lambda: len(v := cluster.violations()) >= len(denied) and v)
    assert all('"HAZARDLOOP/user:console"' in line for line in violations)
    assert {line.rpartition('Subject "')[2].rstrip('"') for line in violations} == denied, "refused by the permissions"

