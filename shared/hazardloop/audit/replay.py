"""Rebuild every service's projections into fresh stores from the log or an archive, and
compare stores table by table.

Each service is rebuilt in its own process (their handlers and SQLite writes are CPU
work, and a machine's cores are better used side by side), reading the log for
itself with a named consumer, or the archive's file directly. The rebuilt stores are
pure copies: no reaction runs, nothing is appended. The projections are the caller's
(service -> the function building it), so auditing never imports a service.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, create_engine, inspect, select

from hazardloop.audit.archive import EVENT_KEY, lines, verify_archive, where
from hazardloop.audit.source import connect
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.pull import Pulled
from hazardloop.log.reader import read_stream
from hazardloop.projections import ProjectionRunner, storeversion
from hazardloop.projections.collector import bulk_collection
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import NEEDS_TEXT_KEYS
from hazardloop.projections.replay import replay_batches
from hazardloop.runtime.settings import CommonSettings

if TYPE_CHECKING:
    from hazardloop.runtime.service import ProjectionFactory

BATCH: int = CommonSettings.model_fields["rebuild_batch_size"].default
"""Events per commit: a service's own rebuild's default."""
_HEADERS_KEY = b',"headers":'
IGNORED_COLUMNS = {
    "projection_checkpoint": {"updated_at", "attempt_from", "attempts", "isolating"},
    "dead_letter": {"error", "attempts", "recorded_at"},
}
"""Bookkeeping that says when and how often, not what: never part of a comparison."""


@dataclass(frozen=True)
class Source:
    """Where to read the log: an archive folder, or a live stream."""

    stream: str
    prefix: str
    archive: Path | None = None
    servers: tuple[str, ...] = ()
    creds: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class Rebuilt:
    service: str
    url: str
    applied: int
    """Events handed to the projection (of the types it reads)."""
    position: int
    seconds: float


def store_url(directory: Path, service: str) -> str:
    return f"sqlite:///{(directory / f'{service}.db').resolve()}"


def rebuild_service(service: str, factory: ProjectionFactory, source: Source, url: str, until: int | None) -> Rebuilt:
    """Rebuild one service's projection (built by ``factory``) into ``url`` from scratch, up to ``until``."""
    engine = create_store_engine(url)
    store = EventStore(None, stream=source.stream, subjects=Subjects(source.prefix))  # type: ignore[arg-type]
    projection = factory(store)
    runner = ProjectionRunner(projection, engine, store, batch_size=BATCH, react=False)
    runner.drop_schema()
    runner.create_schema()
    started = time.perf_counter()
    with bulk_collection:  # the rebuild has this process to itself
        if source.archive is not None:
            applied = asyncio.run(replay_batches(runner, archive_batches(source.archive, set(projection.event_types), until)))
        else:
            applied = asyncio.run(_from_stream(runner, source, projection.event_types, until))
    seconds = time.perf_counter() - started
    storeversion.record(engine, service, projection.metadata)
    engine.dispose()
    return Rebuilt(service, url, applied, runner.position, seconds)


async def _from_stream(runner: ProjectionRunner, source: Source, types: list[str], until: int | None) -> int:
    nc = await connect(list(source.servers), timeout=source.timeout, creds=source.creds)
    try:
        subjects = [Subjects(source.prefix).of_type(kind) for kind in types]
        return await replay_batches(runner, read_stream(nc, source.stream, subjects=subjects, until=until, batch=BATCH))
    finally:
        await nc.close()


async def archive_batches(directory: Path, types: Collection[str], until: int | None) -> AsyncIterator[list[Pulled]]:
    """Batches of the archived messages of ``types``, read straight from the file.

    Only the line's head is parsed; the event's bytes are its tail, handed over as
    stored, and lines of other types are passed over without decoding.
    """
    batch: list[Pulled] = []
    for _, line in lines(directory):
        cut = line.index(_HEADERS_KEY)
        head = json.loads(line[:cut] + b"}")
        sequence, subject = head["seq"], head["subject"]
        if until is not None and sequence > until:
            break
        if subject[subject.rindex(".") + 1 :] in types:
            start = line.index(EVENT_KEY, cut) + len(EVENT_KEY)
            batch.append(Pulled(sequence, subject, line[start:-2], 0))
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def archive_sequence_as_of(directory: Path, stored_at: str) -> int:
    """The last sequence of an archive stored at or before ``stored_at`` (same text format)."""
    last = 0
    for _, line in lines(directory):
        head = json.loads(line[: line.index(_HEADERS_KEY)] + b"}")
        if head["stored_at"] > stored_at:
            break
        last = head["seq"]
    return last


