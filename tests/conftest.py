"""Shared test fixtures: a real nats-server, isolated streams, SQLite and PostgreSQL stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy import create_engine, text

from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.natsserver import NatsServer
from hazardloop.log.pull import PULL_PATH
from tests.oidc import oidc_provider  # noqa: F401 - the session's OpenID provider, for every test

POSTGRES_URL = os.environ.get("HAZARDLOOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("HAZARDLOOP_REQUIRE_POSTGRES") == "1"


def _docker_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means: use the local binary
        return False


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real nats-server with JetStream for the whole session, on a free loopback port."""
    if _docker_reachable():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("nats:2.15.1").with_command("-js").with_exposed_ports(4222)
        with container:
            wait_for_logs(container, "Server is ready")
            yield f"nats://{container.get_container_host_ip()}:{container.get_exposed_port(4222)}"
        return
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[nats.NATS]:
    connection = await nats.connect(nats_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def stream_names() -> tuple[str, str]:
    """A stream and subject prefix of this test's own, so tests never see each other's events."""
    token = uuid.uuid4().hex[:10]
    return f"HL_{token.upper()}", f"t{token}"


@pytest.fixture
async def store(nc: nats.NATS, stream_names: tuple[str, str]) -> EventStore:
    stream, prefix = stream_names
    event_store = EventStore(nc, stream=stream, subjects=Subjects(prefix), timeout=2.0)
    await event_store.ensure_stream()
    return event_store


def postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_URL).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required (HAZARDLOOP_REQUIRE_POSTGRES=1) but unreachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    return POSTGRES_URL


def fresh_postgres_schema(base_url: str) -> str:
    """A new empty schema, addressed through the URL's search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base_url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store-touching test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return fresh_postgres_schema(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["tap", "public"])
def pull_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each replay test runs on both ways of reading the log: nats-py's public pull API,
    and the tap the project's pinned nats-py allows (``hazardloop.log.pull``)."""
    if request.param == "public":
        monkeypatch.setenv(PULL_PATH, "public")
    else:
        monkeypatch.delenv(PULL_PATH, raising=False)
    return request.param
