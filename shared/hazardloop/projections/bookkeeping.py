"""A projection's bookkeeping, kept in its own store beside its tables.

The checkpoint is the last stream sequence applied: it is written in the same
transaction as the rows, so the store always says exactly where it stopped. The
attempt marker notes work before it is tried, so a process that keeps dying on one
batch is noticed on restart. Dead letters are the events that could not be applied,
parked where an operator sees them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, Engine, Integer, MetaData, String, Table, Text, select

from hazardloop.projections.db import UtcDateTime
from hazardloop.projections.definition import Delivery
from hazardloop.projections.writer import Writer


def bookkeeping_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The checkpoint and dead-letter tables, inside the projection's own store."""
    checkpoint = Table(
        "projection_checkpoint",
        metadata,
        Column("projection", String(64), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        # The batch (or, isolating, the single event) being attempted, noted before
        # it is applied and cleared by its commit: a process that keeps dying on it
        # is noticed on restart.
        Column("attempt_from", BigInteger),
        Column("attempts", Integer),
        Column("isolating", Boolean),
    )
    dead_letters = Table(
        "dead_letter",
        metadata,
        Column("sequence", BigInteger, primary_key=True),
        Column("subject", String(400), nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )
    return checkpoint, dead_letters


class Bookkeeping:
    """One projection's rows in the bookkeeping tables of its store."""

    def __init__(self, name: str, metadata: MetaData, engine: Engine) -> None:
        self.name = name
        self.engine = engine
        self.checkpoint = metadata.tables["projection_checkpoint"]
        self.dead_letters = metadata.tables["dead_letter"]

    # --- checkpoint --------------------------------------------------------------------

    def read_checkpoint(self) -> int:
        with self.engine.connect() as connection:
            position = connection.execute(
                select(self.checkpoint.c.position).where(self.checkpoint.c.projection == self.name)
            ).scalar()
        return position or 0

    def locked_checkpoint(self, connection: Connection) -> int:
        """The checkpoint as the transaction sees it, locked where the database can: an
        overlapping instance waits instead of applying the same events."""
        table = self.checkpoint
        query = select(table.c.position).where(table.c.projection == self.name).with_for_update()
        return connection.execute(query).scalar() or 0

    def save_checkpoint(self, writer: Writer, position: int, at: datetime, *, first: bool) -> None:
        """Record the position and clear the attempt marker.

        ``at`` is the event's own time, so a replay writes the very same row. ``first``:
        nothing was applied before (as far as the caller knows), so the row may be missing.
        """
        row = {"position": position, "updated_at": at, "attempt_from": None, "attempts": None, "isolating": None}
        if first and writer.get(self.checkpoint, projection=self.name) is None:
            writer.insert(self.checkpoint, projection=self.name, **row)
        else:
            writer.update(self.checkpoint, {"projection": self.name}, **row)
        writer.flush()

    # --- dead letters ------------------------------------------------------------------

    def park(self, writer: Writer, delivery: Delivery, error: str, attempts: int) -> None:
        """Record an event that cannot be applied: the error's first line (what went wrong)
        and its end (where it was raised), within 4,000 characters."""
        writer.insert(
            self.dead_letters,
            sequence=delivery.sequence,
            subject=delivery.subject,
            error=error if len(error) <= 4000 else f"{error[:600]}\n…\n{error[-3390:]}",
            attempts=attempts,
            recorded_at=datetime.now(UTC),
        )
        writer.flush()

    # --- attempt marker ----------------------------------------------------------------

    def attempt_marker(self) -> tuple[int | None, int, bool]:
        """(first sequence, attempts, isolating) of the work a previous run did not finish."""
        table = self.checkpoint
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.attempt_from, table.c.attempts, table.c.isolating).where(table.c.projection == self.name)
            ).first()
        if row is None or row.attempt_from is None:
            return None, 0, False
        return row.attempt_from, row.attempts, bool(row.isolating)

    def note_attempt(self, sequence: int, *, isolating: bool) -> int:
        """Commit that work starting at ``sequence`` begins; returns how often it has."""
        with self.engine.begin() as connection:
            return self._note(connection, self._locked_marker(connection), sequence, isolating)

    def begin_batch(self, first: int, *, crash_limit: int) -> bool:
        """Note a batch attempt, in one transaction; True instead if the process keeps
        dying on this batch (or died isolating it) and it must be taken apart."""
        with self.engine.begin() as connection:
            row = self._locked_marker(connection)
            if row is not None and row.attempt_from == first and (row.isolating or row.attempts >= crash_limit):
                return True
            self._note(connection, row, first, False)
        return False

    def _locked_marker(self, connection: Connection) -> Any:
        table = self.checkpoint
        query = select(table.c.attempt_from, table.c.attempts, table.c.isolating)
        return connection.execute(query.where(table.c.projection == self.name).with_for_update()).first()

    def _note(self, connection: Connection, row: Any, sequence: int, isolating: bool) -> int:
        table, name = self.checkpoint, self.name
        again = row is not None and row.attempt_from == sequence and bool(row.isolating) == isolating
        attempts = row.attempts + 1 if again else 1
        marker = {"attempt_from": sequence, "attempts": attempts, "isolating": isolating}
        if row is None:
            connection.execute(table.insert(), {"projection": name, "position": 0, "updated_at": datetime.now(UTC), **marker})
        else:
            connection.execute(table.update().where(table.c.projection == name).values(**marker))
        return attempts
