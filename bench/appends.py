"""(a) Guarded, pipelined appends vs. raw ``publish_async`` of the same bytes and headers.

Each run writes to a stream of its own (created before, deleted after the clock), so
every append targets a new aggregate and neither side deduplicates or conflicts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from time import perf_counter

import nats
from nats.aio.client import Client

from bench.stats import rate
from hazardloop.events import Event, encode_event
from hazardloop.log.eventstore import EventStore, Subjects

MAX_IN_FLIGHT = 8192
"""The store's own pipeline window; the baseline gets the same so only the code differs."""


@dataclass(frozen=True, slots=True)
class Prepared:
    subject: str
    payload: bytes
    headers: dict[str, str]


def scratch_store(nc: Client, name: str) -> EventStore:
    """An event store on a stream and subject prefix nobody else in the run uses."""
    return EventStore(nc, stream=name.upper(), subjects=Subjects(name.lower()), timeout=10.0)


async def store_run(url: str, events: list[Event], name: str) -> float:
    """Appends/s through ``EventStore.append_many`` at ``expected_version=0``."""
    nc = await nats.connect(url)
    try:
        store = scratch_store(nc, name)
        await store.ensure_stream()
        items = [(event, 0) for event in events]
        started = perf_counter()
        appended = await store.append_many(items)
        elapsed = perf_counter() - started
        if len(appended) != len(events) or any(a.duplicate for a in appended):
            raise RuntimeError(f"{name}: expected {len(events)} fresh appends")
        await nc.jetstream().delete_stream(store.stream)
    finally:
        await nc.close()
    return rate(len(events), elapsed)


def prepare(store: EventStore, events: list[Event]) -> list[Prepared]:
    """The exact subject, payload and headers the store would send (built untimed)."""
    return [Prepared(store.subjects.of(e), encode_event(e), store._headers(e, 0)) for e in events]  # noqa: SLF001


async def raw_run(url: str, events: list[Event], name: str) -> float:
    """Appends/s of nats-py ``publish_async`` + ``publish_async_completed``."""
    nc = await nats.connect(url)
    try:
        store = scratch_store(nc, name)
        await store.ensure_stream()
        messages = prepare(store, events)
        js = nc.jetstream(publish_async_max_pending=MAX_IN_FLIGHT)
        started = perf_counter()
        futures = [await js.publish_async(m.subject, m.payload, headers=m.headers) for m in messages]
        await asyncio.wait_for(js.publish_async_completed(), timeout=60)
        elapsed = perf_counter() - started
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            raise RuntimeError(f"{name}: {len(failed)} baseline publishes failed: {failed[0]!r}")
        await js.delete_stream(store.stream)
    finally:
        await nc.close()
    return rate(len(events), elapsed)


async def measure(url: str, events: list[Event], runs: int) -> dict[str, list[float]]:
    """Alternate store and baseline runs so drift on the box hits both alike."""
    store_rates: list[float] = []
    raw_rates: list[float] = []
    for index in range(runs):
        pair = [("store", store_run, store_rates), ("raw", raw_run, raw_rates)]
        for side, run, sink in pair if index % 2 == 0 else reversed(pair):
            sink.append(await run(url, events, f"bench_a_{side}_{index}"))
    return {"store": store_rates, "raw": raw_rates}
