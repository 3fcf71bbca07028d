"""A store whose tables or indexes changed is noticed, so the service rebuilds it from the log."""

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect

from hazardloop.projections import storeversion
from hazardloop.projections.db import create_store_engine


def shape(*extra: Column) -> MetaData:
    metadata = MetaData()
    Table("reports", metadata, Column("id", String(8), primary_key=True), *extra)
    return metadata


def test_a_fresh_store_needs_no_rebuild_and_a_changed_shape_does(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    old, new = shape(), shape(Column("grade", Integer))
    assert not storeversion.needs_rebuild(engine, "intake", old)
    old.create_all(engine)
    assert storeversion.needs_rebuild(engine, "intake", old)  # tables from before fingerprints existed
    storeversion.record(engine, "intake", old)
    assert not storeversion.needs_rebuild(engine, "intake", old)
    assert storeversion.needs_rebuild(engine, "intake", new)
    storeversion.record(engine, "intake", new)
    assert not storeversion.needs_rebuild(engine, "intake", new)
    engine.dispose()


def test_an_index_added_to_a_table_that_exists_is_noticed_and_built_by_the_rebuild(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    old = shape(Column("grade", Integer))
    new = shape(Column("grade", Integer), Index("ix_reports_grade", "grade"))
    old.create_all(engine)
    storeversion.record(engine, "intake", old)
    new.create_all(engine)  # what starting with the new code alone would do: the table exists, so no index
    assert [ix["name"] for ix in inspect(engine).get_indexes("reports")] == []
    assert storeversion.needs_rebuild(engine, "intake", new)
    new.drop_all(engine)  # the rebuild drops and recreates the projection's tables
    new.create_all(engine)
    storeversion.record(engine, "intake", new)
    assert [ix["name"] for ix in inspect(engine).get_indexes("reports")] == ["ix_reports_grade"]
    assert not storeversion.needs_rebuild(engine, "intake", new)
    engine.dispose()
