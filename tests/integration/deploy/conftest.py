"""A 3-node cluster built from the shipped ``deploy/nats/`` files, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.deploy.cluster import Cluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: starts the shipped 3-node NATS cluster on loopback (part of make test)")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path / "cluster")
    running.write()
    try:
        for node in running.nodes:
            running.start(node)
        running.wait_healthy()
        yield running
    finally:
        running.stop()
