"""Services in-process (FastAPI TestClient: real lifespan, broker and store) on a real nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from fastapi.testclient import TestClient

from hazardloop.tools.registry import app_module
from hazardloop.web.auth import Authenticator, Role
from tests.factories import seed_catalogue

TENANTS = ["refinery", "mine", "steelmill"]


class Harness:
    """Starts services sharing one isolated stream; mints tokens; reads the raw log."""

    def __init__(self, nats_url: str, tmp_path: Path, stream: str, prefix: str) -> None:
        self.nats_url, self.stream, self.prefix = nats_url, stream, prefix
        self.common = {
            "state_dir": tmp_path,
            "nats_url": nats_url,
            "stream_name": stream,
            "subject_prefix": prefix,
            "jwt_secret": "test-jwt-secret-0123456789abcdef",
            "pseudonym_key": "test-pseudonym-key",
            "tenants": TENANTS,
            "nats_timeout": 1.0,
        }
        self.tmp_path = tmp_path
        self.auth = Authenticator(self.common["jwt_secret"].encode(), TENANTS)
        self._running: list[TestClient] = []

    def start(self, service: str, *, clock=None, **overrides) -> TestClient:
        """Start a service (verification on ``clock`` if given); intake starts with the
        test catalogue in every subsidiary."""
        module = app_module(service)
        settings = module.Settings(
            **(self.common | {"database_url": f"sqlite:///{self.tmp_path / f'{service}.db'}"} | overrides)
        )
        app = module.build(settings, clock=clock) if clock is not None else module.build(settings)
        client = TestClient(app)
        client.__enter__()
        self._running.append(client)
        if service == "intake":
            self.catalogue(client)
        return client

    def stop(self, client: TestClient) -> None:
        """Shut a service down as its process would on SIGTERM (its store stays)."""
        self._running.remove(client)
        client.__exit__(None, None, None)

    def catalogue(self, intake: TestClient) -> None:
        seed_catalogue(intake, self.headers("safety-manager", tenants=TENANTS, roles=[Role.MANAGER]), TENANTS)

    def headers(self, user: str = "emp-1", tenants=("refinery",), roles=(Role.REPORTER,)) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.auth.issue(user, list(tenants), list(roles))}"}

    def raw_log(self, aggregate: str | None = None) -> list[tuple[str, bytes]]:
        """(subject, stored bytes) of every event in the log, or of one aggregate type's."""

        async def read() -> list[tuple[str, bytes]]:
            connection = await nats.connect(self.nats_url)
            try:
                js = connection.jetstream()
                last = (await js.stream_info(self.stream)).state.last_seq
                messages = [await js.get_msg(self.stream, seq) for seq in range(1, last + 1)]
                return [(m.subject, m.data) for m in messages if aggregate is None or m.subject.split(".")[2] == aggregate]
            finally:
                await connection.close()

        return asyncio.run(read())

    def close(self) -> None:
        while self._running:
            self.stop(self._running[-1])


@pytest.fixture
def harness(nats_url: str, tmp_path: Path, stream_names: tuple[str, str]) -> Iterator[Harness]:
    stream, prefix = stream_names
    harness = Harness(nats_url, tmp_path, stream, prefix)
    try:
        yield harness
    finally:
        harness.close()

