from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, select

from hazardloop.projections import Writer
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()
rows = Table("rows", metadata, Column("id", String, primary_key=True), Column("status", String), Column("n", Integer))


@pytest.fixture
def connection():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def table(connection) -> list[tuple]:
    return [tuple(r) for r in connection.execute(select(rows).order_by(rows.c.id))]


def test_changes_within_a_batch_equal_applying_them_in_order(connection):
    connection.execute(rows.insert(), [{"id": "old", "status": "filed", "n": 1}])
    db = Writer(connection)
    db.insert(rows, id="new", status="filed", n=1)
    db.update(rows, {"id": "new"}, status="verified")
    db.update(rows, {"id": "old"}, status="verified")
    db.update(rows, {"id": "old"}, status="rectified", n=2)
    db.update(rows, {"id": "new"}, n=5)
    db.flush()
    assert table(connection) == [("new", "verified", 5), ("old", "rectified", 2)]


def test_reads_see_the_batch_without_flushing_it(connection):
    connection.execute(rows.insert(), [{"id": "old", "status": "filed", "n": 1}])
    db = Writer(connection)
    db.insert(rows, id="new", status="filed", n=1)
    db.update(rows, {"id": "old"}, status="verified")
    assert db.get(rows, id="new").status == "filed"
    assert db.get(rows, id="old")["status"] == "verified"
    assert db.get(rows, id="missing") is None
    assert table(connection) == [("old", "filed", 1)]  # nothing sent yet


def test_a_stored_row_is_read_once_a_batch_and_again_after_the_handler_writes_around_the_writer(connection):
    connection.execute(rows.insert(), [{"id": "old", "status": "filed", "n": 1}])
    selects = []
    event.listen(connection, "before_cursor_execute", lambda *args: selects.append(args[2]) if args[2].startswith("SELECT") else None)
    db = Writer(connection)
    for n in range(2, 6):  # a tally moved by every event of a batch
        db.update(rows, {"id": "old"}, n=db.get(rows, id="old").n + 1)
        assert db.get(rows, id="missing") is None
    assert db.get(rows, id="old").n == 5 and len(selects) == 2
    db.connection.execute(rows.update().values(status="verified"))  # a change the writer did not make
    assert db.get(rows, id="old").status == "verified" and db.get(rows, id="old").n == 5
    db.flush()
    assert db.get(rows, id="old").n == 5 and table(connection) == [("old", "verified", 5)]


def test_a_replay_carries_the_rows_a_batch_left_to_the_next_without_reading_them_back(connection):
    connection.execute(rows.insert(), [{"id": "old", "status": "filed", "n": 1}])
    selects = []
    event.listen(connection, "before_cursor_execute", lambda *args: selects.append(args[2]) if args[2].startswith("SELECT") else None)
    known = {}
    first = Writer(connection, known)
    first.update(rows, {"id": "old"}, n=first.get(rows, id="old").n + 1)
    first.insert(rows, id="new", status="filed", n=1)
    first.flush()
    second = Writer(connection, known)
    assert (second.get(rows, id="old").n, second.get(rows, id="new").status, second.get(rows, id="missing")) == (2, "filed", None)
    assert len(selects) == 2  # "old" by the first batch, "missing" by the second
    second.connection.execute(rows.update().values(n=7))  # a change the writer did not make
    assert second.get(rows, id="new").n == 7 and known == {rows: {("new",): {"id": "new", "status": "filed", "n": 7}}}


def test_deletes_within_a_batch_equal_applying_them_in_order(connection):
    """A row of sums emptied and filled again within one batch, in every order."""
    connection.execute(rows.insert(), [{"id": "gone", "status": "filed", "n": 1}, {"id": "back", "status": "filed", "n": 1},
                                       {"id": "kept", "status": "filed", "n": 1}])
    db = Writer(connection)
    db.update(rows, {"id": "gone"}, n=0)
    db.delete(rows, id="gone")
    db.update(rows, {"id": "gone"}, n=9)  # finds no row, as in the store
    db.delete(rows, id="back")
    assert db.get(rows, id="back") is None and db.get(rows, id="gone") is None
    db.insert(rows, id="back", status="again", n=2)
    assert db.get(rows, id="back").status == "again"
    db.insert(rows, id="brief", status="filed", n=1)
    db.delete(rows, id="brief")  # inserted and deleted in the batch: never sent
    db.delete(rows, id="missing")
    db.flush()
    assert table(connection) == [("back", "again", 2), ("kept", "filed", 1)]


def test_a_replay_carries_deleted_rows_as_absent(connection):
    connection.execute(rows.insert(), [{"id": "gone", "status": "filed", "n": 1}])
    known: dict = {}
    first = Writer(connection, known)
    assert first.get(rows, id="gone").n == 1
    first.delete(rows, id="gone")
    first.flush()
    selects = []
    event.listen(connection, "before_cursor_execute", lambda *args: selects.append(args[2]) if args[2].startswith("SELECT") else None)
    second = Writer(connection, known)
    assert second.get(rows, id="gone") is None and selects == []
    assert table(connection) == []


