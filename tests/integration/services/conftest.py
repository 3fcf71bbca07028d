"""Services in-process (FastAPI TestClient: real lifespan, broker and store) on a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from fastapi.testclient import TestClient

from hazardloop.auth import Authenticator, Role
from hazardloop.registry import app_module
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
        self._stack = contextlib.ExitStack()

    def start(self, service: str, **overrides) -> TestClient:
        """Start a service; intake starts with the test catalogue in every subsidiary."""
        module = app_module(service)
        settings = module.Settings(
            **(self.common | {"database_url": f"sqlite:///{self.tmp_path / f'{service}.db'}"} | overrides)
        )
        client = self._stack.enter_context(TestClient(module.build(settings)))
        if service == "intake":
            self.catalogue(client)
        return client

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
        self._stack.close()


@pytest.fixture
def harness(nats_url: str, tmp_path: Path, stream_names: tuple[str, str]) -> Iterator[Harness]:
    stream, prefix = stream_names
    harness = Harness(nats_url, tmp_path, stream, prefix)
    try:
        yield harness
    finally:
        harness.close()

