"""The console's read model as it stood at a past moment, replayed from the log.

The log's last sequence stored at or before the moment is found by the broker's own
lookup by time; the console's projection is replayed up to it into a store of its
own, in a process of its own (so the pages keep answering), starting from a copy of
the kept store of the latest earlier moment if there is one: the end of September
replays only the third quarter when the end of June is kept. The store is kept in
turn: the log below a sequence never changes, so a second view of that moment reads
it at once. A store's name carries the projection's table fingerprint,
so a console whose tables changed never reads a store of the old shape; the stores
viewed least recently go once more than ``kept`` are there. Stores are read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import Engine, create_engine

from hazardloop.audit.replay import BATCH, Source
from hazardloop.audit.source import connect
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.reader import read_stream, sequence_stored_by
from hazardloop.projections import ProjectionRunner, storeversion
from hazardloop.projections.collector import bulk_collection
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import replay_batches
from hazardloop.projections.storeversion import fingerprint
from hazardloop.runtime.settings import CommonSettings
from hazardloop_console import projection, store

log = logging.getLogger("hazardloop.console")

SETTLED = timedelta(minutes=5)
"""A moment this far back has every message stored at or before it stored already
(whatever the broker's and the console's clocks disagree by): its sequence is kept."""
REMEMBERED = 1000
"""Moments whose sequence is kept in memory at most (a dashboard offers a few)."""
ABANDONED = 24 * 3600
"""Seconds after which a replay's unfinished file is taken for one whose process died."""


class BeforeTheLog(Exception):
    """Nothing was stored at or before the moment: there is nothing to show."""


class StillBuilding(Exception):
    """The store of that moment is still being replayed; it will be there shortly."""


@dataclass(frozen=True)
class Snapshot:
    moment: datetime
    sequence: int
    """The last sequence of the log stored at or before ``moment``: the figures are as of it."""
    path: Path

    @property
    def url(self) -> str:
        """The store, read-only: one pruned meanwhile fails to open, never comes back empty."""
        return f"sqlite:///file:{self.path}?mode=ro&uri=true"

    def engine(self) -> Engine:
        return create_engine(self.url)


