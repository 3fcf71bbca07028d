"""Signals raised, recorded in the log on a real broker: a running rewards service records
the signal its rules raised from filings, once; the round appends nothing for a signal the
log holds, live or after the store is rebuilt from the log, which is rebuilt identically;
and the console counts the signal raised from the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.signals import append_all
from hazardloop.events import GENESIS_HASH, Location, ReportFiled, SignalRaised, SignalRule, decode_event
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import catch_up, rebuild
from hazardloop.web.auth import Role
from hazardloop_console import figures
from hazardloop_console.projection import projection as console_projection
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.projection import projection
from hazardloop_rewards.recorder import SignalRecorder
from hazardloop_rewards.store import signal_decisions, signal_evidence, signal_raised, signals
from tests.clock import ManualClock
from tests.integration.services.test_console_dashboard import ZONE
from tests.integration.services.test_rewards_signal_api import REPORTER, file_the_same_spot_three_times
from tests.unit.services.rewards.test_commands import TextsInProcess
from tests.waiting import wait_for

TENANT = "refinery"
TABLES = (signals, signal_evidence, signal_decisions, signal_raised)


def raised_in_the_log(harness) -> list[SignalRaised]:
    return [event for _, data in harness.raw_log("signal") if isinstance(event := decode_event(data), SignalRaised)]


def test_a_running_rewards_service_records_the_signal_its_rules_raise_from_filings_once(harness):
    rewards = harness.start("rewards", signal_interval=0.05)
    reports = file_the_same_spot_three_times(harness)

    [raised] = wait_for(lambda: raised_in_the_log(harness))
    assert (raised.rule, raised.reporter, raised.evidence) == (SignalRule.NEAR_DUPLICATES, REPORTER, tuple(sorted(reports)))
    assert raised.figures == {"reports": 3, "days": 14} and raised.actor == "signals:rewards"
    head = harness.headers("head-liu", roles=[Role.MANAGER])
    [shown] = rewards.get("/signals", params={"tenant": TENANT, "report": reports[0]}, headers=head).json()
    assert shown["signal_id"] == raised.aggregate_id

    harness.stop(rewards)  # started again on a store rebuilt from the log: the signal is not recorded again
    (harness.tmp_path / "rewards.db").unlink()
    again = harness.start("rewards", signal_interval=0.05)
    wait_for(lambda: again.get("/signals", params={"tenant": TENANT, "report": reports[0]}, headers=head).json())
    assert [event.event_id for event in raised_in_the_log(harness)] == [raised.event_id]


def filed(reporter: str, n: int, at: datetime) -> ReportFiled:
    return ReportFiled.record(
        prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=f"leak-{n}", actor="reporter:x", occurred_at=at + timedelta(days=n),
        category="unsafe_equipment", subtype="other", description="Flange leaks",
        location=Location(site="North", area="Tank farm", spot="F-2", equipment_tag="F-2"), observed_at=at, reporter=reporter,
    )  # fmt: skip


def rows(engine) -> dict[str, list[tuple]]:
    with engine.connect() as db:
        return {table.name: sorted(tuple(row) for row in db.execute(select(table))) for table in TABLES}


async def test_the_round_records_once_the_store_rebuilds_identically_and_the_console_counts_it(store, nc, tmp_path):
    now = datetime.now(UTC)
    await append_all(store, [filed(REPORTER, n, now - timedelta(days=3)) for n in range(3)], 10)
    live = create_store_engine(f"sqlite:///{tmp_path / 'live.db'}")
    runner = ProjectionRunner(projection(store), live, store, react=False)
    runner.create_schema()
    await catch_up(runner, nc)

    async def nobody(tenant: str, subject: str) -> None:
        return None

    commands = RewardCommands(store, TextsInProcess().sealing, nobody, ManualClock(now), ZoneInfo("Asia/Shanghai"))
    recorder = SignalRecorder(commands, live, interval=1)
    assert await recorder.record_due() == 1
    assert await recorder.record_due() == 0  # not applied yet: the signal's history in the log says it is there
    with live.connect() as db:
        [signal] = db.execute(select(signals.c.signal_id)).scalars()
    [raised] = [stored.event for stored in (await store.load(TENANT, "signal", signal)).events]
    assert isinstance(raised, SignalRaised) and raised.evidence == ("leak-0", "leak-1", "leak-2")
    logged = await store.last_sequence()

    await catch_up(runner, nc)
    await append_all(store, [filed(REPORTER, 3, now - timedelta(days=3))], 10)  # more evidence: the same signal
    await catch_up(runner, nc)
    assert await recorder.record_due() == 0

    clean = create_store_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    await rebuild(ProjectionRunner(projection(store), clean, store, react=False), nc)
    assert rows(clean) == rows(live) and rows(clean)["reward_signal_raised"] == [(signal, TENANT, now)]
    assert await SignalRecorder(commands, clean, interval=1).record_due() == 0
    assert await store.last_sequence() == logged + 1  # the fourth filing, nothing else

    console = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    await rebuild(ProjectionRunner(console_projection(store), console, store), nc)
    day = now.astimezone(ZONE).date()
    scope = figures.Scope([TENANT, "mine"], day - timedelta(weeks=4), day, now, ZONE)
    assert figures.dashboard(console, scope).signals == [{"tenant": TENANT, "raised": 1, "dismissed": 0, "confirmed": 0}]
    for engine in (live, clean, console):
        engine.dispose()
