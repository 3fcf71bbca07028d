"""A SQLite store holds pseudonyms and casework: its files are its owner's alone."""

from sqlalchemy import text

from hazardloop.projections.db import create_store_engine


def test_a_new_sqlite_store_and_its_folder_are_private(tmp_path):
    path = tmp_path / "state" / "intake.db"
    engine = create_store_engine(f"sqlite:///{path}")
    with engine.begin() as db:
        db.execute(text("CREATE TABLE t (x INTEGER)"))
        db.execute(text("INSERT INTO t VALUES (1)"))
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.with_name("intake.db-wal").stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
    finally:
        engine.dispose()
