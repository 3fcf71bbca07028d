"""How the deploy tests work on the shipped cluster as one of its NATS users: a connection,
services running in-process, and an operator's rebuild of a service's store from the log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats

from tests.integration.deploy.cluster import Cluster
from tests.integration.services.conftest import Harness

STREAM = "HAZARDLOOP"


def run(coroutine_function, url: str):
    """What ``coroutine_function`` returns given a connection to the cluster at ``url`` (whose user it names)."""

    async def main():
        connection = await nats.connect(url.split(","), connect_timeout=2, max_reconnect_attempts=1)
        try:
            return await coroutine_function(connection)
        finally:
            await connection.close()

    return asyncio.run(main())


@contextmanager
def services_as(cluster: Cluster, user: str, state_dir: Path) -> Iterator[Harness]:
    """Services run in-process as ``user``, on the log at replicas 3, keeping their stores in ``state_dir``."""
    state_dir.mkdir()
    running = Harness(cluster.urls(user), state_dir, STREAM, "hazard")
    running.common |= {"stream_replicas": 3, "nats_timeout": 2.0}
    try:
        yield running
    finally:
        running.close()


def replay(harness: Harness, service: str, database: Path) -> None:
    """The operator's rebuild of ``service``'s store into ``database``, read from the log as the harness's user."""
    env = {**os.environ, "NATS_URL": harness.nats_url, "HAZARDLOOP_STATE_DIR": str(harness.tmp_path),
           "HAZARDLOOP_JWT_SECRET": harness.common["jwt_secret"], "HAZARDLOOP_PSEUDONYM_KEY": harness.common["pseudonym_key"]}
    subprocess.run([sys.executable, "-m", "hazardloop.tools.cli", "replay", service, "--database-url", f"sqlite:///{database}"],
                   env=env, check=True, capture_output=True, text=True, timeout=60)
