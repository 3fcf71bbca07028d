"""(h) The reads people make every day, with 100,000 reports in the stores: a report's page
(intake's ``GET /reports/{id}``), a reporter's inbox (notifications' ``GET /inbox``) and the
officer's triage queue (verification's ``GET /queue``), each beside its own service's
``/healthz`` as the baseline.

Intake, verification and notifications run as real processes. The stores are filled the
way they fill in production, from the log, but fast: the reports' events (a quarter of the
reports only filed, a quarter verified, a quarter rectified, a quarter also rewarded) are
published pipelined, each guarded as an append is, with the services stopped, and
``hazardloop replay`` rebuilds their stores (a small log is appended through the event
store and taken in live); the generated messages are kept on disk between runs under the
generator's key. No report is filed over HTTP but the one that gives the bench's reporter
a pseudonym; twenty reports generated in each run then carry it. Each route is then asked by one client
in turn (interleaved, so a slow spell of the shared machine hits all alike): the times are
those a client on loopback sees, so the baseline's time is the floor of HTTP, the client
and the framework.

``python -m bench.read_paths --reports 5000`` is the quick run for development.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import random
import sqlite3
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import httpx
import nats

from bench import archive
from bench.fixtures import TENANTS, Lifecycle, lifecycle, reporters
from bench.intake_http import Service, report_bodies, seed_catalogue, wait_ready
from bench.stats import percentile
from bench.system import rebuild_stores, scratch_broker, services
from hazardloop.events import Event, encode_event
from hazardloop.log.eventstore import EventStore, Subjects, cloudevents_headers
from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import Authenticator, Role

STREAM = "BENCH_H_READS"
PREFIX = "benchhreads"
TENANT = "refinery"
MINE = 20
"""Reports of the bench's reporter among the generated ones: their inbox holds ~50 messages."""
TARGET_P95_MS = 20.0
CHUNK = 5_000
REBUILD_FROM = 20_000
"""Logs of this many reports or more are taken in by a rebuild rather than live."""
STORES = {  # how many rows show that a service has taken in every generated report
    "intake": ("intake.db", "SELECT count(*) FROM intake_reports"),
    "verification": ("verification.db", "SELECT count(*) FROM verification_cases"),
    "notifications": ("notifications.db", "SELECT count(*) FROM notification_reports"),
}


