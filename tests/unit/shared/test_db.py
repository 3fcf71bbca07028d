from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from hazardloop.projections.db import UtcDateTime, create_store_engine


def test_a_sqlite_store_keeps_a_large_page_cache_and_a_large_wal(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as db:
            pragma = lambda name: db.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal" and pragma("synchronous") == 1  # NORMAL
            assert pragma("cache_size") == -65536 and pragma("wal_autocheckpoint") == 8000
    finally:
        engine.dispose()


def test_a_time_is_written_to_sqlite_in_utc_exactly_as_sqlalchemy_writes_it():
    dialect = sqlite.dialect()
    written = UtcDateTime().bind_processor(dialect)
    sqlalchemys = DateTime().dialect_impl(dialect).bind_processor(dialect)
    at_the_refinery = datetime(2026, 11, 3, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    assert written(at_the_refinery) == sqlalchemys(datetime(2026, 11, 3, 0, 30, 15, 123456)) == "2026-11-03 00:30:15.123456"
    with pytest.raises(ValueError, match="naive"):
        written(datetime(2026, 11, 3))