def test_a_row_inserted_twice_in_a_batch_is_an_error(connection):
    db = Writer(connection)
    db.insert(rows, id="a", status="x", n=1)
    with pytest.raises(ValueError, match="inserted twice"):
        db.insert(rows, id="a", status="y", n=2)


def test_rows_are_addressed_by_primary_key(connection):
    with pytest.raises(ValueError, match="primary key"):
        Writer(connection).update(rows, {"status": "filed"}, n=3)


def test_a_writer_opens_its_connection_only_when_the_database_is_needed(connection):
    connection.execute(rows.insert(), [{"id": "old", "status": "filed", "n": 1}])
    opened = []

    def open_connection():
        opened.append(True)
        return connection

    db = Writer(open_connection)
    db.insert(rows, id="new", status="filed", n=1)
    db.update(rows, {"id": "new"}, status="verified")
    db.update(rows, {"id": "old"}, n=2)
    assert db.get(rows, id="new").status == "verified" and opened == []
    assert db.get(rows, id="old").n == 2 and opened == [True]
    db.flush()
    assert opened == [True]
    assert table(connection) == [("new", "verified", 1), ("old", "filed", 2)]


def test_rows_go_to_the_driver_converted_by_their_column_types(connection):
    stamped = Table("stamped", MetaData(), Column("id", String, primary_key=True), Column("at", UtcDateTime()))
    stamped.create(connection)
    eight_hours_ahead = datetime(2026, 3, 1, 9, 30, 0, tzinfo=timezone(timedelta(hours=8)))
    db = Writer(connection)
    db.insert(stamped, id="a", at=eight_hours_ahead)
    db.insert(stamped, id="b", at=None)
    db.flush()
    assert connection.execute(select(stamped.c.at).where(stamped.c.id == "a")).scalar() == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert connection.exec_driver_sql("SELECT at FROM stamped ORDER BY id").scalars().all() == ["2026-03-01 01:30:00.000000", None]


def test_a_column_default_the_writer_would_not_fill_is_refused(connection):
    defaulted = Table("defaulted", MetaData(), Column("id", String, primary_key=True), Column("n", Integer, default=7))
    defaulted.create(connection)
    db = Writer(connection)
    db.insert(defaulted, id="a")
    with pytest.raises(ValueError, match="cannot batch"):
        db.flush()


def test_rows_taken_before_the_transaction_is_begun_are_sent_as_they_were(connection):
    db = Writer(lambda: pytest.fail("taking the rows needs no connection"))
    db.insert(rows, id="a", status="filed", n=1)
    db.update(rows, {"id": "a"}, status="verified")
    db.update(rows, {"id": "z"}, n=9)  # no such row: an update of nothing, as in SQL
    taken = db.take(connection.dialect)
    Writer(connection).send(taken)
    assert table(connection) == [("a", "verified", 1)]


def test_a_row_inserted_in_this_batch_reads_back_with_its_unset_columns():
    """A handler may read a row another handler of the same batch inserted: columns left
    out read as they will be stored (NULL or their default), not as missing."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

    from hazardloop.projections import Writer

    table = Table("rows", MetaData(), Column("id", String, primary_key=True), Column("note", String),
                  Column("count", Integer, default=0))
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        writer = Writer(connection)
        writer.insert(table, id="a")
        row = writer.get(table, id="a")
        assert (row.note, row.count) == (None, 0)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql+psycopg"])
def test_every_projection_columns_conversion_leaves_null_as_null(dialect):
    """The writer sends NULL without calling the column type's conversion: exact only
    while every type the projections use converts NULL to NULL."""
    from hazardloop_intake.store import metadata as intake
    from hazardloop_notifications.store import metadata as notifications
    from hazardloop_rewards.store import metadata as rewards
    from hazardloop_verification.store import metadata as verification

    engine_dialect = create_engine(f"{dialect}://").dialect
    converting = [
        (table.name, column.name, convert)
        for store in (intake, verification, rewards, notifications)
        for table in store.tables.values()
        for column in table.columns
        if (convert := column.type.dialect_impl(engine_dialect).bind_processor(engine_dialect)) is not None
    ]
    assert converting  # timestamps and flags convert on both
    assert [(t, c) for t, c, convert in converting if convert(None) is not None] == []


def test_null_values_reach_the_database_as_null(connection):
    stamped = Table("stamped", MetaData(), Column("id", String, primary_key=True), Column("at", UtcDateTime()))
    stamped.create(connection)
    db = Writer(connection)
    db.insert(stamped, id="a", at=None)
    db.insert(stamped, id="b", at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    db.flush()
    assert connection.exec_driver_sql("SELECT id, at FROM stamped ORDER BY id").all() == [("a", None), ("b", "2026-01-02 03:04:05.000000")]
