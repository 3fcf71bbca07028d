"""(e) From filing to the safety officer: how long a new report takes to reach the officer's
inbox and the safety department's webhook, at a steady rate.

Intake, verification and notifications run as real processes (``hazardloop serve``) on
the bench's nats-server, each with its own SQLite store, configured as an operator
would: a directory listing the officer (``safety_department``) and a signed JSON webhook
hearing that role, on a receiver on loopback. Reports are filed over HTTP open-loop: each
request has a scheduled send time (``rate`` a second), is sent then whether or not earlier
answers came back, and every latency counts from that scheduled time, so a slow spell
shows as latency instead of lowering the offered rate.

The inbox is observed by reading notifications' SQLite store itself, read-only, every
5 ms, past the largest rowid seen: a primary-key range read that returns only new rows,
in a thread of the bench. Asking ``GET /inbox`` that often would put the officer's page
on the service's event loop 200 times a second, perturbing what is measured; the store
shows a message at the moment the API would (its transaction committed), and the 5 ms
poll adds 2.5 ms on average to each figure. The webhook receiver stamps each POST on
arrival, before reading its body.

``python -m bench.filing_latency --rate 20 --seconds 5`` is the quick run for development.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import perf_counter
from typing import Any

import httpx

from bench.intake_http import Service, report_bodies, seed_catalogue, wait_ready
from bench.stats import percentile
from bench.system import scratch_broker, services
from hazardloop.log.natsserver import free_port
from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import Authenticator, Role

STREAM = "BENCH_E_LATENCY"
PREFIX = "benchelatency"
TENANT = "refinery"
OFFICER = "safety-li"
TARGET_INBOX_P99_MS = 250.0
TARGET_WEBHOOK_P99_MS = 500.0
POLL_SECONDS = 0.005


class WebhookArrivals:
    """A loopback HTTP receiver that notes when each report's webhook POST arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: dict[str, float] = {}
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                arrived = perf_counter()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if body.get("kind") == "new_report":
                    arrivals.seen.setdefault(body["report_id"], arrived)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the sender opens up to 16 connections at once; the default backlog of 5 refuses some
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)

    @contextmanager
    def running(self) -> Iterator[WebhookArrivals]:
        thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join()


class InboxWatch:
    """Notes when each new-report message first shows in the officer's inbox (see the module)."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()

    def watch(self) -> None:
        while not self.database.exists() and not self.stop.wait(POLL_SECONDS):
            pass
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, check_same_thread=False)
        last = 0
        try:
            while not self.stop.wait(POLL_SECONDS):
                try:
                    rows = db.execute(
                        "SELECT rowid, report_id FROM notification_inbox WHERE rowid > ? AND box = ? AND kind = 'new_report'",
                        (last, f"@{OFFICER}"),
                    ).fetchall()
                except sqlite3.OperationalError:  # the table is not there yet
                    continue
                now = perf_counter()
                for rowid, report_id in rows:
                    self.seen.setdefault(report_id, now)
                    last = max(last, rowid)
        finally:
            db.close()

    @contextmanager
    def running(self) -> Iterator[InboxWatch]:
        thread = threading.Thread(target=self.watch, name="inbox-watch", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            thread.join()


async def configure(running: dict[str, Service], state: Path, webhook_url: str) -> str:
    """The officer and the webhook in the directory, as an operator sets them; a reporter's token."""
    settings = CommonSettings(state_dir=state)
    auth = Authenticator(settings.secret("jwt"), settings.tenants)
    manager = auth.issue("bench-manager", [TENANT], [Role.MANAGER])
    directory = {
        "people": [{"person": OFFICER, "roles": ["safety_department"]}],
        "endpoints": [{"endpoint": "ehs-system", "url": webhook_url, "format": "webhook", "roles": ["safety_department"]}],
    }
    async with httpx.AsyncClient(base_url=running["notifications"].url, headers={"Authorization": f"Bearer {manager}"}, timeout=30) as client:
        await wait_ready(client)
        (await client.post("/directory", params={"tenant": TENANT}, json=directory)).raise_for_status()
        for _ in range(300):  # the projection applies the entries a moment after they are appended
            listed = (await client.get("/directory", params={"tenant": TENANT})).json()
            if len(listed["people"]) == 1 and len(listed["endpoints"]) == 1:
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"the directory never showed its entries: {listed}")
    async with httpx.AsyncClient(base_url=running["verification"].url, timeout=30) as client:
        await wait_ready(client)
    await seed_catalogue(running["intake"], state)
    return auth.issue("bench-reporter", [TENANT], [Role.REPORTER])


CONNECTIONS = 64
"""Connections the sender keeps open; a request due while all are busy waits for one."""


