"""Recording that the rules raised a signal, on an in-memory log: once per signal, whatever
a round sees in the store; no names in the log; a broker outage loses nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hazardloop.events import SignalDismissed, SignalRaised, SignalRule
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.projections.db import create_store_engine
from hazardloop.testing import InMemoryEventStore
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.recorder import SignalRecorder
from hazardloop_rewards.signals.raised import RECORDER, Unrecorded
from hazardloop_rewards.signals.review import SignalSeen
from hazardloop_rewards.signals.seen import signal_id
from hazardloop_rewards.store import metadata, signal_evidence, signal_raised, signals
from tests.clock import ManualClock
from tests.factories import REPORTER
from tests.unit.services.rewards.test_commands import TextsInProcess

TENANT = "refinery"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
FIRED = NOW - timedelta(minutes=3)
PAIR = Unrecorded(
    signal_id(TENANT, SignalRule.FREQUENT_PAIR, REPORTER, "verifier-zhang"), TENANT, SignalRule.FREQUENT_PAIR, REPORTER,
    ("r-1", "r-2", "r-3", "r-4", "r-5"), {"pair": 5, "expected": 0.83, "verifier": "verifier-zhang"}, FIRED,
)  # fmt: skip


@pytest.fixture
def log() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def commands(log: InMemoryEventStore) -> RewardCommands:
    async def nobody(tenant: str, subject: str) -> None:
        return None

    return RewardCommands(log, TextsInProcess().sealing, nobody, ManualClock(NOW), ZoneInfo("Asia/Shanghai"))


async def history(log: InMemoryEventStore, signal: str = PAIR.signal_id) -> list:
    return [stored.event for stored in (await log.load(TENANT, "signal", signal)).events]


async def test_a_signal_is_recorded_raised_once_with_its_rule_reports_and_figures_and_no_names(log, commands):
    [event] = await commands.record_raised(PAIR)
    assert isinstance(event, SignalRaised) and event.aggregate_id == PAIR.signal_id
    assert (event.rule, event.reporter, event.evidence) == (SignalRule.FREQUENT_PAIR, REPORTER, PAIR.evidence)
    assert event.figures == {"pair": 5, "expected": 0.83}  # the verifier's name stays out of the log
    assert "verifier-zhang" not in event.model_dump_json()
    assert (event.raised_at, event.occurred_at, event.actor) == (FIRED, NOW, RECORDER)

    assert await commands.record_raised(PAIR) == []
    grown = replace(PAIR, evidence=(*PAIR.evidence, "r-6"))
    assert await commands.record_raised(grown) == []  # more evidence later is the same signal, raised once
    assert [e.type for e in await history(log)] == ["SignalRaised"]


async def test_a_signal_decided_before_it_was_recorded_is_recorded_after_the_decision(log, commands):
    seen = SignalSeen(PAIR.signal_id, TENANT, PAIR.rule, REPORTER, PAIR.evidence)
    [dismissed] = await commands.dismiss_signal(seen, reason="Each was verified by whoever was on shift.", actor="head-liu")
    [raised] = await commands.record_raised(PAIR)
    assert raised.prev_hash == dismissed.hash
    assert [type(e) for e in await history(log)] == [SignalDismissed, SignalRaised]
    assert await commands.record_raised(PAIR) == []


DUPLICATES = signal_id(TENANT, SignalRule.NEAR_DUPLICATES, REPORTER, "tag:p-101", "unsafe_equipment")
TEAM = signal_id(TENANT, SignalRule.TEAM_CONCENTRATION, "maintenance crew 2")


@pytest.fixture
def store(tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'rewards.db'}")
    metadata.create_all(engine)
    with engine.begin() as db:
        for n, (rule, subject, reporter) in enumerate([
            (SignalRule.NEAR_DUPLICATES, (REPORTER, "tag:p-101", "unsafe_equipment"), REPORTER),
            (SignalRule.TEAM_CONCENTRATION, ("maintenance crew 2",), None),
        ]):  # fmt: skip
            identity = signal_id(TENANT, rule, *subject)
            db.execute(signals.insert().values(
                signal_id=identity, tenant=TENANT, rule=rule.value, reporter=reporter, subject=list(subject), evidence_count=3,
                figures={"reports": 3, "team": "Maintenance crew 2", "top": [REPORTER]}, raised_at=FIRED + timedelta(minutes=n),
                updated_at=FIRED,
            ))  # fmt: skip
            db.execute(signal_evidence.insert(), [{"signal_id": identity, "report_id": f"r-{n}-{k}"} for k in range(3)])
    yield engine
    engine.dispose()


async def test_a_round_records_each_unrecorded_signal_once_and_a_second_round_appends_nothing(log, commands, store):
    recorder = SignalRecorder(commands, store, interval=1)
    assert await recorder.record_due() == 2
    [duplicates], [team] = await history(log, DUPLICATES), await history(log, TEAM)
    assert (duplicates.rule, duplicates.reporter) == (SignalRule.NEAR_DUPLICATES, REPORTER)
    assert duplicates.evidence == ("r-0-0", "r-0-1", "r-0-2")
    assert (team.rule, team.reporter, team.evidence) == (SignalRule.TEAM_CONCENTRATION, None, ("r-1-0", "r-1-1", "r-1-2"))
    assert team.figures == {"reports": 3} and "crew" not in team.model_dump_json().lower()  # no team name, no people
    events = [duplicates, team]

    # the projection has not applied them yet: the round sees them again, and the log says they are there
    before = await log.last_sequence()
    assert await recorder.record_due() == 0 and await log.last_sequence() == before

    with store.begin() as db:  # once applied, the round no longer looks at them: it does not even read the log
        db.execute(signal_raised.insert(), [{"signal_id": e.aggregate_id, "tenant": TENANT, "recorded_at": NOW} for e in events])
    log.fail_next()
    assert await recorder.record_due() == 0


async def test_a_round_during_a_broker_outage_records_nothing_and_the_next_records_everything(log, commands, store):
    recorder = SignalRecorder(commands, store, interval=1)
    log.fail_next()
    with pytest.raises(EventStoreUnavailable):
        await recorder.record_due()
    assert await log.last_sequence() == 0
    assert await recorder.record_due() == 2
