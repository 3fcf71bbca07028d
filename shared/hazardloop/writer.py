"""Batched writes for projections: a batch of events becomes a few ``executemany`` calls.

Handlers describe row changes by primary key. Within a batch, every change to one
row is merged in memory (an update of a row inserted in the same batch becomes part
of that insert), and reads see the merged state without touching the database. At
the end the batch is sent as one ``executemany`` per table and shape. Projections set
columns to values, so merging is exactly what applying the changes in order would do.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, select


class RowView(dict[str, Any]):
    """A row as a handler reads it: ``row.column`` or ``row["column"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as missing:
            raise AttributeError(name) from missing


class Writer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._inserts: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
        self._updates: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)

    def insert(self, table: Table, **values: Any) -> None:
        key = self._key(table, values)
        if key in self._inserts[table]:
            raise ValueError(f"{table.name}: row {key} inserted twice in one batch")
        self._inserts[table][key] = values

    def update(self, table: Table, where: dict[str, Any], **values: Any) -> None:
        """Set ``values`` on the row whose primary key is ``where``."""
        key = self._key(table, where)
        pending = self._inserts[table].get(key)
        if pending is not None:
            pending.update(values)
        else:
            self._updates[table].setdefault(key, {}).update(values)

    def get(self, table: Table, **key_values: Any) -> RowView | None:
        """The row as it stands now, including this batch's changes."""
        key = self._key(table, key_values)
        pending = self._inserts[table].get(key)
        if pending is not None:
            return RowView(pending)
        condition = and_(*(column == value for column, value in zip(self._pk(table), key, strict=True)))
        row = self.connection.execute(select(table).where(condition)).first()
        if row is None:
            return None
        return RowView({**row._mapping, **self._updates[table].get(key, {})})

    def flush(self) -> None:
        for table, rows in self._inserts.items():
            for columns, params in _by_shape(rows.values()):
                self.connection.execute(table.insert(), params)
        for table, changes in self._updates.items():
            pk = [c.name for c in self._pk(table)]
            shaped = ({**{f"k_{n}": v for n, v in zip(pk, key, strict=True)}, **values} for key, values in changes.items())
            for columns, params in _by_shape(shaped):
                statement = (
                    table.update()
                    .where(and_(*(table.c[n] == bindparam(f"k_{n}") for n in pk)))
                    .values({c: bindparam(f"v_{c}") for c in columns if not c.startswith("k_")})
                )
                self.connection.execute(statement, [_prefixed(p) for p in params])
        self._inserts.clear()
        self._updates.clear()

    @staticmethod
    def _pk(table: Table) -> list[Any]:
        return list(table.primary_key.columns)

    def _key(self, table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
        try:
            return tuple(values[column.name] for column in self._pk(table))
        except KeyError as missing:
            raise ValueError(f"{table.name}: rows are addressed by their primary key, {missing} is missing") from None


def _by_shape(rows) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Group rows by their set of columns: one ``executemany`` per group."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    return list(groups.items())


def _prefixed(params: dict[str, Any]) -> dict[str, Any]:
    return {name if name.startswith("k_") else f"v_{name}": value for name, value in params.items()}