def generate(count: int, seed: int = 6) -> list[tuple[Lifecycle, int]]:
    """``count`` reports of many reporters, each with how many of its four events happened
    (a quarter each of one to four)."""
    rng, now = random.Random(seed), datetime.now(UTC)
    people = reporters(max(1, count // 20), rng)
    return [(lifecycle(rng, rng.choice(people), now), 1 + number % 4) for number in range(count)]


def own(mine: str, seed: int = 8) -> list[tuple[Lifecycle, int]]:
    """The bench reporter's ``MINE`` reports in ``TENANT``, at every stage alike."""
    rng, now = random.Random(seed), datetime.now(UTC)
    return [(lifecycle(rng, mine, now, tenant=TENANT), 1 + number % 4) for number in range(MINE)]


def in_log_order(reports: list[tuple[Lifecycle, int]]) -> list[tuple[Event, int | None]]:
    """Every event, stage by stage, each with the index of the event its append must follow
    on its aggregate (None: the first of its aggregate; a reward is an aggregate of its own)."""
    ordered: list[tuple[Event, int | None]] = []
    last: dict[str, int] = {}
    for stage in range(4):
        for life, stages in reports:
            if stage < stages:
                event = life.stages[stage]
                ordered.append((event, None if stage in (0, 3) else last[life.filed.aggregate_id]))
                last[life.filed.aggregate_id] = len(ordered) - 1
    return ordered


async def append(nats_url: str, reports: list[tuple[Lifecycle, int]]) -> int:
    """Append every report's events through the event store, stage by stage, each guarded
    by its aggregate's last sequence; returns how many were appended."""
    connection = await nats.connect(nats_url)
    try:
        store = EventStore(connection, stream=STREAM, subjects=Subjects(PREFIX), timeout=30.0)
        await store.ensure_stream()
        ordered = in_log_order(reports)
        sequences: list[int] = []
        batch: list[tuple[Event, int | None]] = []

        async def flush() -> None:
            items = [(event, 0 if after is None else sequences[after]) for event, after in batch]
            sequences.extend(done.sequence for done in await store.append_many(items))
            batch.clear()

        for event, after in ordered:
            if len(batch) == CHUNK or (after is not None and after >= len(sequences)):  # it follows an event not sent yet
                await flush()
            batch.append((event, after))
        await flush()
        return len(ordered)
    finally:
        await connection.close()


Message = tuple[str, bytes, dict[str, str], int | None]
"""A stored event as sent: subject, payload, headers but the expected sequence, and the
index of the message it follows on its aggregate."""


def bulk_messages(count: int, seed: int = 6) -> list[Message]:
    """Everyone's reports but the bench reporter's, as messages; kept on disk between runs
    under the generator's key (like (d)'s archive), since building and hashing a hundred
    thousand reports' events costs a minute and is the same every time."""
    kept = archive.CACHE_DIR / f"reads-{archive.generator_key(count, seed, Path(__file__))}.pickle"
    if kept.exists():
        return pickle.loads(kept.read_bytes())
    subjects = Subjects(PREFIX)
    messages = [
        (subjects.of(event), encode_event(event), {
            "Nats-Msg-Id": str(event.event_id),
            "Nats-Expected-Stream": STREAM,
            "Nats-Expected-Last-Subject-Sequence-Subject": subjects.aggregate(event.tenant, event.aggregate_type, event.aggregate_id),
            **cloudevents_headers(event, "hazardloop/bench"),
        }, after)
        for event, after in in_log_order(generate(count, seed))
    ]
    kept.parent.mkdir(parents=True, exist_ok=True)
    for stale in kept.parent.glob("reads-*.pickle"):
        stale.unlink()
    partial = kept.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(messages, protocol=pickle.HIGHEST_PROTOCOL))
    partial.rename(kept)
    return messages


async def publish(nats_url: str, messages: list[Message]) -> int:
    """Pipelined raw publishes, each guarded as the store guards an append: the stream has
    no other writer meanwhile (the services are stopped), so a message's sequence is the
    stream's last before the first plus its place, and its aggregate's last is known."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream(publish_async_max_pending=4096)
        offset = (await js.stream_info(STREAM)).state.last_seq + 1
        futures = [
            await js.publish_async(subject, payload, headers=headers | {
                "Nats-Expected-Last-Subject-Sequence": str(0 if after is None else offset + after)})
            for subject, payload, headers, after in messages
        ]
        await asyncio.wait_for(js.publish_async_completed(), timeout=600)
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(messages)} publishes refused: {failed[0]!r}")
        return len(messages)
    finally:
        await connection.close()


async def caught_up(running: dict[str, Service], state: Path, reports: int, timeout: float) -> None:
    """Wait, bounded, until every service is ready and its store holds every report."""
    for service in running.values():
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            await wait_ready(client)
    started = perf_counter()
    pending = dict(STORES)
    while pending:
        for service, (file, query) in list(pending.items()):
            try:
                with sqlite3.connect(f"file:{state / file}?mode=ro", uri=True) as db:
                    if db.execute(query).fetchone()[0] >= reports:
                        del pending[service]
            except sqlite3.OperationalError:  # not created yet
                pass
        if perf_counter() - started > timeout:
            raise RuntimeError(f"not caught up after {timeout:.0f}s: {', '.join(pending)}")
        await asyncio.sleep(0.2)


async def delivered(state: Path, timeout: float) -> float:
    """Wait, bounded, until notifications has recorded every inbox message as delivered; the
    seconds it took.

    The generated log holds no ``NotificationSent``, which a real log holds for every message
    delivered, so after the rebuild every inbox message is pending and the sender records
    them, 500 a round, in the log. Timing the reads meanwhile would time that catch-up, not
    the reads of a store at rest.
    """
    started = perf_counter()
    query = "SELECT count(*) FROM notification_inbox WHERE status = 'pending'"
    while True:
        with sqlite3.connect(f"file:{state / 'notifications.db'}?mode=ro", uri=True) as db:
            if db.execute(query).fetchone()[0] == 0:
                return perf_counter() - started
        if perf_counter() - started > timeout:
            raise RuntimeError(f"inbox messages still pending after {timeout:.0f}s")
        await asyncio.sleep(0.5)


async def reporter_pseudonym(intake: Service, token: str) -> str:
    """File one report as the bench's reporter: intake gives them their pseudonym, which the
    report's page shows to them."""
    async with httpx.AsyncClient(base_url=intake.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        filed = (await client.post("/reports", json=report_bodies(1)[0])).raise_for_status().json()
        for _ in range(600):  # intake's projection shows the report a moment after it is filed
            response = await client.get(f"/reports/{filed['report_id']}")
            if response.status_code != 404:
                return response.raise_for_status().json()["reporter"]
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the report filed as the bench's reporter never showed: {filed['report_id']}")


async def time_routes(routes: dict[str, tuple[Service, Any, dict[str, str]]], requests: int, seconds: float) -> dict[str, list[float]]:
    """Milliseconds per request of each route, asked in turn; a route is ``(service, path
    or a function of the round giving it, headers)``."""
    timings: dict[str, list[float]] = {name: [] for name in routes}
    async with httpx.AsyncClient(timeout=30) as client:

        async def ask(name: str, number: int) -> float:
            service, path, headers = routes[name]
            started = perf_counter()
            response = await client.get(service.url + (path(number) if callable(path) else path), headers=headers)
            spent = (perf_counter() - started) * 1000
            response.raise_for_status()
            return spent

        for name in routes:  # warm up: connections open, first-request code paths run
            await ask(name, 0)
        deadline = perf_counter() + seconds
        for number in range(requests):
            for name in routes:
                timings[name].append(await ask(name, number))
            if perf_counter() > deadline:
                break
    return timings


def measure(nats_url: str, state: Path, reports: int, requests: int = 300, seconds: float = 30.0) -> dict[str, Any]:
    """Fill the three services' stores with ``reports`` reports from the log, then time the reads.

    A large log is taken in by ``hazardloop replay`` with the services stopped (a rebuild
    runs several times faster than live consumption, which also reacts to each event); a
    small one by the running services themselves, sparing two starts of three processes.
    """
    settings = CommonSettings(state_dir=state)
    state.mkdir(parents=True, exist_ok=True)
    auth = Authenticator(settings.secret("jwt"), settings.tenants)
    reporter = {"Authorization": f"Bearer {auth.issue('bench-reporter', [TENANT], [Role.REPORTER])}"}
    officer = {"Authorization": f"Bearer {auth.issue('bench-officer', list(TENANTS), [Role.VERIFIER])}"}
    rebuild = reports >= REBUILD_FROM
    with ExitStack() as stack:
        running = stack.enter_context(services(nats_url, state, STREAM, PREFIX))
        mine = asyncio.run(first_filing(running, state, reporter))  # the log's buckets exist now, and a pseudonym
        started = perf_counter()
        if rebuild:
            stack.close()
            bulk = bulk_messages(reports - MINE)
            appended = asyncio.run(publish(nats_url, bulk)) + asyncio.run(append(nats_url, own(mine)))
            ids = [subject.rsplit(".", 2)[-2] for subject, _, _, _ in bulk if subject.endswith(".ReportFiled")]
            del bulk
        else:
            made = generate(reports - MINE)
            ids = [life.filed.aggregate_id for life, _ in made]
            appended = asyncio.run(append(nats_url, made + own(mine)))
            del made
        if rebuild:
            rebuild_stores(nats_url, state, STREAM, PREFIX)
            running = stack.enter_context(services(nats_url, state, STREAM, PREFIX))
        asyncio.run(caught_up(running, state, reports + 1, timeout=600))
        filled = perf_counter() - started
        drained = asyncio.run(delivered(state, timeout=900))
        shuffled = random.Random(7).sample(ids, len(ids))
        routes = {
            "report page": (running["intake"], lambda n: f"/reports/{shuffled[n % len(shuffled)]}", officer),
            "intake /healthz (baseline)": (running["intake"], "/healthz", {}),
            "reporter's inbox": (running["notifications"], "/inbox", reporter),
            "notifications /healthz (baseline)": (running["notifications"], "/healthz", {}),
            "officer's queue": (running["verification"], f"/queue?tenant={TENANT}", officer),
            "verification /healthz (baseline)": (running["verification"], "/healthz", {}),
        }
        timings = asyncio.run(time_routes(routes, requests, seconds))
    reads = {}
    for name, ms in timings.items():
        baseline = "baseline" in name
        p95 = percentile(ms, 0.95)
        reads[name] = {"requests": len(ms), "p50_ms": percentile(ms, 0.5), "p95_ms": p95,
                       "target_p95_ms": None if baseline else TARGET_P95_MS, "met": None if baseline else p95 < TARGET_P95_MS}
    return {"reports": reports, "events": appended, "filled_by": "hazardloop replay" if rebuild else "the running services",
            "fill_seconds": filled, "drain_seconds": drained, "reads": reads}


async def first_filing(running: dict[str, Service], state: Path, reporter: dict[str, str]) -> str:
    """The catalogue seeded and one report filed: the bench's reporter's pseudonym."""
    await caught_up(running, state, 0, timeout=60)
    await seed_catalogue(running["intake"], state)
    return await reporter_pseudonym(running["intake"], reporter["Authorization"].split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    with scratch_broker("reads") as (nats_url, state):
        result = measure(nats_url, state, options.reports, options.requests)
    print(f"{result['reports']:,} reports, {result['events']:,} events, in the stores in {result['fill_seconds']:.1f}s"
          f" (the inbox's deliveries recorded {result['drain_seconds']:.1f}s later)")
    for name, figures in result["reads"].items():
        print(f"  {name:<36} p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  ({figures['requests']} requests)")


if __name__ == "__main__":
    main()
