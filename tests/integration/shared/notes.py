"""A small projection of notes about reports, on a real log and store: what the runner and
replay tests apply, break and rebuild."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from hazardloop.events import ReportFiled, Verified
from hazardloop.projections import Projection, Writer, bookkeeping_tables
from hazardloop.projections.definition import Delivery


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


def deliveries_of(events, start=1):
    return [Delivery(start + i, "s", e) for i, e in enumerate(events)]