def checkpoint_of(engine: Engine) -> int:
    """A store's projection checkpoint, 0 while it has none (read-only)."""
    try:
        with engine.connect() as db:
            if not inspect(db).has_table("projection_checkpoint"):
                return 0
            return int(db.exec_driver_sql("SELECT max(position) FROM projection_checkpoint").scalar() or 0)
    except Exception:  # noqa: BLE001 - a store being created by another process: not there yet
        return 0


def _verify_job(directory: Path) -> tuple[bool, str]:
    _, verdict = verify_archive(directory)
    first = verdict.first_fault()
    return verdict.ok, "" if first is None else f"{where(first)}: {first.kind}: {first.detail}"


@dataclass
class RebuildAll:
    rebuilt: list[Rebuilt] = field(default_factory=list)
    seconds: float = 0.0
    archive_fault: str | None = None
    """Set when the archive, verified alongside, failed: the rebuilt stores prove nothing."""


def rebuild_all(
    source: Source,
    directory: Path,
    until: dict[str, int | None],
    *,
    projections: Mapping[str, ProjectionFactory],
    progress: Callable[[str, int], None] | None = None,
    workers: int | None = None,
) -> RebuildAll:
    """Rebuild each service of ``until`` (service -> last sequence, None: all) side by side,
    each by its function in ``projections``; an archive is verified in parallel with the rebuilds."""
    directory.mkdir(parents=True, exist_ok=True)
    urls = {service: store_url(directory, service) for service in until}
    result = RebuildAll()
    started = time.perf_counter()
    jobs = len(until) + (source.archive is not None)
    with ProcessPoolExecutor(max_workers=workers or jobs, mp_context=get_context("spawn")) as pool:
        futures: dict[Future[Any], str] = {
            pool.submit(rebuild_service, service, projections[service], source, urls[service], last): service
            for service, last in until.items()
        }
        if source.archive is not None:
            futures[pool.submit(_verify_job, source.archive)] = ""
        watchers = {service: create_engine(url) for service, url in urls.items()}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.3, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                if isinstance(outcome, Rebuilt):
                    result.rebuilt.append(outcome)
                    if progress:
                        progress(outcome.service, outcome.position)
                elif not outcome[0]:
                    result.archive_fault = outcome[1]
            if progress:
                for future in pending:
                    if futures[future]:
                        progress(futures[future], checkpoint_of(watchers[futures[future]]))
        for engine in watchers.values():
            engine.dispose()
    result.seconds = time.perf_counter() - started
    result.rebuilt.sort(key=lambda r: list(until).index(r.service))
    return result


# --- comparing stores ---------------------------------------------------------------------


@dataclass(frozen=True)
class TableDiff:
    table: str
    left_rows: int
    right_rows: int
    only_left: int
    only_right: int
    differing: int
    examples: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not (self.only_left or self.only_right or self.differing)


def diff_stores(metadata: MetaData, left_url: str, right_url: str, *, examples: int = 3) -> list[TableDiff]:
    """Compare every table of a projection (its ``metadata``) in two stores, row by row by key."""
    left, right = create_engine(left_url), create_engine(right_url)
    try:
        # A table folded from sealed text is left empty by an auditor's rebuild (no keys): not compared.
        return [_diff_table(table, left, right, examples) for table in metadata.sorted_tables if not table.info.get(NEEDS_TEXT_KEYS)]
    finally:
        left.dispose()
        right.dispose()


def _rows(engine: Engine, table, columns, key) -> dict[tuple, tuple]:
    with engine.connect() as db:
        if not inspect(db).has_table(table.name):
            return {}
        result = db.execute(select(*[table.c[name] for name in columns]))
        width = len(key)
        return {tuple(row[:width]): tuple(row[width:]) for row in result}


def _diff_table(table, left: Engine, right: Engine, examples: int) -> TableDiff:
    ignored = IGNORED_COLUMNS.get(table.name, set())
    key = [column.name for column in table.primary_key.columns] or [c.name for c in table.columns]
    columns = key + [c.name for c in table.columns if c.name not in ignored and c.name not in key]
    ours, theirs = _rows(left, table, columns, key), _rows(right, table, columns, key)
    only_left = [k for k in ours if k not in theirs]
    only_right = [k for k in theirs if k not in ours]
    differing = [k for k in ours if k in theirs and ours[k] != theirs[k]]
    shown = [f"only left {_key(k)}" for k in only_left[:examples]] + [f"only right {_key(k)}" for k in only_right[:examples]]
    for k in differing[:examples]:
        changed = [name for name, a, b in zip(columns[len(key) :], ours[k], theirs[k], strict=True) if a != b]
        shown.append(f"{_key(k)}: {', '.join(changed)}")
    return TableDiff(table.name, len(ours), len(theirs), len(only_left), len(only_right), len(differing), tuple(shown))


def _key(key: Iterable[Any]) -> str:
    return "/".join(str(part) for part in key)


