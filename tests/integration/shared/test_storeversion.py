"""A store whose tables changed shape is noticed, so the service rebuilds it from the log."""

from sqlalchemy import Column, Integer, MetaData, String, Table

from hazardloop import storeversion
from hazardloop.db import create_store_engine


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
