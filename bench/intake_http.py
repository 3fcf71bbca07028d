"""(c) ``POST /reports`` over real HTTP to a real intake process vs. raw ``js.publish``.

The service gets a stream and subject prefix of its own, so its live projection sees
only the reports filed here and not the replay section's log.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats

from bench.fixtures import AREAS, HAZARDS, SITES, filings
from bench.load import LoadResult, drive
from hazardloop.events import encode_event
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.natsserver import free_port
from hazardloop.runtime.settings import CommonSettings
from hazardloop.web.auth import Authenticator, Role

REPOSITORY = Path(__file__).resolve().parent.parent
SERVICE_STREAM = "BENCH_C_SERVICE"
SERVICE_PREFIX = "benchcservice"
BASELINE_STREAM = "BENCH_C_RAW"
BASELINE_PREFIX = "benchcraw"
TENANT = "refinery"


def service_env(nats_url: str, state_dir: Path, port: int) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k != "HAZARDLOOP_INTAKE_DATABASE_URL"}
    return {
        **inherited,
        "NATS_URL": nats_url,
        "HAZARDLOOP_STATE_DIR": str(state_dir),
        "HAZARDLOOP_INTAKE_PORT": str(port),
        "HAZARDLOOP_STREAM_NAME": SERVICE_STREAM,
        "HAZARDLOOP_SUBJECT_PREFIX": SERVICE_PREFIX,
    }


@dataclass(frozen=True, slots=True)
class Service:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU the process used so far (Linux ``/proc``; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def child_process(argv: list[str], env: dict[str, str], log_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` from the repository's root (where ``bench`` imports from) until the block
    ends, its output in ``log_file``; stopped by SIGTERM."""
    with open(log_file, "ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPOSITORY)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def intake_process(nats_url: str, state_dir: Path, log_file: Path) -> Iterator[Service]:
    """Run ``hazardloop serve intake`` as a child process until the block ends."""
    port = free_port()
    executable = Path(sys.executable).with_name("hazardloop")
    argv = [str(executable), "serve", "intake", "--port", str(port)]
    with child_process(argv, service_env(nats_url, state_dir, port), log_file) as process:
        yield Service(f"http://127.0.0.1:{port}", process.pid)


@contextmanager
def baseline_process(nats_url: str, log_file: Path) -> Iterator[Service]:
    """Run the minimal FastAPI app (``bench.baseline_app``) under uvicorn until the block ends."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.baseline_app", "--nats", nats_url, "--port", str(port)]
    with child_process(argv, dict(os.environ), log_file) as process:
        yield Service(f"http://127.0.0.1:{port}", process.pid)


async def wait_ready(client: httpx.AsyncClient, *, timeout: float = 60.0) -> None:
    """Poll ``/readyz`` until 200: broker connected, store open, projection running."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = "no answer"
    while asyncio.get_running_loop().time() < deadline:
        try:
            response = await client.get("/readyz")
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text}"
        except httpx.TransportError as exc:
            last = repr(exc)
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{client.base_url} never became ready: {last}")


def reporter_token(state_dir: Path) -> str:
    """A reporter token signed with the key the service will find in the same state folder."""
    settings = CommonSettings(state_dir=state_dir)
    return Authenticator(settings.secret("jwt"), settings.tenants).issue("bench-user", [TENANT], [Role.REPORTER])


SPOTS = 40


async def seed_catalogue(service: Service, state_dir: Path) -> None:
    """The places the load files at: a site, an area and its spots, added through the API."""
    settings = CommonSettings(state_dir=state_dir)
    manager = Authenticator(settings.secret("jwt"), settings.tenants).issue("bench-manager", [TENANT], [Role.MANAGER])
    places = [{"place_id": "north", "kind": "site", "name": SITES[0]},
              {"place_id": "unit", "kind": "area", "parent_id": "north", "name": AREAS[0]}]
    places += [{"place_id": f"bay-{n}", "kind": "spot", "parent_id": "unit", "name": f"Bay {n}"} for n in range(1, SPOTS + 1)]
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {manager}"}, timeout=30) as client:
        await wait_ready(client)
        for place in places:
            (await client.post("/catalogue/places", json={"tenant": TENANT, **place})).raise_for_status()
        while len((await client.get("/catalogue", params={"tenant": TENANT})).json()) < len(places):
            await asyncio.sleep(0.1)


def report_bodies(count: int) -> list[dict[str, Any]]:
    """A few realistic request bodies to cycle through."""
    observed = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    return [
        {
            "tenant": TENANT,
            "category": ("unsafe_equipment", "unsafe_behaviour", "unsafe_environment", "management_defect")[i % 4],
            "description": HAZARDS[i % len(HAZARDS)],
            "place_id": f"bay-{i % SPOTS + 1}",
            "observed_at": observed,
        }
        for i in range(count)
    ]


async def http_load(
    service: Service, token: str, *, workers: int, warmup: int, max_requests: int, max_seconds: float
) -> tuple[LoadResult, dict[str, float]]:
    """Warm up, then measure ``POST /reports``: one keep-alive connection per worker.

    Each worker gets its own ``httpx.AsyncClient``: one shared pool of 32 connections
    costs the client about twice the CPU per request (encode/httpx#3215), and on a
    2-core box that CPU is taken from the service being measured.
    """
    bodies = report_bodies(16)
    headers = {"Authorization": f"Bearer {token}"}
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=service.url, headers=headers, timeout=30, limits=httpx.Limits(max_connections=1))
            )
            for _ in range(workers)
        ]

        async def send(worker: int, i: int) -> bool:
            response = await clients[worker].post("/reports", json=bodies[i % len(bodies)])
            return response.status_code == 201

        await wait_ready(clients[0])
        await drive(send, workers=workers, max_requests=warmup, max_seconds=60)
        service_before, client_before = service.cpu_seconds(), own_cpu_seconds()
        result = await drive(send, workers=workers, max_requests=max_requests, max_seconds=max_seconds)
        served = max(1, result.requests)
        cpu = {
            "service_cpu_ms_per_request": (service.cpu_seconds() - service_before) * 1000 / served,
            "client_cpu_ms_per_request": (own_cpu_seconds() - client_before) * 1000 / served,
        }
        return result, cpu


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def broker_load(
    nats_url: str, *, workers: int, warmup: int, max_requests: int, max_seconds: float
) -> LoadResult:
    """The broker leg alone: guarded ``js.publish`` of a ReportFiled, awaiting each ack."""
    events = filings(warmup + max_requests, seed=5)
    nc = await nats.connect(nats_url)
    try:
        store = EventStore(nc, stream=BASELINE_STREAM, subjects=Subjects(BASELINE_PREFIX))
        await store.ensure_stream()
        messages = [(store.subjects.of(e), encode_event(e), store._headers(e, 0)) for e in events]  # noqa: SLF001
        js = nc.jetstream()

        async def send(_: int, i: int) -> bool:
            subject, payload, headers = messages[i]
            await js.publish(subject, payload, headers=headers, timeout=10)
            return True

        await drive(send, workers=workers, max_requests=warmup, max_seconds=60)
        return await drive(send, workers=workers, max_requests=max_requests, max_seconds=max_seconds, first=warmup)
    finally:
        await nc.close()
