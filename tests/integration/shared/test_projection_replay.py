"""Rebuilding projections from the log, on a real nats-server and real SQLite/PostgreSQL stores."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, select

from hazardloop.events import ReportFiled, Verified
from hazardloop.projections import Projection, ProjectionRunner, Writer, bookkeeping_tables
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop_intake.projection import projection as intake_projection
from hazardloop_intake.store import reports
from tests.factories import report_filed, verified
from tests.integration.shared.notes import append_all, insert_note, notes_projection, rows
from tests.waiting import eventually

both_pull_paths = pytest.mark.usefixtures("pull_path")
"""A rebuild reads the log through ``hazardloop.log.pull``: on both of its paths."""


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
    assert await rebuild(rebuilt, nc) == 5
    assert rows(engine, reports) == before and rebuilt.bookkeeping.read_checkpoint() == 5


@both_pull_paths
async def test_rebuild_can_stop_at_a_point_in_the_log(engine, store, nc):
    filed = report_filed()
    await append_all(store, [filed, report_filed(), verified(filed)])
    runner = ProjectionRunner(intake_projection(store), engine, store, react=False)
    assert await rebuild(runner, nc, until_sequence=2) == 2
    with engine.connect() as db:
        assert db.execute(select(reports.c.status).where(reports.c.report_id == filed.aggregate_id)).scalar() == "filed"


@both_pull_paths
async def test_rebuilding_a_large_log_applies_every_event(store, nc, tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'large.db'}")
    filed = [report_filed() for _ in range(20_000)]
    for start in range(0, len(filed), 5_000):
        await store.append_many([(event, 0) for event in filed[start:start + 5_000]])
    runner = ProjectionRunner(intake_projection(store), engine, store, batch_size=500, react=False)
    assert await rebuild(runner, nc) == 20_000
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(reports)).scalar() == 20_000
    assert runner.bookkeeping.read_checkpoint() == 20_000


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
    assert await rebuild(runner, nc) == 4
    assert {r[0] for r in rows(engine, notes)} == {good.aggregate_id, later.aggregate_id}
    assert [(d[0], d[3]) for d in rows(engine, runner.bookkeeping.dead_letters)] == [(2, 2), (3, 1)]
    assert runner.bookkeeping.read_checkpoint() == runner.position == 4


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
    assert await rebuild(runner, nc) == 2  # only the verifications (6 and 7) reach it
    assert sorted(rows(engine, grades)) == sorted([(filed[1].aggregate_id, "general"), (filed[3].aggregate_id, "major")])
    assert runner.bookkeeping.read_checkpoint() == runner.position == 7


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
    assert await rebuild(runner, nc) == 7
    assert len(batches) == 3  # 3 + 3 + 1, each one transaction with its checkpoint
    assert len(rows(engine, notes)) == 7 and runner.bookkeeping.read_checkpoint() == 7


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
    assert await rebuild(runner, nc) == 8
    assert sorted(rows(engine, notes)) == sorted((f.aggregate_id, "larger", 2) for f in filed)
    assert rows(engine, runner.bookkeeping.dead_letters) == [] and runner.bookkeeping.read_checkpoint() == 8


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
    assert await rebuild(runner, nc) == 6
    assert {r[0] for r in rows(engine, notes)} == {e.aggregate_id for e in (*events[:3], events[5])}
    assert runner.bookkeeping.read_checkpoint() == 6 and "behind this replay's back" in caplog.text


async def test_a_rebuild_leaves_the_collector_as_whoever_started_it_set_it(engine, store, nc):
    collector = []

    def note_collector(event, db, notes):
        collector.append((gc.get_threshold(), gc.get_freeze_count()))
        insert_note(event, db, notes)

    projection, notes = notes_projection(note_collector)
    await append_all(store, [report_filed() for _ in range(3)])
    before = (gc.get_threshold(), gc.get_freeze_count())
    runner = ProjectionRunner(projection, engine, store, react=False)
    assert await rebuild(runner, nc) == 3
    assert collector == [before] * 3


@both_pull_paths
async def test_a_projections_preparation_runs_before_each_batch_live_and_in_a_rebuild(engine, store, nc):
    """What handlers need from outside the log (text keys, say) is fetched for the whole batch
    first: live, and in a rebuild, which would otherwise apply the batch without it."""
    metadata = MetaData()
    seen = Table("seen", metadata, Column("report_id", String(64), primary_key=True), Column("fetched", String(80)))
    bookkeeping_tables(metadata)
    fetched: dict[str, str] = {}
    batches: list[int] = []

    async def prepare(deliveries) -> None:
        batches.append(len(deliveries))
        fetched.clear()
        fetched.update({d.event.aggregate_id: f"fetched for {d.event.description}" for d in deliveries if isinstance(d.event, ReportFiled)})

    def when_filed(event: ReportFiled, db: Writer) -> None:
        db.insert(seen, report_id=event.aggregate_id, fetched=fetched.pop(event.aggregate_id))

    filed = [report_filed(description=f"report {n}") for n in range(5)]
    await append_all(store, filed)
    live = ProjectionRunner(Projection("seen", metadata, {ReportFiled: when_filed}, prepare=prepare), engine, store, batch_size=2)
    live.create_schema()
    live.start(nc.jetstream())
    await eventually(lambda: live.position == 5)
    await live.stop()
    before = rows(engine, seen)
    assert sorted(r[1] for r in before) == [f"fetched for report {n}" for n in range(5)]
    batches.clear()
    rebuilt = ProjectionRunner(Projection("seen", metadata, {ReportFiled: when_filed}, prepare=prepare), engine, store, batch_size=2,
                               rebuild_batch_size=2, react=False)
    assert await rebuild(rebuilt, nc) == 5
    assert rows(engine, seen) == before and rows(engine, rebuilt.bookkeeping.dead_letters) == []
    assert sum(batches) == 5 and 2 in batches, "the rebuild prepared its events one by one, not by batch"