class Snapshots:
    """Stores of the console's read model as of past moments, built on demand and kept."""

    def __init__(self, settings: CommonSettings, directory: Path | None = None, *, kept: int = 12) -> None:
        self._settings, self._kept = settings, kept
        self._directory = directory or settings.state_dir / "console-as-of" / settings.stream_name
        self._shape = fingerprint(store.metadata, create_engine("sqlite://"))[:16]
        self._sequences: dict[datetime, int] = {}
        self._building: dict[int, asyncio.Future[None]] = {}

    def path(self, sequence: int) -> Path:
        return self._directory / f"console-{self._shape}-{sequence}.db"

    async def at(self, moment: datetime, *, wait: float) -> Snapshot:
        """The store as of ``moment``, waiting up to ``wait`` seconds for its replay
        (which goes on meanwhile: ``StillBuilding`` says to come back)."""
        sequence = await self.sequence_at(moment)
        if sequence == 0:
            raise BeforeTheLog()
        target = self.path(sequence)
        if not target.exists():
            building = self._building.get(sequence)
            if building is None:
                building = asyncio.ensure_future(asyncio.to_thread(self._build, sequence, target))
                self._building[sequence] = building
                building.add_done_callback(lambda done: self._built(sequence, done))
            try:
                await asyncio.wait_for(asyncio.shield(building), wait)
            except TimeoutError as exc:
                raise StillBuilding() from exc
        else:
            os.utime(target)  # viewed now: the last to be pruned
        return Snapshot(moment, sequence, target)

    async def sequence_at(self, moment: datetime) -> int:
        if (known := self._sequences.get(moment)) is not None:
            return known
        settings = self._settings
        nc = await connect(settings.nats_servers, timeout=settings.nats_timeout)
        try:
            sequence = await sequence_stored_by(nc, settings.stream_name, moment)
        finally:
            await nc.close()
        if moment < datetime.now(UTC) - SETTLED:
            if len(self._sequences) >= REMEMBERED:
                self._sequences.clear()
            self._sequences[moment] = sequence
        return sequence

    def _built(self, sequence: int, done: asyncio.Future[None]) -> None:
        self._building.pop(sequence, None)
        if not done.cancelled() and (failure := done.exception()) is not None:
            log.warning("the console's store as of sequence %d could not be replayed: %s", sequence, failure)

    def _build(self, sequence: int, target: Path) -> None:
        """Replay into a file of its own, then move it into place whole: a store in the
        folder is always complete (and in one file, so it opens read-only)."""
        settings = self._settings
        source = Source(settings.stream_name, settings.subject_prefix, servers=tuple(settings.nats_servers),
                        timeout=max(settings.nats_timeout, 5.0))  # fmt: skip
        self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = self._directory / f".{target.stem}-{uuid.uuid4().hex[:8]}.partial"
        try:
            if (earlier := self._latest_before(sequence)) is not None:
                with contextlib.suppress(FileNotFoundError):  # pruned meanwhile: replayed from the start
                    shutil.copyfile(earlier, partial)
                    partial.chmod(0o600)
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                pool.submit(replay_into, f"sqlite:///{partial}", source, sequence).result()
            with contextlib.closing(sqlite3.connect(partial)) as db:
                db.execute("PRAGMA journal_mode=DELETE")
            os.replace(partial, target)
        finally:
            for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        self._prune(keep=target)

    def _latest_before(self, sequence: int) -> Path | None:
        """The kept store of the latest sequence before ``sequence``, if any."""
        prefix = f"console-{self._shape}-"
        kept = [(int(p.stem.removeprefix(prefix)), p) for p in self._directory.glob(f"{prefix}*.db") if p.stem[len(prefix):].isdigit()]
        earlier = [(at, path) for at, path in kept if at < sequence]
        return max(earlier)[1] if earlier else None

    def _prune(self, keep: Path) -> None:
        """Remove the stores viewed least recently beyond ``kept`` (and those of another
        shape), and replays' files left by a process that died."""
        now, stores = time.time(), []
        for path in self._directory.iterdir():
            if path.name.endswith(".partial") or ".partial-" in path.name:
                if now - path.stat().st_mtime > ABANDONED:
                    path.unlink(missing_ok=True)
            elif path.suffix == ".db" and path != keep:
                stores.append(path)
        current = sorted((p for p in stores if p.name.startswith(f"console-{self._shape}-")), key=lambda p: p.stat().st_mtime)
        for path in [p for p in stores if p not in current] + current[: max(0, len(current) + 1 - self._kept)]:
            path.unlink(missing_ok=True)


def replay_into(url: str, source: Source, until: int) -> int:
    """Bring the console store at ``url`` (new, or a copy of a store as of an earlier
    sequence) up to sequence ``until``: the events past its checkpoint, of the types the
    projection reads, applied as a rebuild applies them (no reaction runs). Run in a
    process of its own: the replay's collector setting is the process's. The events applied."""
    engine = create_store_engine(url)
    log_store = EventStore(None, stream=source.stream, subjects=Subjects(source.prefix))  # type: ignore[arg-type]
    runner = ProjectionRunner(projection.projection(log_store), engine, log_store, batch_size=BATCH, react=False)
    runner.create_schema()
    subjects = [log_store.subjects.of_type(kind) for kind in runner.projection.event_types]

    async def replay() -> int:
        nc = await connect(list(source.servers), timeout=source.timeout, creds=source.creds)
        try:
            batches = read_stream(nc, source.stream, subjects=subjects, start=runner.position + 1, until=until, batch=BATCH)
            return await replay_batches(runner, batches)
        finally:
            await nc.close()

    with bulk_collection:
        applied = asyncio.run(replay())
    storeversion.record(engine, "console", store.metadata)
    engine.dispose()
    return applied
