"""The services as real processes (`hazardloop serve`) on a real nats-server."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
from playwright.sync_api import Browser

from hazardloop.log.natsserver import free_port
from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Authenticator, Role
from tests.browser import chromium
from tests.factories import seed_catalogue
from tests.oidc import OidcProvider

TENANTS = ["refinery", "mine", "steelmill"]


class System:
    def __init__(self, nats_url: str, state: Path, stream: str, prefix: str) -> None:
        self.state = state
        self.stream, self.prefix, self.nats_url = stream, prefix, nats_url
        self.ports = {service: free_port() for service in SERVICES}
        self.env = {
            **os.environ,
            "NATS_URL": nats_url,
            "HAZARDLOOP_STATE_DIR": str(state),
            "HAZARDLOOP_STREAM_NAME": stream,
            "HAZARDLOOP_SUBJECT_PREFIX": prefix,
            "HAZARDLOOP_TENANTS": ",".join(TENANTS),
            "HAZARDLOOP_JWT_SECRET": "e2e-jwt-secret-0123456789abcdef-0123456789",
            "HAZARDLOOP_PSEUDONYM_KEY": "e2e-pseudonym-key",
            "HAZARDLOOP_LOG_LEVEL": "WARNING",
            **{f"HAZARDLOOP_{s.upper()}_PORT": str(p) for s, p in self.ports.items()},
            **{f"HAZARDLOOP_{s.upper()}_URL": f"http://127.0.0.1:{p}" for s, p in self.ports.items()},
            "HAZARDLOOP_DEV_SIGNIN": "true",
        }
        self.auth = Authenticator(self.env["HAZARDLOOP_JWT_SECRET"].encode(), TENANTS)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def database_url(self, service: str) -> str:
        return f"sqlite:///{self.state / f'{service}.db'}"

    def start(self, *services: str) -> None:
        self.launch(*services)
        for service in services:
            self.wait_ready(service)
        if "intake" in services:
            self.catalogue()

    def launch(self, *services: str) -> None:
        """Start each process, without waiting for it to be ready."""
        for service in services:
            with open(self.log(service), "ab") as log:  # the child holds its own copy
                self.processes[service] = subprocess.Popen(
                    [sys.executable, "-m", "hazardloop.tools.cli", "serve", service], env=self.env, stdout=log, stderr=subprocess.STDOUT
                )

    def log(self, service: str) -> Path:
        return self.state / f"{service}.log"

    def catalogue(self) -> None:
        """Give every subsidiary the test catalogue (idempotent: a restart re-sends it harmlessly)."""
        manager = {"Authorization": f"Bearer {self.auth.issue('safety-manager', TENANTS, [Role.MANAGER])}"}
        with httpx.Client(base_url=self.url("intake")) as intake:
            seed_catalogue(intake, manager, TENANTS)

    def wait_ready(self, service: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.processes[service].poll() is not None:
                raise RuntimeError(f"{service} exited: {(self.state / f'{service}.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url(service)}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service} not ready: {(self.state / f'{service}.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def settled(self) -> bool:
        """Nothing left in flight: notifications has nothing left to send, and every
        projection has applied and acknowledged the whole log, with no event appended
        meanwhile. A store compared with its replay must be taken in this state: a
        delivery's outcome is an event of its own, appended after the inbox shows it.
        """
        notifications = self.state / "notifications.db"
        if notifications.exists():
            with sqlite3.connect(notifications) as db:
                sending = sum(
                    db.execute(f"SELECT count(*) FROM {table} WHERE status = 'pending'").fetchone()[0]
                    for table in ("notification_inbox", "notification_deliveries")
                )
            if sending:
                return False

        async def idle() -> bool:
            connection = await nats.connect(self.nats_url)
            try:
                js = connection.jetstream()
                head = (await js.stream_info(self.stream)).state.last_seq
                consumers = [c for c in await js.consumers_info(self.stream) if c.config.durable_name]
                caught_up = all(c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers)
                return caught_up and (await js.stream_info(self.stream)).state.last_seq == head
            finally:
                await connection.close()

        return asyncio.run(idle())

    def stop(self, *services: str, kill: bool = False) -> None:
        """Stop each; one that ignores SIGTERM for 15 s is killed, and named once all are stopped."""
        stuck = []
        for service in services or list(self.processes):
            process = self.processes.pop(service, None)
            if process is None:
                continue
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                stuck.append(service)
        if stuck:
            raise RuntimeError(f"did not stop within 15 s of SIGTERM: {', '.join(stuck)}")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hazardloop.tools.cli", *args], env=self.env, capture_output=True, text=True, timeout=120, check=True
        )

    def headers(self, user: str, roles=(Role.REPORTER,), tenants=("refinery",)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.auth.issue(user, list(tenants), list(roles))}"}


@pytest.fixture
def system(nats_url: str, tmp_path: Path, stream_names: tuple[str, str]) -> Iterator[System]:
    stream, prefix = stream_names
    running = System(nats_url, tmp_path, stream, prefix)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """A headless Chromium for the test: each page it opens starts with no cookies."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def oidc_system(system: System, oidc_provider: OidcProvider) -> System:
    """The services as ``system`` starts them, also accepting the identity provider's tokens."""
    system.env.update(oidc_provider.service_env())
    return system
