"""The in-memory event store keeps the store contract, and can play an unreachable broker."""

import pytest

from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.testing import InMemoryEventStore
from tests.eventstore_contract import EventStoreContract, history_of
from tests.factories import report_filed


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self) -> InMemoryEventStore:
        return InMemoryEventStore()


async def test_an_outage_refuses_the_next_calls_then_the_store_answers_again():
    store = InMemoryEventStore()
    filed = report_filed()
    store.fail_next(2)
    with pytest.raises(EventStoreUnavailable):
        await store.append(filed, expected_version=0)
    with pytest.raises(EventStoreUnavailable):
        await store.decide(filed.tenant, "report", filed.aggregate_id, lambda history: [filed])
    assert (await store.append(filed, expected_version=0)).sequence == 1
    assert len((await history_of(store, filed)).events) == 1
