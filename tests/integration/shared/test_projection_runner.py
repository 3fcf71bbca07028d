"""The live projection runner on a real nats-server and real SQLite/PostgreSQL stores."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import func, select

from hazardloop.projections import ProjectionRunner
from hazardloop_intake.projection import projection as intake_projection
from hazardloop_intake.store import reports
from tests.factories import report_filed, verified
from tests.integration.shared.notes import append_all, deliveries_of, insert_note, notes_projection, rows
from tests.waiting import eventually


async def test_batch_and_checkpoint_commit_together_and_redelivery_is_a_no_op(engine, store):
    runner = ProjectionRunner(intake_projection(store), engine, store)
    runner.create_schema()
    filed = [report_filed() for _ in range(3)]
    batch = deliveries_of([filed[0], filed[1], filed[2], verified(filed[0])])
    await runner.process(batch)
    assert runner.bookkeeping.read_checkpoint() == 4
    await runner.process(batch)  # redelivered: would violate the primary key if applied again
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(reports)).scalar() == 3
        assert db.execute(select(reports.c.status).where(reports.c.report_id == filed[0].aggregate_id)).scalar() == "verified"


async def test_a_failing_batch_leaves_neither_rows_nor_checkpoint(engine, store):
    def explode_on_second(event, db, notes):
        insert_note(event, db, notes)
        if event.description == "boom":
            raise RuntimeError("handler bug")

    projection, notes = notes_projection(explode_on_second)
    runner = ProjectionRunner(projection, engine, store, max_attempts=2, retry_base_delay=0.001)
    runner.create_schema()
    with pytest.raises(RuntimeError):
        await asyncio.to_thread(runner.apply, deliveries_of([report_filed(), report_filed(description="boom")]))
    assert rows(engine, notes) == [] and runner.bookkeeping.read_checkpoint() == 0


async def test_a_handler_failing_once_then_succeeding_has_exactly_one_effect(engine, store, nc):
    failures = {"left": 1}

    def flaky(event, db, notes):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("transient glitch")
        insert_note(event, db, notes)

    projection, notes = notes_projection(flaky)
    runner = ProjectionRunner(projection, engine, store, retry_base_delay=0.001)
    runner.create_schema()
    filed = report_filed()
    await append_all(store, [filed, verified(filed, grade="major")])
    runner.start(nc.jetstream())
    try:
        await eventually(lambda: runner.position == 2)
    finally:
        await runner.stop()
    assert rows(engine, notes) == [(filed.aggregate_id, "major", 1)]
    assert rows(engine, runner.bookkeeping.dead_letters) == []


async def test_a_poison_event_is_dead_lettered_and_the_consumer_moves_on(engine, store, nc):
    def refuses_boom(event, db, notes):
        if event.description == "boom":
            raise ValueError("cannot project this")
        insert_note(event, db, notes)

    projection, notes = notes_projection(refuses_boom)
    runner = ProjectionRunner(projection, engine, store, max_attempts=3, retry_base_delay=0.001)
    runner.create_schema()
    good, bad, later = report_filed(), report_filed(description="boom"), report_filed()
    await append_all(store, [good, bad, later])
    await nc.publish(f"{store.subjects.prefix}.refinery.report.x.ReportFiled", b"{not json")
    runner.start(nc.jetstream())
    try:
        await eventually(lambda: runner.position == 4)
    finally:
        await runner.stop()
    assert {r[0] for r in rows(engine, notes)} == {good.aggregate_id, later.aggregate_id}
    dead = rows(engine, runner.bookkeeping.dead_letters)
    assert [(d[0], d[3]) for d in dead] == [(2, 3), (4, 1)]
    assert "cannot project this" in dead[0][2] and "cannot decode" in dead[1][2]


async def test_events_are_applied_in_order_across_a_store_outage(engine, store, nc, monkeypatch):
    projection, notes = notes_projection(insert_note)
    runner = ProjectionRunner(projection, engine, store, batch_size=2)
    runner.create_schema()
    from sqlalchemy.exc import OperationalError

    outage = {"left": 3}
    original = runner.apply

    def apply_with_outage(deliveries):
        if outage["left"]:
            outage["left"] -= 1
            raise OperationalError("SELECT 1", {}, Exception("database is down"))
        return original(deliveries)

    monkeypatch.setattr(runner, "apply", apply_with_outage)
    filed = [report_filed() for _ in range(5)]
    await append_all(store, [*filed, verified(filed[0], grade="larger")])
    runner.start(nc.jetstream())
    try:
        await eventually(lambda: runner.position == 6)
    finally:
        await runner.stop()
    assert len(rows(engine, notes)) == 5
    assert dict((r[0], r[1]) for r in rows(engine, notes))[filed[0].aggregate_id] == "larger"
    assert runner.last_error is None


async def test_an_event_on_an_idle_consumer_is_applied_at_once_and_the_commit_is_told(engine, store, nc):
    """A long poll of 30 s: an event waiting in it for the batch to fill would take that long."""
    projection, notes = notes_projection(insert_note)
    committed: list[str] = []
    projection = dataclasses.replace(projection, committed=lambda events: committed.extend(str(e.aggregate_id) for e in events))
    runner = ProjectionRunner(projection, engine, store, batch_size=100)
    runner.create_schema()
    live = asyncio.create_task(runner.run(nc.jetstream(), fetch_timeout=30))
    try:
        await append_all(store, [report_filed()])
        await eventually(lambda: runner.position == 1, timeout=5)
        burst = [report_filed() for _ in range(5)]
        await append_all(store, burst)
        await eventually(lambda: runner.position == 6, timeout=5)
    finally:
        await runner.stop()
        await live
    assert len(rows(engine, notes)) == 6
    assert committed[1:] == [str(e.aggregate_id) for e in burst]


async def test_a_restart_after_commit_but_before_ack_resumes_without_duplicates(engine, store, nc):
    projection, notes = notes_projection(insert_note)
    first = ProjectionRunner(projection, engine, store, batch_size=3)
    first.create_schema()
    await append_all(store, [report_filed() for _ in range(3)])

    async def crash_before_ack(deliveries):  # commit, then die before acknowledging
        await ProjectionRunner.process(first, deliveries)
        raise asyncio.CancelledError

    first.process = crash_before_ack
    first.start(nc.jetstream())
    await eventually(lambda: first.bookkeeping.read_checkpoint() >= 1)
    await first.stop()
    await append_all(store, [report_filed() for _ in range(2)])
    second = ProjectionRunner(projection, engine, store, batch_size=3)
    second.create_schema()
    second.start(nc.jetstream())
    try:
        await eventually(lambda: second.position == 5)
    finally:
        await second.stop()
    assert len(rows(engine, notes)) == 5


async def test_an_event_the_database_refuses_is_dead_lettered_not_retried_forever(engine, store, nc):
    def duplicate_key_on_boom(event, db, notes):
        insert_note(event, db, notes)
        if event.description == "boom":
            insert_note(event, db, notes)  # the database refuses this (IntegrityError): not an outage

    projection, notes = notes_projection(duplicate_key_on_boom)
    runner = ProjectionRunner(projection, engine, store, max_attempts=2, retry_base_delay=0.001)
    runner.create_schema()
    good, bad, later = report_filed(), report_filed(description="boom"), report_filed()
    await append_all(store, [good, bad, later])
    runner.start(nc.jetstream())
    try:
        await eventually(lambda: runner.position == 3)
    finally:
        await runner.stop()
    assert {r[0] for r in rows(engine, notes)} == {good.aggregate_id, later.aggregate_id}
    assert [d[0] for d in rows(engine, runner.bookkeeping.dead_letters)] == [2]


async def test_an_overlapping_instance_cannot_apply_a_batch_twice(engine, store):
    first = ProjectionRunner(intake_projection(store), engine, store)
    first.create_schema()
    batch = deliveries_of([report_filed(), report_filed()])
    await first.process(batch)
    stale = ProjectionRunner(intake_projection(store), engine, store)  # started before first committed
    assert stale.position == 0
    await stale.process(batch)  # would violate the primary key if applied again
    assert stale.position == 2 and len(rows(engine, reports)) == 2


class ProcessDied(BaseException):
    """Stands for a death no handler can catch: out of memory, a kill, a native crash."""


async def test_an_event_that_keeps_killing_the_process_is_dead_lettered_after_restarts(engine, store, nc):
    def dies_on_boom(event, db, notes):
        if event.description == "boom":
            raise ProcessDied
        insert_note(event, db, notes)

    projection, notes = notes_projection(dies_on_boom)
    events = [report_filed() for _ in range(2)] + [report_filed(description="boom")] + [report_filed() for _ in range(3)]
    await append_all(store, events)
    restarts = 0
    while True:
        runner = ProjectionRunner(projection, engine, store, batch_size=10, crash_limit=2)
        runner.create_schema()
        runner.start(nc.jetstream())
        await eventually(lambda: runner._task.done() or runner.bookkeeping.read_checkpoint() == len(events))
        finished = runner.bookkeeping.read_checkpoint() == len(events)
        await runner.stop()
        if finished:
            break
        restarts += 1
        assert restarts < 10, "the crash loop was never broken"
    assert {r[0] for r in rows(engine, notes)} == {e.aggregate_id for e in events if e.description != "boom"}
    (dead,) = rows(engine, runner.bookkeeping.dead_letters)
    assert dead[0] == 3 and "died" in dead[2]
    assert runner.bookkeeping.attempt_marker() == (None, 0, False)  # cleared: the store again equals a clean replay
