"""Batched writes for projections: a batch of events becomes a few ``executemany`` calls.

Handlers describe row changes by primary key. Within a batch, every change to one
row is merged in memory (an update of a row inserted in the same batch becomes part
of that insert), and reads see the merged state without touching the database. At
the end the batch is sent as one ``executemany`` per table and shape. Projections set
columns to values, so merging is exactly what applying the changes in order would do.

The statements are compiled by SQLAlchemy once per table, shape and dialect, and the
rows go to the driver's ``executemany`` as plain tuples through ``exec_driver_sql``.
Sending them through ``Connection.execute`` instead would rebuild a parameter dict
per row and run each value through SQLAlchemy's bind processing one by one; on a
replay that cost more than SQLite itself. Values still get their column type's bind
conversion, so what is stored is the same on every backend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect, Select, Table, and_, bindparam, select
from sqlalchemy.engine import Compiled

_KEY = "_key_"
"""Prefix of the WHERE parameters of an update; the SET parameters are the column names."""


class RowView(dict[str, Any]):
    """A row as a handler reads it: ``row.column`` or ``row["column"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as missing:
            raise AttributeError(name) from missing


KNOWN_ROWS = 16_384
"""Rows of one table a replay remembers between batches at most (the oldest go first)."""

Known = dict[Table, dict[tuple[Any, ...], dict[str, Any] | None]]
"""Rows as the store holds them (None: not there), by table and primary key."""


class Writer:
    def __init__(self, connection: Connection | Callable[[], Connection], known: Known | None = None) -> None:
        """``connection`` may also be a function that opens one when first needed, so
        that a batch can be gathered while the transaction it goes into cannot be
        begun yet.

        ``known``: rows as the batches before this one left them, carried by a replay from
        writer to writer (it alone writes the store meanwhile), so that a row a batch
        reads or writes is not read back from the store by the next; this writer adds its
        own batch to it when it is taken. Without it, rows are remembered for the batch.
        """
        self._connection = connection
        self._inserts: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._updates: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._deletes: dict[Table, set[tuple[Any, ...]]] = {}
        """Rows to delete from the store, sent before the batch's inserts and updates."""
        self._carry = known is not None
        self._read: Known = {} if known is None else known
        """Rows as ``get`` read them from the store, by key: nothing but this writer
        changes the store until a handler takes the connection."""

    @property
    def connection(self) -> Connection:
        """The batch's connection, for what the writer does not do (a query or a change
        over many rows). What is done through it is not seen by the rows ``get`` read
        before, so they are read again."""
        self._read.clear()
        return self._open()

    def _open(self) -> Connection:
        if not isinstance(self._connection, Connection):
            self._connection = self._connection()
        return self._connection

    def insert(self, table: Table, **values: Any) -> None:
        key = _key(table, values)
        rows = self._inserts.setdefault(table, {})
        if key in rows:
            raise ValueError(f"{table.name}: row {key} inserted twice in one batch")
        rows[key] = values
        blind = self._updates.get(table)
        if blind and key in blind:
            # An update buffered before this insert found no row (else the insert fails
            # as a duplicate), so in order it changed nothing: it must not apply after.
            del blind[key]

    def delete(self, table: Table, **key_values: Any) -> None:
        """Delete the row whose primary key is ``key_values``, if there is one."""
        key = _key(table, key_values)
        self._updates.get(table, {}).pop(key, None)
        if self._inserts.get(table, {}).pop(key, None) is not None:
            # A row inserted in this batch was not in the store before it (else the insert
            # fails as a duplicate), unless the batch deleted it first: that delete stays.
            return
        self._deletes.setdefault(table, set()).add(key)

    def update(self, table: Table, where: dict[str, Any], **values: Any) -> None:
        """Set ``values`` on the row whose primary key is ``where``."""
        key = _key(table, where)
        pending = self._inserts.get(table, {}).get(key)
        if pending is not None:
            pending.update(values)
            return
        if key in self._deletes.get(table, ()):
            return  # in order, the update finds no row
        changes = self._updates.setdefault(table, {})
        if key in changes:
            changes[key].update(values)
        else:
            changes[key] = values

    def get(self, table: Table, **key_values: Any) -> RowView | None:
        """The row as it stands now, including this batch's changes."""
        key = _key(table, key_values)
        pending = self._inserts.get(table, {}).get(key)
        if pending is not None:
            return RowView({**_unset(table), **pending})
        if key in self._deletes.get(table, ()):
            return None
        read = self._read.setdefault(table, {})
        if key in read:
            stored = read[key]
        else:
            statement, names = _lookup(table)
            row = self._open().execute(statement, dict(zip(names, key, strict=True))).first()
            stored = None if row is None else dict(row._mapping)
            _remember(read, key, stored)
        if stored is None:
            return None
        return RowView({**stored, **self._updates.get(table, {}).get(key, {})})

    def flush(self) -> None:
        self.send(self.take(self._open().dialect))

    def take(self, dialect: Dialect) -> list[tuple[str, list[Any]]]:
        """Empty the buffers into (statement, rows of parameters), one per table and shape.

        Building the parameters is most of a flush's Python work, and needs no
        connection: a replay does it while the previous batch is still committing.
        Rows taken are no longer seen by ``get``: take them once the handlers are done.
        """
        if self._carry:
            self._remember_batch()
        else:
            self._read.clear()  # the rows taken will be in the store: read them from there
        taken = []
        for table, keys in self._deletes.items():
            statement = _delete(table, dialect)
            taken.append((statement.sql, [statement.parameters(key, {}) for key in keys]))
        self._deletes.clear()
        for update, buffers in ((False, self._inserts), (True, self._updates)):
            for table, rows in buffers.items():
                for shape, group in _by_shape(rows.items()):
                    statement = _statement(table, update, shape, dialect)
                    taken.append((statement.sql, [statement.parameters(key, values) for key, values in group]))
            buffers.clear()
        return taken

    def _remember_batch(self) -> None:
        """Add the batch's rows to those known, as the store will hold them: of the tables
        whose rows handlers look up in the store (a row read only within its own batch, as
        a report's, is not worth keeping), and the rows updated whose stored state is known."""
        for table, rows in self._inserts.items():
            if (read := self._read.get(table)) is not None:
                unset = _unset(table)
                for key, values in rows.items():
                    _remember(read, key, {**unset, **values})
        for table, rows in self._updates.items():
            if read := self._read.get(table):
                for key, values in rows.items():
                    if (stored := read.get(key)) is not None:
                        _remember(read, key, {**stored, **values})
        for table, keys in self._deletes.items():
            if (read := self._read.get(table)) is not None:
                for key in keys:
                    if key not in self._inserts.get(table, {}):
                        _remember(read, key, None)

    def send(self, taken: list[tuple[str, list[Any]]]) -> None:
        for sql, rows in taken:
            self._open().exec_driver_sql(sql, rows)


def _remember(read: dict[tuple[Any, ...], dict[str, Any] | None], key: tuple[Any, ...], row: dict[str, Any] | None) -> None:
    read.pop(key, None)  # the latest last, so the oldest go first
    read[key] = row
    if len(read) > KNOWN_ROWS:
        del read[next(iter(read))]


@dataclass(frozen=True, slots=True)
class _Statement:
    """An INSERT or UPDATE of one table and set of columns, compiled for one dialect."""

    sql: str
    pick: Callable[[dict[str, Any]], tuple[Any, ...]]
    """The row's values, in the order the statement takes them (before any key)."""
    keyed: bool
    """An update: the primary key follows the values, for its WHERE clause."""
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(position, the column type's bind conversion), where the type has one."""
    names: tuple[str, ...] | None
    """Parameter names, for a driver that takes them by name; None when positional."""

    def parameters(self, key: tuple[Any, ...], values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        row = self.pick(values) + key if self.keyed else self.pick(values)
        if self.conversions:
            converted = list(row)
            for position, convert in self.conversions:
                value = converted[position]
                if value is not None:  # a bind conversion leaves NULL as it is: spare the call
                    converted[position] = convert(value)
            row = tuple(converted)
        return row if self.names is None else dict(zip(self.names, row, strict=True))


@lru_cache(maxsize=64)
def _delete(table: Table, dialect: Dialect) -> _Statement:
    """A DELETE of one row by its primary key, compiled for one dialect."""
    compiled = table.delete().where(_by_key(table)).compile(dialect=dialect)
    return _compiled(table, compiled, dialect, [], _primary_key(table))


@lru_cache(maxsize=512)
def _statement(table: Table, update: bool, columns: tuple[str, ...], dialect: Dialect) -> _Statement:
    keys = _primary_key(table) if update else ()
    statement = table.update().where(_by_key(table)) if update else table.insert()
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    order = list(compiled.positiontup if compiled.positional else compiled.binds)
    values = order[: len(columns)]
    if sorted(values) != sorted(columns) or order[len(columns) :] != [_KEY + name for name in keys]:
        # A column default or onupdate would add parameters this writer does not fill.
        raise ValueError(f"{table.name}: cannot batch {columns}: the statement takes {order}")
    return _compiled(table, compiled, dialect, values, keys)


def _by_key(table: Table) -> ColumnElement[bool]:
    """The WHERE clause of a row by its primary key, each part a parameter named ``_KEY`` + column."""
    return and_(*(table.c[name] == bindparam(_KEY + name) for name in _primary_key(table)))


def _compiled(table: Table, compiled: Compiled, dialect: Dialect, values: list[str], keys: tuple[str, ...]) -> _Statement:
    """A compiled statement taking ``values`` (columns), then ``keys`` (the primary key, for
    its WHERE clause, if any), with each column type's bind conversion."""
    types = [table.c[name].type for name in (*values, *keys)]
    conversions = tuple(
        (position, convert)
        for position, kind in enumerate(types)
        if (convert := kind.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    order = compiled.positiontup if compiled.positional else compiled.binds
    return _Statement(str(compiled), _picker(values), bool(keys), conversions, None if compiled.positional else tuple(order))


def _picker(columns: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if not columns:  # a delete: its parameters are the key alone
        return lambda _values: ()
    if len(columns) == 1:  # itemgetter of one item returns the bare value
        (column,) = columns
        return lambda values: (values[column],)
    return itemgetter(*columns)


@cache
def _primary_key(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.primary_key.columns)


def _key(table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
    try:
        return _key_of(table)(values)
    except KeyError as missing:
        raise ValueError(f"{table.name}: rows are addressed by their primary key, {missing} is missing") from None


@cache
def _key_of(table: Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The primary key of a row: called a few times per event, so looked up once."""
    return _picker(list(_primary_key(table)))


def _by_shape(
    rows: Iterable[tuple[tuple[Any, ...], dict[str, Any]]],
) -> list[tuple[tuple[str, ...], list[tuple[tuple[Any, ...], dict[str, Any]]]]]:
    """Group (key, values) rows by their columns: one ``executemany`` per group.

    Rows that name the same columns in a different order form another group, which
    costs one more statement and is never wrong.
    """
    groups: dict[tuple[str, ...], list[tuple[tuple[Any, ...], dict[str, Any]]]] = {}
    for key, values in rows:
        shape = tuple(values)
        group = groups.get(shape)
        if group is None:
            groups[shape] = [(key, values)]
        else:
            group.append((key, values))
    return list(groups.items())


@functools.cache
def _lookup(table: Table) -> tuple[Select, tuple[str, ...]]:
    """The select of one row by its primary key, built once per table: building it per
    call (coercions, cache key) cost more than running it."""
    names = tuple(f"key_{name}" for name in _primary_key(table))
    condition = and_(*(table.c[name] == bindparam(bound) for name, bound in zip(_primary_key(table), names, strict=True)))
    return select(table).where(condition), names


@functools.cache
def _unset(table: Table) -> dict[str, Any]:
    """What a row inserted without some columns holds in them once stored (their scalar
    default, else NULL), so a handler reading a row inserted earlier in the same batch
    sees what it would see after the commit."""
    return {
        column.name: column.default.arg if column.default is not None and column.default.is_scalar else None
        for column in table.columns
    }
