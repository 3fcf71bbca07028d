"""(b) Projection rebuild into SQLite vs. a raw ordered consumer reading the same stream.

The stream is filled the way the services fill it: guarded ``append_many`` calls of
about 5,000 events, each call mixing filings, verifications, rectifications and
rewards of different reports, so replay sees interleaved event types.

A rebuild is watched rather than awaited blindly: messages the client drops as a
slow consumer are counted, a rebuild that stops making progress is cancelled, and
the rebuilt store is checked row by row, so a fast but wrong replay cannot pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import Any

import nats
import nats.errors
from sqlalchemy import Engine, text

from bench.fixtures import Lifecycle
from bench.stats import rate
from hazardloop.log.eventstore import EventStore
from hazardloop.projections import Projection, ProjectionRunner, Writer
from hazardloop.projections.collector import bulk_collection
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import Apply
from hazardloop.projections.replay import rebuild
from hazardloop.runtime.settings import CommonSettings

STAGE_TYPES = ("ReportFiled", "Verified", "Rectified", "RewardGranted")
STAGES = len(STAGE_TYPES)
"""Events per report: filed, verified, rectified, reward granted."""
BATCH_SIZE: int = CommonSettings.model_fields["rebuild_batch_size"].default
"""Events per commit: a service's rebuild, as configured by default."""
STALL_SECONDS = 5.0
"""A rebuild whose checkpoint has not moved for this long is declared hung."""
RUN_LIMIT_SECONDS = 60.0

ProjectionFactory = Callable[[EventStore], Projection]


@dataclass(frozen=True, slots=True)
class Check:
    """A query whose answer proves the rebuilt read model is complete, not just fast."""

    query: str
    expected: int


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    factory: ProjectionFactory
    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class RebuildRun:
    ok: bool
    rate: float
    """Events applied per second of progress (up to the hang, for a failed run)."""
    applied: int
    """Handler calls; a complete rebuild applies every event in the log exactly once."""
    seconds: float
    dropped: int
    """Messages nats-py discarded as a slow consumer during the rebuild."""
    dead_letters: int
    problem: str | None = None


class Trouble(logging.Handler):
    """Notices the runner's first warning (a failed batch): what follows is retries."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is None:
            self.first = record.getMessage()

    @contextmanager
    def watching(self, logger: logging.Logger) -> Iterator[Trouble]:
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)


class Applied:
    """Counts handler calls: after lost messages the checkpoint overstates the work done.

    The wrapper adds one Python call per event (well under 1% of an apply).
    """

    def __init__(self) -> None:
        self.count = 0

    def wrap(self, projection: Projection) -> Projection:
        return replace(projection, handlers={kind: self._counting(h) for kind, h in projection.handlers.items()})

    def _counting(self, handler: Apply) -> Apply:
        def counted(event: Any, writer: Writer) -> None:
            handler(event, writer)
            self.count += 1

        return counted


class ClientErrors:
    """``error_cb`` for nats-py: counts slow-consumer drops instead of printing each."""

    def __init__(self) -> None:
        self.dropped = 0
        self.other: list[str] = []

    async def record(self, error: Exception) -> None:
        if isinstance(error, nats.errors.SlowConsumerError):
            self.dropped += 1
        else:
            self.other.append(repr(error))


def fill_calls(reports: int, chunk: int) -> list[list[tuple[int, int]]]:
    """Plan append calls as a pipeline: call k files block k, verifies block k-1, ...

    Returns (report index, stage) pairs per call; a call never holds two events of
    one aggregate, as ``append_many`` requires.
    """
    block = max(1, chunk // STAGES)
    blocks = [range(start, min(start + block, reports)) for start in range(0, reports, block)]
    return [
        [(i, stage) for stage in range(STAGES) if 0 <= k - stage < len(blocks) for i in blocks[k - stage]]
        for k in range(len(blocks) + STAGES - 1)
    ]


def _expected(sequence: dict[tuple[int, int], int], report: int, stage: int) -> int:
    """The report aggregate's last sequence; the reward aggregate starts at 0."""
    return 0 if stage in (0, STAGES - 1) else sequence[(report, stage - 1)]


async def fill(store: EventStore, reports: list[Lifecycle], *, chunk: int = 5000, seed: int = 3) -> int:
    """Append every lifecycle with guarded ``append_many``; returns the last sequence."""
    rng = random.Random(seed)
    sequence: dict[tuple[int, int], int] = {}
    for call in fill_calls(len(reports), chunk):
        rng.shuffle(call)  # live traffic interleaves event types
        items = [(reports[i].stages[stage], _expected(sequence, i, stage)) for i, stage in call]
        for key, appended in zip(call, await store.append_many(items), strict=True):
            sequence[key] = appended.sequence
    return await store.last_sequence()


async def prepare_stream(url: str, reports: list[Lifecycle]) -> int:
    """Fill the default event-log stream; returns how many events it holds."""
    nc = await nats.connect(url)
    try:
        store = EventStore(nc, timeout=10.0)
        await store.ensure_stream()
        return await fill(store, reports)
    finally:
        await nc.close()


async def watch(task: asyncio.Task[int], runner: ProjectionRunner, trouble: Trouble, started: float) -> float:
    """Wait for the rebuild; cancel it once it stalls or starts failing batches.

    Returns when the last event was applied, so a failed run still yields the rate
    it kept until then, not one diluted by the wait that detected the failure.
    """
    position, progressed = runner.position, started
    while not task.done():
        await asyncio.wait({task}, timeout=0.25)
        now = perf_counter()
        if runner.position != position:
            position, progressed = runner.position, now
        stalled = now - progressed > STALL_SECONDS or now - started > RUN_LIMIT_SECONDS
        if not task.done() and (stalled or trouble.first is not None):
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return perf_counter() if not task.cancelled() else progressed


