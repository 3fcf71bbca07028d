"""(b) Projection rebuild into SQLite vs. a raw ordered consumer reading the same stream.

The stream is filled the way the services fill it: guarded ``append_many`` calls of
about 5,000 events, each call mixing filings, verifications, rectifications and
rewards of different reports, so replay sees interleaved event types.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

import nats
from sqlalchemy import Engine, text

from bench.fixtures import Lifecycle
from bench.stats import rate
from hazardloop.db import create_store_engine
from hazardloop.eventstore import EventStore
from hazardloop.projection import Projection, ProjectionRunner

STAGES = 4
"""Events per report: filed, verified, rectified, reward granted."""


@dataclass(frozen=True, slots=True)
class Check:
    """A row count that proves the rebuilt read model is complete, not just fast."""

    query: str
    expected: int


def fill_calls(reports: list[Lifecycle], chunk: int) -> list[list[tuple[int, int]]]:
    """Plan append calls as a pipeline: call k files block k, verifies block k-1, ...

    Returns (report index, stage) pairs per call; a call never holds two events of
    one aggregate, as ``append_many`` requires.
    """
    block = max(1, chunk // STAGES)
    blocks = [range(start, min(start + block, len(reports))) for start in range(0, len(reports), block)]
    calls = []
    for k in range(len(blocks) + STAGES - 1):
        calls.append([(i, stage) for stage in range(STAGES) if 0 <= k - stage < len(blocks) for i in blocks[k - stage]])
    return calls


async def fill(store: EventStore, reports: list[Lifecycle], *, chunk: int = 5000, seed: int = 3) -> int:
    """Append every lifecycle with guarded ``append_many``; returns the last sequence."""
    rng = random.Random(seed)
    sequence: dict[tuple[int, int], int] = {}
    for call in fill_calls(reports, chunk):
        rng.shuffle(call)  # live traffic interleaves event types
        items = [(reports[i].stages[stage], _expected(sequence, i, stage)) for i, stage in call]
        for key, appended in zip(call, await store.append_many(items), strict=True):
            sequence[key] = appended.sequence
    return await store.last_sequence()


def _expected(sequence: dict[tuple[int, int], int], report: int, stage: int) -> int:
    """The report aggregate's last sequence; the reward aggregate starts at 0."""
    if stage in (0, 3):
        return 0
    return sequence[(report, stage - 1)]


async def rebuild_run(
    url: str, factory: Callable[[EventStore], Projection], db_file: Path, checks: list[Check]
) -> tuple[float, int]:
    """Events/s of ``ProjectionRunner.rebuild`` into a fresh SQLite file."""
    engine = create_store_engine(f"sqlite:///{db_file}")
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        store = EventStore(js)
        runner = ProjectionRunner(factory(store), engine, store, batch_size=1000, react=False)
        started = perf_counter()
        applied = await runner.rebuild(js)
        elapsed = perf_counter() - started
        verify(engine, checks + [Check("SELECT position FROM projection_checkpoint", await store.last_sequence())])
    finally:
        await nc.close()
        engine.dispose()
    return rate(applied, elapsed), applied


def verify(engine: Engine, checks: list[Check]) -> None:
    with engine.connect() as db:
        for check in checks:
            found = db.execute(text(check.query)).scalar()
            if found != check.expected:
                raise RuntimeError(f"rebuilt read model is wrong: {check.query} -> {found}, expected {check.expected}")


async def raw_run(url: str, stream: str, subject: str, total: int) -> float:
    """Messages/s of a nats-py ordered consumer counting the whole stream."""
    nc = await nats.connect(url)
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
        await asyncio.wait_for(done.wait(), timeout=120)
        elapsed = perf_counter() - started
        await subscription.unsubscribe()
    finally:
        await nc.close()
    return rate(total, elapsed)


async def prepare_stream(url: str, reports: list[Lifecycle]) -> int:
    """Fill the default event-log stream; returns how many events it holds."""
    nc = await nats.connect(url)
    try:
        store = EventStore(nc.jetstream(), timeout=10.0)
        await store.ensure_stream()
        return await fill(store, reports)
    finally:
        await nc.close()


async def measure(
    url: str, projections: dict[str, tuple[Callable[[EventStore], Projection], list[Check]]], workdir: Path, runs: int
) -> dict[str, Any]:
    """Median-ready rates per projection and for the raw consumer, alternating sides."""
    total = await _stream_size(url)
    log = EventStore(None)  # type: ignore[arg-type]  # only its stream and subject names
    results: dict[str, list[float]] = {name: [] for name in [*projections, "raw"]}
    for index in range(runs):
        results["raw"].append(await raw_run(url, log.stream, log.subjects.all, total))
        for name, (factory, checks) in projections.items():
            speed, applied = await rebuild_run(url, factory, workdir / f"{name}-{index}.db", checks)
            if applied != total:
                raise RuntimeError(f"{name} rebuild applied {applied} of {total} events")
            results[name].append(speed)
    return {"events": total, "rates": results}


async def _stream_size(url: str) -> int:
    nc = await nats.connect(url)
    try:
        return await EventStore(nc.jetstream()).last_sequence()
    finally:
        await nc.close()
