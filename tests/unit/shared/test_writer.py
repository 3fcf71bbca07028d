import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

from hazardloop.writer import Writer

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


def test_a_row_inserted_twice_in_a_batch_is_an_error(connection):
    db = Writer(connection)
    db.insert(rows, id="a", status="x", n=1)
    with pytest.raises(ValueError, match="inserted twice"):
        db.insert(rows, id="a", status="y", n=2)


def test_rows_are_addressed_by_primary_key(connection):
    with pytest.raises(ValueError, match="primary key"):
        Writer(connection).update(rows, {"status": "filed"}, n=3)
