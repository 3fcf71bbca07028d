"""Test doubles of the shared machinery, for services' unit tests (no broker, no network)."""

from hazardloop.testing.memory_store import InMemoryEventStore

__all__ = ["InMemoryEventStore"]
