from hazardloop.db import create_store_engine


def test_a_sqlite_store_keeps_a_large_page_cache_and_a_large_wal(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as db:
            pragma = lambda name: db.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal" and pragma("synchronous") == 1  # NORMAL
            assert pragma("cache_size") == -65536 and pragma("wal_autocheckpoint") == 8000
    finally:
        engine.dispose()
