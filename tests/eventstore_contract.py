"""What every event store owes its callers, written once and run against each store.

A subclass named ``Test...`` supplies the ``store`` fixture: the JetStream store in
tests/integration/shared/test_eventstore.py, the in-memory one in
tests/unit/shared/test_memory_store.py. Each test starts from an empty log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from hazardloop.events import GENESIS_HASH, BudgetCommitted, BudgetReleased, Event, Verified
from hazardloop.log.eventstore import (
    AggregateKey,
    AggregateStore,
    Appended,
    ConcurrencyError,
    History,
    InvalidSubjectToken,
    StoredEvent,
)
from tests.factories import new_id, report_filed, verified

NOT_ONE_TOKEN = ["", "a.b", "*", ">", "a b", "a\tb", "a\x00b"]


async def history_of(store: AggregateStore, event: Event) -> History:
    return await store.load(*AggregateKey.of(event))


def rivals_win(monkeypatch: pytest.MonkeyPatch, store: AggregateStore, *rivals: Event) -> None:
    """Another writer wins each race: just before the store's next append to a rival's
    aggregate (after the decision loaded it), that rival lands first."""
    pending = list(rivals)
    append = store.append

    async def append_after_rival(event: Event, *, expected_version: int) -> Appended:
        rival = next((r for r in pending if AggregateKey.of(r) == AggregateKey.of(event)), None)
        if rival is not None:
            pending.remove(rival)
            await append(rival, expected_version=(await history_of(store, rival)).version)
        return await append(event, expected_version=expected_version)

    monkeypatch.setattr(store, "append", append_after_rival)


class IdTaken(Exception):
    """A domain's refusal of a new aggregate whose id is already another's."""


def watch_loads(monkeypatch: pytest.MonkeyPatch, store: AggregateStore) -> list[AggregateKey]:
    """The aggregates ``store`` loads from now on, in order."""
    loads: list[AggregateKey] = []
    load = store.load

    async def watched(tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        loads.append(AggregateKey(tenant, aggregate_type, aggregate_id))
        return await load(tenant, aggregate_type, aggregate_id)

    monkeypatch.setattr(store, "load", watched)
    return loads


def commitment(tenant: str, report_id: str, history: History, *, released: bool = False) -> Event:
    """A budget commitment for a report (or its release): what a reward takes before it is approved."""
    kind = BudgetReleased if released else BudgetCommitted
    return kind.record(
        prev_hash=history.last_hash, tenant=tenant, aggregate_id="year-2026", actor="head-liu", report_id=report_id, amount_fen=10_000
    )


class EventStoreContract:
    # --- guarded appends ------------------------------------------------------------

    async def test_a_new_aggregate_is_appended_to_at_version_zero(self, store):
        filed = report_filed()
        assert await store.append(filed, expected_version=0) == Appended(1, duplicate=False)
        assert (await history_of(store, filed)).events == (StoredEvent(1, filed),)

    async def test_a_stale_guard_is_a_typed_conflict_and_stores_nothing(self, store):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        with pytest.raises(ConcurrencyError):
            await store.append(report_filed(report_id=filed.aggregate_id), expected_version=0)
        with pytest.raises(ConcurrencyError):
            await store.append(verified(filed), expected_version=2)  # ahead of the aggregate is stale too
        with pytest.raises(ConcurrencyError):
            await store.append(report_filed(), expected_version=1)  # a new aggregate is at 0
        assert await store.last_sequence() == 1

    async def test_racing_appends_to_one_aggregate_exactly_one_wins(self, store):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        contenders = [verified(filed, "confirmed_hazard", grade) for grade in ("general", "larger", "major") * 4]
        results = await asyncio.gather(*(store.append(event, expected_version=1) for event in contenders), return_exceptions=True)
        assert sum(not isinstance(r, Exception) for r in results) == 1
        assert all(isinstance(r, ConcurrencyError) for r in results if isinstance(r, Exception))
        assert len((await history_of(store, filed)).events) == 2

    async def test_a_retried_append_is_stored_once_and_answers_with_the_stored_sequence(self, store):
        await store.append(report_filed(), expected_version=0)
        filed = report_filed()
        first = await store.append(filed, expected_version=0)
        assert await store.append(filed, expected_version=0) == Appended(first.sequence, duplicate=True)
        assert await store.append_many([(filed, 0)]) == [Appended(first.sequence, duplicate=True)]
        assert await store.last_sequence() == 2

    async def test_a_retried_append_is_a_duplicate_even_when_its_guard_is_stale(self, store):
        filed = report_filed()
        first = await store.append(filed, expected_version=0)
        await store.append(verified(filed), expected_version=first.sequence)
        assert await store.append(filed, expected_version=0) == Appended(first.sequence, duplicate=True)
        assert await store.append_many([(filed, 0)]) == [Appended(first.sequence, duplicate=True)]
        assert len((await history_of(store, filed)).events) == 2

    async def test_appends_in_one_batch_are_each_guarded_and_the_rest_are_stored(self, store):
        taken = report_filed()
        await store.append(taken, expected_version=0)
        fresh = [report_filed() for _ in range(50)]
        appended = await store.append_many([(event, 0) for event in fresh])
        assert [a.sequence for a in appended] == list(range(2, 52))
        beside = report_filed()
        with pytest.raises(ConcurrencyError):
            await store.append_many([(beside, 0), (report_filed(report_id=taken.aggregate_id), 0)])
        assert (await history_of(store, beside)).events == (StoredEvent(52, beside),)
        assert len((await history_of(store, taken)).events) == 1

    # --- reading ------------------------------------------------------------------

    async def test_history_of_an_aggregate_comes_back_in_order_with_its_version(self, store):
        filed = report_filed()
        other = report_filed()
        check = verified(filed)
        await store.append(filed, expected_version=0)
        await store.append(other, expected_version=0)
        await store.append(check, expected_version=1)
        history = await history_of(store, filed)
        assert history.events == (StoredEvent(1, filed), StoredEvent(3, check))
        assert history.version == 3 and history.last_hash == check.hash
        nobody = await store.load(filed.tenant, "report", "nobody")
        assert nobody.events == () and nobody.version == 0 and nobody.last_hash == GENESIS_HASH

    async def test_first_event_finds_an_aggregate_in_whichever_subsidiary_holds_it(self, store):
        filed = report_filed(tenant="mine")
        await store.append(report_filed(tenant="refinery"), expected_version=0)
        await store.append(filed, expected_version=0)
        await store.append(verified(filed), expected_version=2)
        assert await store.first_event("report", filed.aggregate_id) == StoredEvent(2, filed)
        assert await store.first_event("report", new_id()) is None
        assert await store.first_event("reward", filed.aggregate_id) is None

    async def test_last_sequence_counts_every_stored_event_of_every_aggregate(self, store):
        assert await store.last_sequence() == 0
        filed = report_filed(tenant="mine")
        await store.append_many([(filed, 0), (report_filed(tenant="refinery"), 0)])
        await store.append(filed, expected_version=0)  # a retry stores nothing
        assert await store.last_sequence() == 2

    async def test_ids_that_are_not_one_subject_token_are_refused(self, store):
        for bad in NOT_ONE_TOKEN:
            with pytest.raises(InvalidSubjectToken):
                await store.load("refinery", "report", bad)
            with pytest.raises(InvalidSubjectToken):
                await store.load(bad, "report", "r-1")
            with pytest.raises(InvalidSubjectToken):
                await store.decide("refinery", bad, "r-1", lambda history: [])
            assert await store.first_event("report", bad) is None
        assert await store.last_sequence() == 0

    # --- load, decide, append -----------------------------------------------------

    async def test_a_decision_of_several_events_appends_each_after_the_one_before(self, store):
        filed = report_filed()
        check = verified(filed)
        await store.append(report_filed(), expected_version=0)
        decided = await store.decide(filed.tenant, "report", filed.aggregate_id, lambda history: [filed, check])
        assert decided == [filed, check]
        assert (await history_of(store, filed)).events == (StoredEvent(2, filed), StoredEvent(3, check))

    async def test_decide_after_a_lost_race_decides_again_and_sees_the_winners_event(self, store, monkeypatch):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        winner = verified(filed, grade="major")
        rivals_win(monkeypatch, store, winner)
        seen: list[list[Event]] = []

        def verify_once(history: History) -> list[Event]:
            seen.append([stored.event for stored in history.events])
            already = any(isinstance(stored.event, Verified) for stored in history.events)
            return [] if already else [verified(filed, grade="general")]

        assert await store.decide(filed.tenant, "report", filed.aggregate_id, verify_once) == []
        assert seen == [[filed], [filed, winner]]
        assert [stored.event for stored in (await history_of(store, filed)).events] == [filed, winner]

    async def test_decide_gives_up_after_its_attempts(self, store, monkeypatch):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        rivals = [verified(filed, grade="larger"), verified(filed, grade="major")]
        rivals_win(monkeypatch, store, *rivals)
        decisions = 0

        def verify(history: History) -> list[Event]:
            nonlocal decisions
            decisions += 1
            return [verified(filed, grade="general")]

        with pytest.raises(ConcurrencyError):
            await store.decide(filed.tenant, "report", filed.aggregate_id, verify, attempts=2)
        assert decisions == 2
        assert [stored.event for stored in (await history_of(store, filed)).events] == [filed, *rivals]

    # --- a new aggregate: appended at version 0 without a load ----------------------

    async def test_a_new_aggregate_is_appended_at_version_zero_without_loading_it(self, store, monkeypatch):
        loads = watch_loads(monkeypatch, store)
        filed = report_filed()
        assert await store.decide_new(filed, lambda history: [] if history.events else [filed]) == [filed]
        assert loads == []
        assert (await history_of(store, filed)).events == (StoredEvent(1, filed),)

    async def test_a_new_aggregate_another_command_created_first_is_decided_on_its_history(self, store):
        rival = report_filed()
        await store.append(rival, expected_version=0)
        mine = report_filed(report_id=rival.aggregate_id, description="Another hazard under the same id")
        seen: list[list[Event]] = []

        def refuse_when_taken(history: History) -> list[Event]:
            seen.append([stored.event for stored in history.events])
            if history.events:
                raise IdTaken(history.events[0].event.aggregate_id)
            return [mine]

        with pytest.raises(IdTaken):
            await store.decide_new(mine, refuse_when_taken)
        assert seen == [[rival]]
        assert (await history_of(store, rival)).events == (StoredEvent(1, rival),)

    async def test_a_new_aggregate_already_recorded_by_the_same_command_appends_nothing_again(self, store):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        assert await store.decide_new(filed, lambda history: [] if history.events else [filed]) == []
        assert await store.last_sequence() == 1

    async def test_racing_creations_of_one_aggregate_land_one_and_the_others_see_it(self, store):
        report_id = new_id()
        contenders = [report_filed(report_id=report_id, description=f"Hazard {n}") for n in range(8)]
        seen: list[list[Event]] = []

        def first_only(event: Event) -> Callable[[History], list[Event]]:
            def decide(history: History) -> list[Event]:
                seen.append([stored.event for stored in history.events])
                return [] if history.events else [event]
            return decide

        results = await asyncio.gather(*(store.decide_new(event, first_only(event)) for event in contenders))
        [winner] = [event for appended in results for event in appended]
        assert (await history_of(store, winner)).events == (StoredEvent(1, winner),)
        assert seen == [[winner]] * (len(contenders) - 1)

    async def test_a_decision_over_two_aggregates_appends_each_guarded_by_its_own_version(self, store):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        budget = AggregateKey(filed.tenant, "budget", "year-2026")
        report = AggregateKey.of(filed)

        def commit_then_verify(histories) -> list[Event]:
            return [commitment(filed.tenant, filed.aggregate_id, histories[budget]), verified(filed)]

        committed, check = await store.decide_many([budget, report], commit_then_verify)
        assert (await store.load(*budget)).events == (StoredEvent(2, committed),)
        assert (await store.load(*report)).events == (StoredEvent(1, filed), StoredEvent(3, check))

    async def test_a_race_on_the_first_aggregate_of_a_decision_lands_nothing_of_it(self, store, monkeypatch):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        budget = AggregateKey(filed.tenant, "budget", "year-2026")
        rival = commitment(filed.tenant, "r-other", History(()))
        rivals_win(monkeypatch, store, rival)
        seen: list[dict[AggregateKey, int]] = []

        def commit_then_verify(histories) -> list[Event]:
            seen.append({key: len(history.events) for key, history in histories.items()})
            return [commitment(filed.tenant, filed.aggregate_id, histories[budget]), verified(filed)]

        await store.decide_many([budget, AggregateKey.of(filed)], commit_then_verify)
        assert seen == [{budget: 0, AggregateKey.of(filed): 1}, {budget: 1, AggregateKey.of(filed): 1}]
        assert [type(s.event) for s in (await store.load(*budget)).events] == [BudgetCommitted, BudgetCommitted]
        assert [type(s.event) for s in (await history_of(store, filed)).events] == [type(filed), Verified]

    async def test_a_race_on_the_second_aggregate_reloads_both_and_what_landed_is_compensated(self, store, monkeypatch):
        filed = report_filed()
        await store.append(filed, expected_version=0)
        budget = AggregateKey(filed.tenant, "budget", "year-2026")
        report = AggregateKey.of(filed)
        winner = verified(filed, "not_confirmed", None)
        rivals_win(monkeypatch, store, winner)

        def commit_then_verify(histories) -> list[Event]:
            """Take the money, then verify; if someone else verified first, give the money back."""
            taken = [s.event for s in histories[budget].events if isinstance(s.event, BudgetCommitted)]
            if any(isinstance(s.event, Verified) for s in histories[report].events):
                return [commitment(filed.tenant, filed.aggregate_id, histories[budget], released=True)] if taken else []
            return [commitment(filed.tenant, filed.aggregate_id, histories[budget]), verified(filed)]

        [release] = await store.decide_many([budget, report], commit_then_verify)
        assert isinstance(release, BudgetReleased)
        assert [type(s.event) for s in (await store.load(*budget)).events] == [BudgetCommitted, BudgetReleased]
        assert [s.event for s in (await store.load(*report)).events] == [filed, winner]

    async def test_a_decision_may_only_append_to_the_aggregates_it_loaded(self, store):
        filed = report_filed()
        with pytest.raises(ValueError):
            await store.decide("refinery", "report", new_id(), lambda history: [filed])
        assert await store.last_sequence() == 0
