"""Commits a replay's batches one at a time in a worker thread.

SQLite's commit holds no GIL, so while a batch is committed the next one is read and
its events decoded and handled. The next transaction is begun only once the commit
before it is done, so batches stay in order and each is one transaction with its
checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from hazardloop.projections.writer import Known

if TYPE_CHECKING:
    from hazardloop.projections.runner import ProjectionRunner


class Committer:
    """The commit in flight of one runner's replay, and where it leaves the checkpoint."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self._runner = runner
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"{runner.projection.name}-commit")
        self._committing: Future[None] | None = None
        self._connection: Connection | None = None
        self.position = runner.position
        """Where the checkpoint stands once the batches handed over are committed."""
        self.known: Known = {}
        """Rows as the batches handed over leave them (``Writer``'s ``known``); forgotten
        with a batch that is not committed."""

    async def __aenter__(self) -> Committer:
        return self

    async def __aexit__(self, *_: object) -> None:
        """Whatever happened, the commit in flight finishes (or fails) as one unit."""
        self.discard()
        if self._committing is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wrap_future(self._committing)
        self._thread.shutdown()

    def begin(self) -> Connection:
        """The next batch's transaction, begun after the previous commit (waiting for it
        only if a handler reads the store before the runner awaited it)."""
        if self._committing is not None:
            self._committing.result()
        connection = self._runner.engine.connect()
        connection.begin()
        found = self._runner.bookkeeping.locked_checkpoint(connection)
        if found != self.position:
            connection.close()
            raise RuntimeError(f"the checkpoint moved to {found} behind this replay's back (expected {self.position})")
        self._connection = connection
        return connection

    def commit(self, position: int) -> None:
        """Commit the open transaction in the worker thread, which then owns it."""
        connection, self._connection = self._connection, None
        self._committing = self._thread.submit(_commit_and_close, connection)
        self.position = position

    def discard(self) -> None:
        """Roll back a transaction that was begun but will not be committed."""
        self.known.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def settled(self) -> None:
        """Wait for the commit in flight; then the runner's position is the store's."""
        if self._committing is not None:
            await asyncio.wrap_future(self._committing)
            self._committing = None
            self._runner.position = self.position


def _commit_and_close(connection: Connection) -> None:
    try:
        connection.commit()
    finally:
        connection.close()
