"""Checkpointed projections on a real nats-server and real SQLite/PostgreSQL stores."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from hazardloop.db import create_store_engine
from hazardloop.events import ReportFiled, Verified
from hazardloop.projection import Delivery, Projection, ProjectionRunner, bookkeeping_tables
from hazardloop.writer import Writer
from hazardloop_intake.projection import projection as intake_projection
from hazardloop_intake.store import reports
from tests.factories import report_filed, verified
from tests.waiting import eventually


def notes_projection(on_filed) -> tuple[Projection, Table]:
    metadata = MetaData()
    notes = Table("notes", metadata, Column("report_id", String(64), primary_key=True), Column("grade", String(16)),
                  Column("touches", Integer, nullable=False))
    bookkeeping_tables(metadata)

    def when_verified(event: Verified, db: Writer) -> None:
        db.update(notes, {"report_id": event.aggregate_id}, grade=event.grade.value)

    return Projection("notes", metadata, {ReportFiled: lambda e, db: on_filed(e, db, notes), Verified: when_verified}), notes


def insert_note(event, db: Writer, notes: Table) -> None:
    db.insert(notes, report_id=event.aggregate_id, grade=None, touches=1)


def rows(engine, table) -> list[tuple]:
    with engine.connect() as db:
        return [tuple(r) for r in db.execute(select(table).order_by(*table.primary_key.columns))]


async def append_all(store, events):
    versions: dict[str, int] = {}
    for event in events:
        appended = await store.append(event, expected_version=versions.get(event.aggregate_id, 0))
        versions[event.aggregate_id] = appended.sequence


@pytest.fixture
def engine(database_url):
    engine = create_store_engine(database_url)
    yield engine
    engine.dispose()


both_pull_paths = pytest.mark.usefixtures("pull_path")
"""A rebuild reads the log through ``hazardloop.log.pull``: on both of its paths."""


def deliveries_of(events, start=1):
    return [Delivery(start + i, "s", e) for i, e in enumerate(events)]


async def test_batch_and_checkpoint_commit_together_and_redelivery_is_a_no_op(engine, store):
    runner = ProjectionRunner(intake_projection(store), engine, store)
    runner.create_schema()
    filed = [report_filed() for _ in range(3)]
    batch = deliveries_of([filed[0], filed[1], filed[2], verified(filed[0])])
    await runner.process(batch)
    assert runner.read_checkpoint() == 4
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
    assert rows(engine, notes) == [] and runner.read_checkpoint() == 0


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
    assert rows(engine, runner.dead_letter_table) == []


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
    dead = rows(engine, runner.dead_letter_table)
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
    await eventually(lambda: first.read_checkpoint() >= 1)
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


@both_pull_paths
async def test_rebuild_from_the_log_equals_the_live_projection(engine, store, nc, tmp_path):
    filed = [report_filed(tenant=t) for t in ("refinery", "mine", "refinery")]
    await append_all(store, [*filed, verified(filed[0]), verified(filed[1], "not_confirmed", None)])
    live = ProjectionRunner(intake_projection(store), engine, store, batch_size=2)
    live.create_schema()
    live.start(nc.jetstream())
    await eventually(lambda: live.position == 5)
    await live.stop()
    before = rows(engine, reports)
    rebuilt = ProjectionRunner(intake_projection(store), engine, store, batch_size=2, react=False)
    assert await rebuilt.rebuild(nc) == 5
    assert rows(engine, reports) == before and rebuilt.read_checkpoint() == 5


@both_pull_paths
async def test_rebuild_can_stop_at_a_point_in_the_log(engine, store, nc):
    filed = report_filed()
    await append_all(store, [filed, report_filed(), verified(filed)])
    runner = ProjectionRunner(intake_projection(store), engine, store, react=False)
    assert await runner.rebuild(nc, until_sequence=2) == 2
    with engine.connect() as db:
        assert db.execute(select(reports.c.status).where(reports.c.report_id == filed.aggregate_id)).scalar() == "filed"


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
    assert [d[0] for d in rows(engine, runner.dead_letter_table)] == [2]


async def test_an_overlapping_instance_cannot_apply_a_batch_twice(engine, store):
    first = ProjectionRunner(intake_projection(store), engine, store)
    first.create_schema()
    batch = deliveries_of([report_filed(), report_filed()])
    await first.process(batch)
    stale = ProjectionRunner(intake_projection(store), engine, store)  # started before first committed
    assert stale.position == 0
    await stale.process(batch)  # would violate the primary key if applied again
    assert stale.position == 2 and len(rows(engine, reports)) == 2


@both_pull_paths
async def test_rebuilding_a_large_log_applies_every_event(store, nc, tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'large.db'}")
    filed = [report_filed() for _ in range(20_000)]
    for start in range(0, len(filed), 5_000):
        await store.append_many([(event, 0) for event in filed[start:start + 5_000]])
    runner = ProjectionRunner(intake_projection(store), engine, store, batch_size=500, react=False)
    assert await runner.rebuild(nc) == 20_000
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(reports)).scalar() == 20_000
    assert runner.read_checkpoint() == 20_000


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
        await eventually(lambda: runner._task.done() or runner.read_checkpoint() == len(events))
        finished = runner.read_checkpoint() == len(events)
        await runner.stop()
        if finished:
            break
        restarts += 1
        assert restarts < 10, "the crash loop was never broken"
    assert {r[0] for r in rows(engine, notes)} == {e.aggregate_id for e in events if e.description != "boom"}
    (dead,) = rows(engine, runner.dead_letter_table)
    assert dead[0] == 3 and "died" in dead[2]
    assert runner.attempt_marker() == (None, 0, False)  # cleared: the store again equals a clean replay


@both_pull_paths
async def test_a_rebuild_dead_letters_what_it_cannot_apply_and_applies_the_rest(engine, store, nc):
    def refuses_boom(event, db, notes):
        if event.description == "boom":
            raise ValueError("cannot project this")
        insert_note(event, db, notes)

    projection, notes = notes_projection(refuses_boom)
    good, bad, later = report_filed(), report_filed(description="boom"), report_filed()
    await append_all(store, [good, bad])
    await nc.publish(f"{store.subjects.prefix}.refinery.report.x.ReportFiled", b"{not json")
    await append_all(store, [later])
    runner = ProjectionRunner(projection, engine, store, batch_size=2, max_attempts=2, retry_base_delay=0.001, react=False)
    assert await runner.rebuild(nc) == 4
    assert {r[0] for r in rows(engine, notes)} == {good.aggregate_id, later.aggregate_id}
    assert [(d[0], d[3]) for d in rows(engine, runner.dead_letter_table)] == [(2, 2), (3, 1)]
    assert runner.read_checkpoint() == runner.position == 4


@both_pull_paths
async def test_a_rebuild_checkpoints_the_stream_sequence_of_the_last_event_it_applied(engine, store, nc):
    metadata = MetaData()
    grades = Table("grades", metadata, Column("report_id", String(64), primary_key=True), Column("grade", String(16)))
    bookkeeping_tables(metadata)

    def when_verified(event: Verified, db: Writer) -> None:
        db.insert(grades, report_id=event.aggregate_id, grade=event.grade.value)

    filed = [report_filed() for _ in range(5)]
    await append_all(store, [*filed, verified(filed[1]), verified(filed[3], grade="major"), report_filed()])
    runner = ProjectionRunner(Projection("grades", metadata, {Verified: when_verified}), engine, store, batch_size=1, react=False)
    assert await runner.rebuild(nc) == 2  # only the verifications (6 and 7) reach it
    assert sorted(rows(engine, grades)) == sorted([(filed[1].aggregate_id, "general"), (filed[3].aggregate_id, "major")])
    assert runner.read_checkpoint() == runner.position == 7


@both_pull_paths
async def test_a_rebuild_commits_in_batches_of_its_own_size_not_the_live_one(engine, store, nc):
    batches: list[Writer] = []

    def note_batch(event, db, notes):
        if not any(db is seen for seen in batches):
            batches.append(db)
        insert_note(event, db, notes)

    projection, notes = notes_projection(note_batch)
    filed = [report_filed() for _ in range(7)]
    await append_all(store, filed)
    runner = ProjectionRunner(projection, engine, store, batch_size=2, rebuild_batch_size=3, react=False)
    assert await runner.rebuild(nc) == 7
    assert len(batches) == 3  # 3 + 3 + 1, each one transaction with its checkpoint
    assert len(rows(engine, notes)) == 7 and runner.read_checkpoint() == 7


@both_pull_paths
async def test_a_rebuild_handler_reads_what_the_batch_before_committed(engine, store, nc):
    def count_touches(event, db, notes):
        db.insert(notes, report_id=event.aggregate_id, grade=None, touches=1)

    projection, notes = notes_projection(count_touches)

    def when_verified(event: Verified, db: Writer) -> None:
        note = db.get(notes, report_id=event.aggregate_id)  # filed in an earlier batch, maybe still committing
        db.update(notes, {"report_id": event.aggregate_id}, grade=event.grade.value, touches=note.touches + 1)

    projection = Projection("notes", projection.metadata, {**projection.handlers, Verified: when_verified})
    filed = [report_filed() for _ in range(4)]
    await append_all(store, [*filed, *(verified(f, grade="larger") for f in filed)])
    runner = ProjectionRunner(projection, engine, store, batch_size=2, react=False)
    assert await runner.rebuild(nc) == 8
    assert sorted(rows(engine, notes)) == sorted((f.aggregate_id, "larger", 2) for f in filed)
    assert rows(engine, runner.dead_letter_table) == [] and runner.read_checkpoint() == 8


@both_pull_paths
async def test_a_rebuild_never_applies_what_another_instance_applied_meanwhile(engine, store, nc, caplog):
    projection, notes = notes_projection(insert_note)
    checkpoint = projection.metadata.tables["projection_checkpoint"]
    events = [report_filed() for _ in range(6)]

    def other_instance_applies_through_5(event, db, notes):
        insert_note(event, db, notes)
        if event.aggregate_id == events[4].aggregate_id:
            with engine.begin() as other:
                other.execute(checkpoint.update().values(position=5))

    projection = Projection("notes", projection.metadata, {ReportFiled: lambda e, db: other_instance_applies_through_5(e, db, notes)})
    await append_all(store, events)
    runner = ProjectionRunner(projection, engine, store, batch_size=3, react=False)
    assert await runner.rebuild(nc) == 6
    assert {r[0] for r in rows(engine, notes)} == {e.aggregate_id for e in (*events[:3], events[5])}
    assert runner.read_checkpoint() == 6 and "behind this replay's back" in caplog.text