async def cancel_strays(before: set[asyncio.Task[Any]]) -> None:
    """Cancel any task a cancelled rebuild left behind, so none runs into the next measurement."""
    strays = asyncio.all_tasks() - before - {asyncio.current_task()}
    for stray in strays:
        stray.cancel()
    await asyncio.gather(*strays, return_exceptions=True)


async def rebuild_run(url: str, target: Target, db_file: Path, total: int) -> RebuildRun:
    """Time a rebuild into a fresh SQLite file, as ``hazardloop replay`` runs it, then check the result."""
    engine = create_store_engine(f"sqlite:///{db_file}")
    errors = ClientErrors()
    nc = await nats.connect(url, error_cb=errors.record)
    try:
        store = EventStore(nc)
        applied = Applied()
        projection = applied.wrap(target.factory(store))
        runner = ProjectionRunner(projection, engine, store, rebuild_batch_size=BATCH_SIZE, react=False)
        before = asyncio.all_tasks()
        with Trouble().watching(logging.getLogger("hazardloop.projections")) as trouble, bulk_collection:
            started = perf_counter()
            task = asyncio.create_task(rebuild(runner, nc))
            finished = await watch(task, runner, trouble, started)
        await cancel_strays(before)
        read = total // STAGES * sum(kind in projection.event_types for kind in STAGE_TYPES)  # the events of its subjects
        problem = _problem(task, runner, read, errors, trouble) or verify(engine, [*target.checks, _checkpoint(total)])
        seconds = finished - started
        return RebuildRun(
            problem is None,
            rate(applied.count, seconds),
            applied.count,
            seconds,
            errors.dropped,
            dead_letters(engine),
            problem,
        )
    finally:
        await nc.close()
        engine.dispose()  # a cancelled rebuild has already finished the commit it had in flight


def _problem(
    task: asyncio.Task[int], runner: ProjectionRunner, total: int, errors: ClientErrors, trouble: Trouble
) -> str | None:
    if task.cancelled() and trouble.first is not None:
        return f"stopped at {runner.position:,}/{total:,}: the runner logged {trouble.first!r}"
    if task.cancelled():
        return f"hung at {runner.position:,}/{total:,} (no progress for {STALL_SECONDS:.0f}s)"
    if task.exception() is not None:
        return f"rebuild raised {task.exception()!r}"
    if task.result() != total:
        return f"rebuild reported {task.result():,} events applied, the log holds {total:,} of its kinds"
    if errors.dropped:
        return f"nats-py dropped {errors.dropped:,} messages (slow consumer)"
    if errors.other:
        return f"client errors: {errors.other[0]}"
    return None


def _checkpoint(total: int) -> Check:
    return Check("SELECT position FROM projection_checkpoint", total)


def verify(engine: Engine, checks: list[Check]) -> str | None:
    """The first check the rebuilt store fails, described; None when all pass."""
    with engine.connect() as db:
        for check in checks:
            found = db.execute(text(check.query)).scalar()
            if found != check.expected:
                return f"read model wrong: {check.query} -> {found}, expected {check.expected}"
    return None


def dead_letters(engine: Engine) -> int:
    with engine.connect() as db:
        return db.execute(text("SELECT count(*) FROM dead_letter")).scalar() or 0


async def raw_run(url: str, stream: str, subject: str, total: int) -> float:
    """Messages/s of a nats-py ordered consumer counting the whole stream."""
    errors = ClientErrors()
    nc = await nats.connect(url, error_cb=errors.record)
    done = asyncio.Event()
    seen = 0

    async def count(_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen >= total:
            done.set()

    try:
        js = nc.jetstream()
        started = perf_counter()
        subscription = await js.subscribe(subject, ordered_consumer=True, cb=count, stream=stream)
        await asyncio.wait_for(done.wait(), timeout=RUN_LIMIT_SECONDS)
        elapsed = perf_counter() - started
        await subscription.unsubscribe()
    finally:
        await nc.close()
    if errors.dropped or errors.other:
        raise RuntimeError(f"baseline consumer lost messages: {errors.dropped} dropped, {errors.other[:1]}")
    return rate(total, elapsed)


async def stream_size(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return await EventStore(nc).last_sequence()
    finally:
        await nc.close()


async def measure(url: str, targets: list[Target], workdir: Path, runs: int) -> dict[str, Any]:
    """Per-run figures for each projection and for the raw consumer.

    A projection whose first run fails is not run again: the failure is the result,
    and repeating a hang only spends the time budget.
    """
    total = await stream_size(url)
    log = EventStore(None)  # type: ignore[arg-type]  # only for the stream and subject names
    raw: list[float] = []
    rebuilds: dict[str, list[dict[str, Any]]] = {target.name: [] for target in targets}
    for index in range(runs):
        raw.append(await raw_run(url, log.stream, log.subjects.all, total))
        for target in targets:
            done = rebuilds[target.name]
            if all(run["ok"] for run in done):
                done.append(asdict(await rebuild_run(url, target, workdir / f"{target.name}-{index}.db", total)))
    return {"events": total, "raw": raw, "rebuilds": rebuilds}
