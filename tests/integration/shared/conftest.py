"""Fixtures of the shared library's integration tests."""

from __future__ import annotations

import pytest

from hazardloop.projections.db import create_store_engine


@pytest.fixture
def engine(database_url):
    """A projection store on each database the tests run against."""
    engine = create_store_engine(database_url)
    yield engine
    engine.dispose()
