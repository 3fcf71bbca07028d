"""Batched writes for projections: many row changes, few round trips.

Handlers describe row changes; consecutive changes of the same shape are sent as one
``executemany``. Order is kept, and a read flushes first, so a handler always sees
the rows written before it in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Table, and_, bindparam, select


class Writer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._pending: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self._statements: dict[tuple[Any, ...], Any] = {}

    def insert(self, table: Table, **values: Any) -> None:
        self._pending.append((("insert", table, tuple(values)), values))

    def update(self, table: Table, where: dict[str, Any], **values: Any) -> None:
        """Set ``values`` on the rows whose columns equal ``where``."""
        params = {f"w_{k}": v for k, v in where.items()} | {f"v_{k}": v for k, v in values.items()}
        self._pending.append((("update", table, tuple(where), tuple(values)), params))

    def get(self, table: Table, **key: Any) -> Row[Any] | None:
        self.flush()
        condition = and_(*(table.c[name] == value for name, value in key.items()))
        return self.connection.execute(select(table).where(condition)).first()

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        start = 0
        for index in range(1, len(pending) + 1):
            if index == len(pending) or pending[index][0] != pending[start][0]:
                shape = pending[start][0]
                self.connection.execute(self._statement(shape), [params for _, params in pending[start:index]])
                start = index

    def _statement(self, shape: tuple[Any, ...]) -> Any:
        statement = self._statements.get(shape)
        if statement is None:
            if shape[0] == "insert":
                statement = shape[1].insert()
            else:
                _, table, where, values = shape
                statement = (
                    table.update()
                    .where(and_(*(table.c[k] == bindparam(f"w_{k}") for k in where)))
                    .values({k: bindparam(f"v_{k}") for k in values})
                )
            self._statements[shape] = statement
        return statement