async def file_open_loop(service: Service, token: str, rate: float, seconds: float) -> tuple[dict[str, float], dict[str, float], int]:
    """File ``rate`` reports a second for ``seconds``, each sent at its scheduled time.

    Each connection is its own ``httpx.AsyncClient``, handed out from a queue of free
    ones: one client with a pool of many connections spends time on every request in
    proportion to the requests waiting in it (encode/httpx#3215), which, with a backlog,
    made the sender itself the bottleneck. Returns each filed report's scheduled time and
    when its answer came, and the number of requests that failed.
    """
    bodies = report_bodies(16)
    scheduled: dict[str, float] = {}
    answered: dict[str, float] = {}
    failed = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncExitStack() as stack:
        free: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for _ in range(CONNECTIONS):
            free.put_nowait(await stack.enter_async_context(
                httpx.AsyncClient(base_url=service.url, headers=headers, timeout=30, limits=httpx.Limits(max_connections=1))))

        async def send(number: int, due: float) -> None:
            nonlocal failed
            client = await free.get()
            try:
                response = await client.post("/reports", json=bodies[number % len(bodies)])
            except httpx.HTTPError:
                failed += 1
                return
            finally:
                free.put_nowait(client)
            if response.status_code != 201:
                failed += 1
                return
            report = response.json()["report_id"]
            answered[report], scheduled[report] = perf_counter(), due

        for number in range(CONNECTIONS):  # open every connection and warm the first request's code paths, unmeasured
            client = await free.get()
            await client.post("/reports", json=bodies[number % len(bodies)])
            free.put_nowait(client)
        started = perf_counter()
        sending = []
        for number in range(round(rate * seconds)):
            due = started + number / rate
            if (wait := due - perf_counter()) > 0:
                await asyncio.sleep(wait)
            sending.append(asyncio.create_task(send(number, due)))
        await asyncio.gather(*sending)
    return scheduled, answered, failed


async def settle(scheduled: dict[str, float], watches: list[dict[str, float]], timeout: float) -> None:
    """Wait, bounded, until every filed report has arrived everywhere watched."""
    deadline = perf_counter() + timeout
    while perf_counter() < deadline and not all(scheduled.keys() <= seen.keys() for seen in watches):
        await asyncio.sleep(0.05)


def outbox(database: Path, reports: set[str]) -> list[dict[str, Any]]:
    """Where the webhooks that never arrived stand in notifications' outbox (why, if it says)."""
    if not reports:
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        marks = ",".join("?" * len(reports))
        rows = db.execute(
            f"SELECT report_id, status, attempts, error FROM notification_deliveries WHERE format = 'webhook' AND report_id IN ({marks})",
            sorted(reports),
        ).fetchall()
    return [{"report_id": r, "status": s, "attempts": a, "error": e} for r, s, a, e in rows]


def figures(scheduled: dict[str, float], answered: dict[str, float], seen: dict[str, float], target_ms: float) -> dict[str, Any]:
    """Latency from each report's scheduled send time, and from its answer: the second is
    what the services downstream of intake add, the difference the wait for intake itself."""
    latencies = [(seen[report] - due) * 1000 for report, due in scheduled.items() if report in seen]
    downstream = [(seen[report] - answered[report]) * 1000 for report in scheduled if report in seen]
    p99 = percentile(latencies, 0.99)
    return {"arrived": len(latencies), "missing": len(scheduled) - len(latencies), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": p99, "max_ms": max(latencies, default=float("nan")),
            "after_answer_p50_ms": percentile(downstream, 0.5), "after_answer_p99_ms": percentile(downstream, 0.99),
            "target_p99_ms": target_ms, "met": bool(latencies) and len(latencies) == len(scheduled) and p99 < target_ms}


def measure(nats_url: str, state: Path, rate: float = 100.0, seconds: float = 30.0) -> dict[str, Any]:
    """Run the three services, file at ``rate`` for ``seconds``, and time each report's arrivals."""
    with WebhookArrivals().running() as hooks, services(nats_url, state, STREAM, PREFIX) as running:
        token = asyncio.run(configure(running, state, f"http://127.0.0.1:{hooks.port}/hazardloop"))
        with InboxWatch(state / "notifications.db").running() as inbox:

            async def run() -> tuple[dict[str, float], dict[str, float], int]:
                sent = await file_open_loop(running["intake"], token, rate, seconds)
                await settle(sent[0], [inbox.seen, hooks.seen], timeout=30.0)
                return sent

            scheduled, answered, failed = asyncio.run(run())
        notifications_ms = {
            "inbox": figures(scheduled, answered, inbox.seen, TARGET_INBOX_P99_MS),
            "webhook": figures(scheduled, answered, hooks.seen, TARGET_WEBHOOK_P99_MS)
            | {"not_arrived": outbox(state / "notifications.db", scheduled.keys() - hooks.seen.keys())},
        }
    waited = [(answered[report] - due) * 1000 for report, due in scheduled.items()]
    return {
        "rate_per_second": rate,
        "seconds": seconds,
        "offered": round(rate * seconds),
        "filed": len(scheduled),
        "failed": failed,
        "filing": {"p50_ms": percentile(waited, 0.5), "p99_ms": percentile(waited, 0.99)},
        **notifications_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="reports filed a second")
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    with scratch_broker("latency") as (nats_url, state):
        result = measure(nats_url, state, options.rate, options.seconds)
    print(f"{result['filed']:,} of {result['offered']:,} reports filed at {result['rate_per_second']:.0f}/s, {result['failed']} failed; "
          f"answered p50 {result['filing']['p50_ms']:.1f} / p99 {result['filing']['p99_ms']:.1f} ms")
    for place in ("inbox", "webhook"):
        figures = result[place]
        print(f"  {place:<8} p50 {figures['p50_ms']:8.1f} ms  p99 {figures['p99_ms']:8.1f} ms  max {figures['max_ms']:8.1f} ms  "
              f"(after the answer p50 {figures['after_answer_p50_ms']:.1f} / p99 {figures['after_answer_p99_ms']:.1f} ms; "
              f"{figures['arrived']:,} arrived, target p99 < {figures['target_p99_ms']:.0f} ms: {'met' if figures['met'] else 'not met'})")


if __name__ == "__main__":
    main()
