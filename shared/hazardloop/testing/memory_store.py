"""The event log in memory: command handlers unit-tested without a broker.

It keeps the log's semantics, not its machinery: one increasing sequence over every
event, each append guarded by its aggregate's last sequence (0 when new), an event id
already stored reported as a duplicate at its stored sequence (even when the guard is
stale), subject tokens checked as the broker's subjects need them. Decisions take the
very path they take on JetStream (``AggregateStore.decide_many``), and one contract test
(``tests/eventstore_contract.py``) runs against both stores, so what a handler meets here
is what it meets on the broker.
"""

from __future__ import annotations

from collections.abc import Sequence

from hazardloop.events import Event, decode_event, encode_event
from hazardloop.log.eventstore import (
    AggregateKey,
    AggregateStore,
    Appended,
    ConcurrencyError,
    EventStoreUnavailable,
    History,
    InvalidSubjectToken,
    StoredEvent,
    Subjects,
)


class InMemoryEventStore(AggregateStore):
    """Each aggregate's stored events, in a dict of lists."""

    def __init__(self, *, stream: str = "HAZARDLOOP", subjects: Subjects | None = None) -> None:
        self.stream = stream
        self.subjects = subjects or Subjects()
        self._aggregates: dict[AggregateKey, list[StoredEvent]] = {}
        self._last_sequence = 0
        self._outage = 0

    def fail_next(self, calls: int = 1) -> None:
        """Make the next ``calls`` calls raise ``EventStoreUnavailable``, as a broker that is down does."""
        self._outage = calls

    def _reach(self) -> None:
        if self._outage:
            self._outage -= 1
            raise EventStoreUnavailable("event log unavailable (an outage of the in-memory store)")

    async def ensure_stream(self, *, replicas: int = 1, duplicate_window: float = 120.0, update: bool = True) -> None:
        """Nothing to set up in memory."""
        self._reach()

    async def append(self, event: Event, *, expected_version: int) -> Appended:
        self._reach()
        return self._append(event, expected_version)

    def _append(self, event: Event, expected_version: int) -> Appended:
        self.subjects.of(event)  # the checks a subject on the broker needs
        history = self._aggregates.get(AggregateKey.of(event), [])
        for stored in history:
            if stored.event.event_id == event.event_id:
                return Appended(stored.sequence, duplicate=True)
        if (history[-1].sequence if history else 0) != expected_version:
            raise ConcurrencyError(f"{event.aggregate_type} {event.aggregate_id} changed concurrently")
        self._last_sequence += 1
        stored = StoredEvent(self._last_sequence, decode_event(encode_event(event)))  # as it reads back from the log
        self._aggregates.setdefault(AggregateKey.of(event), []).append(stored)
        return Appended(stored.sequence, duplicate=False)

    async def append_many(self, items: Sequence[tuple[Event, int]]) -> list[Appended]:
        self._reach()
        appended: list[Appended] = []
        refused: list[ConcurrencyError] = []
        for event, expected_version in items:
            try:
                appended.append(self._append(event, expected_version))
            except ConcurrencyError as conflict:
                refused.append(conflict)
        if refused:
            raise refused[0]
        return appended

    async def load(self, tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        self.subjects.aggregate(tenant, aggregate_type, aggregate_id)  # one aggregate, never a wildcard
        self._reach()
        return History(tuple(self._aggregates.get(AggregateKey(tenant, aggregate_type, aggregate_id), ())))

    async def first_event(self, aggregate_type: str, aggregate_id: str) -> StoredEvent | None:
        try:
            self.subjects.aggregate_in_any_tenant(aggregate_type, aggregate_id)
        except InvalidSubjectToken:
            return None  # not a subject token: no aggregate can have this id
        self._reach()
        firsts = [
            history[0]
            for (_, stored_type, stored_id), history in self._aggregates.items()
            if (stored_type, stored_id) == (aggregate_type, aggregate_id)
        ]
        return min(firsts, key=lambda stored: stored.sequence, default=None)

    async def last_sequence(self) -> int:
        self._reach()
        return self._last_sequence
