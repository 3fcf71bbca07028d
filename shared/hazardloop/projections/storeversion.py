"""Notice when a projection's tables or indexes changed, so the store is rebuilt from the log.

A read model is disposable: instead of migrating it, a service whose tables no longer
match the stored fingerprint drops them and replays the log into the new shape.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.schema import CreateIndex, CreateTable

_versions = MetaData()
store_versions = Table(
    "store_version",
    _versions,
    Column("projection", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)


def fingerprint(metadata: MetaData, engine: Engine) -> str:
    """sha256 of the DDL of every table and its indexes, as this engine's dialect writes it.

    Indexes count: creating the tables skips those that exist, indexes and all, so an
    index added or changed would otherwise never reach a store that was already there.
    """
    statements = []
    for table in metadata.sorted_tables:
        statements.append(CreateTable(table))
        statements += [CreateIndex(index) for index in sorted(table.indexes, key=lambda index: index.name or "")]
    ddl = "\n".join(str(statement.compile(engine)) for statement in statements)
    return hashlib.sha256(ddl.encode()).hexdigest()


def needs_rebuild(engine: Engine, name: str, metadata: MetaData) -> bool:
    """True when tables of an older shape exist (a fresh store needs no rebuild)."""
    existing = set(inspect(engine).get_table_names())
    if not existing & set(metadata.tables):
        return False
    if store_versions.name not in existing:
        return True
    with engine.connect() as db:
        stored = db.execute(select(store_versions.c.fingerprint).where(store_versions.c.projection == name)).scalar()
    return stored != fingerprint(metadata, engine)


def record(engine: Engine, name: str, metadata: MetaData) -> None:
    _versions.create_all(engine)
    with engine.begin() as db:
        db.execute(store_versions.delete().where(store_versions.c.projection == name))
        db.execute(store_versions.insert().values(projection=name, fingerprint=fingerprint(metadata, engine)))
