"""Seals on a schedule, on a real nats-server: a round seals once M events or N minutes
have passed, does nothing otherwise, never overlaps or skips a range when two sealers
race, refuses damage, and leaves a log that ``hazardloop audit verify`` passes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import nats
import pytest
from typer.testing import CliRunner

from hazardloop.audit.seal_schedule import Outcome, SealSchedule
from hazardloop.audit.seal_status import seal_status
from hazardloop.audit.session import AuditSession
from hazardloop.events import RangeSealed
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.reader import read_log
from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools.cli import cli
from tests.clock import ManualClock
from tests.factories import report_filed
from tests.integration.audit.conftest import append_all


async def file_reports(store: EventStore, count: int) -> None:
    await append_all(store, [report_filed() for _ in range(count)])


async def seals_of(nc, store: EventStore) -> list[RangeSealed]:
    return [event async for _, event in read_log(nc, store.stream, [store.subjects.of_type("RangeSealed")])]


async def verified(nats_url: str, store: EventStore):
    """What `hazardloop audit verify` finds in the live log."""
    session = AuditSession(CommonSettings(nats_url=nats_url, stream_name=store.stream, subject_prefix=store.subjects.prefix))
    return await asyncio.to_thread(session.verify)


async def test_a_round_seals_once_enough_events_wait(nc, store, nats_url):
    clock = ManualClock()
    schedule = SealSchedule(clock, every_minutes=0, every_events=5)
    await file_reports(store, 4)
    assert await schedule.seal_due(nc, store) is Outcome.NOTHING_DUE
    before = await seal_status(nc, store, now=clock.now())
    assert (before.sealed_through, before.unsealed_events, before.last_sequence) == (0, 4, 4)

    await file_reports(store, 1)
    assert await schedule.seal_due(nc, store) is Outcome.SEALED

    after = await seal_status(nc, store, now=clock.now())
    assert (after.sealed_through, after.unsealed_events, after.last_sequence) == (5, 0, 6)  # the seal itself is not waiting
    assert after.since == clock.now() and after.age_seconds == 0
    assert [(seal.first_sequence, seal.last_sequence) for seal in await seals_of(nc, store)] == [(1, 5)]
    verdict = await verified(nats_url, store)
    assert verdict.ok and verdict.sealed_through == 5


async def test_a_round_seals_once_events_have_waited_n_minutes(nc, store, nats_url):
    clock = ManualClock()
    schedule = SealSchedule(clock, every_minutes=15, every_events=0)
    await file_reports(store, 2)
    clock.advance(minutes=14)
    assert await schedule.seal_due(nc, store) is Outcome.NOTHING_DUE
    clock.advance(minutes=1, seconds=1)
    assert (await seal_status(nc, store, now=clock.now())).age_seconds >= 15 * 60
    assert await schedule.seal_due(nc, store) is Outcome.SEALED

    await file_reports(store, 1)  # waits for the next period, counted from the seal
    clock.advance(minutes=14)
    assert await schedule.seal_due(nc, store) is Outcome.NOTHING_DUE
    before = await seal_status(nc, store, now=clock.now())
    assert (before.sealed_through, before.unsealed_events, before.age_seconds) == (2, 1, 14 * 60)
    clock.advance(minutes=1)
    assert await schedule.seal_due(nc, store) is Outcome.SEALED
    after = await seal_status(nc, store, now=clock.now())
    assert (after.sealed_through, after.unsealed_events, after.age_seconds) == (4, 0, 0)
    assert [(seal.first_sequence, seal.last_sequence) for seal in await seals_of(nc, store)] == [(1, 2), (3, 4)]
    assert (await verified(nats_url, store)).ok


async def test_nothing_new_means_no_seal_however_long_it_has_been(nc, store):
    clock = ManualClock()
    schedule = SealSchedule(clock, every_minutes=15, every_events=1)
    assert await schedule.seal_due(nc, store) is Outcome.NOTHING_DUE  # an empty log
    assert (await seal_status(nc, store, now=clock.now())).since is None

    await file_reports(store, 3)
    assert await schedule.seal_due(nc, store) is Outcome.SEALED
    last = await store.last_sequence()
    for _ in range(3):  # a seal's own event never calls for another seal
        clock.advance(days=1)
        assert await schedule.seal_due(nc, store) is Outcome.NOTHING_DUE
    assert await store.last_sequence() == last
    quiet = await seal_status(nc, store, now=clock.now())
    assert quiet.unsealed_events == 0 and not quiet.stale(timedelta(minutes=30))


async def test_two_sealers_racing_never_overlap_or_leave_a_gap(nc, store, nats_url):
    clock = ManualClock()
    first, second = (SealSchedule(clock, every_minutes=0, every_events=1, chunk=4) for _ in range(2))
    for count in (10, 1, 7, 3):
        await file_reports(store, count)
        outcomes = await asyncio.gather(first.seal_due(nc, store), second.seal_due(nc, store))
        assert sorted(outcome.value for outcome in outcomes) == [Outcome.SEALED.value, Outcome.SEALED_ELSEWHERE.value]

    seals = await seals_of(nc, store)
    assert seals[0].first_sequence == 1
    assert all(later.first_sequence == earlier.last_sequence + 1 for earlier, later in zip(seals, seals[1:], strict=False))
    status = await seal_status(nc, store, now=clock.now())
    assert status.sealed_through == seals[-1].last_sequence and status.unsealed_events == 0
    verdict = await verified(nats_url, store)
    assert verdict.ok and verdict.seals == len(seals)


async def test_damage_stops_sealing_is_reported_and_is_not_retried_at_once(nc, store, caplog):
    clock = ManualClock()
    schedule = SealSchedule(clock, every_minutes=15, every_events=1)
    await file_reports(store, 3)
    assert await schedule.seal_due(nc, store) is Outcome.SEALED  # 1..3, the seal at 4
    await nc.jetstream().publish(store.subjects.of(report_filed()), b'{"type": "ReportFiled", "hash": "forged"}')  # 5
    await file_reports(store, 2)

    with caplog.at_level(logging.ERROR, logger="hazardloop.audit.seal_schedule"):
        assert await schedule.seal_due(nc, store) is Outcome.REFUSED
    assert "sequence 5" in caplog.text and "hazardloop audit verify" in caplog.text
    assert await schedule.seal_due(nc, store) is Outcome.PAUSED  # no hot loop over the same range
    clock.advance(minutes=14)
    assert await schedule.seal_due(nc, store) is Outcome.PAUSED
    clock.advance(minutes=1)
    assert await schedule.seal_due(nc, store) is Outcome.REFUSED  # still there: refused again, after the pause

    status = await seal_status(nc, store, now=clock.now())
    assert (status.sealed_through, status.unsealed_events) == (3, 3)
    assert status.stale(timedelta(minutes=10))  # the alert keeps firing


async def _file_a_report_made(url: str, stream: str, prefix: str, ago: timedelta) -> None:
    connection = await nats.connect(url)
    try:
        store = EventStore(connection, stream=stream, subjects=Subjects(prefix))
        await store.ensure_stream()
        await append_all(store, [report_filed(occurred_at=datetime.now(UTC) - ago)])
    finally:
        await connection.close()


def test_seal_status_exits_1_while_events_wait_too_long_for_a_seal(nats_url, stream_names, monkeypatch, tmp_path):
    stream, prefix = stream_names
    asyncio.run(_file_a_report_made(nats_url, stream, prefix, timedelta(hours=2)))
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    environment = {"HAZARDLOOP_SUBJECT_PREFIX": prefix, "HAZARDLOOP_SEAL_EVERY_MINUTES": "15", "COLUMNS": "200"}

    def audit(*args: str):
        return CliRunner().invoke(cli, ["audit", *args, "--nats-url", nats_url, "--stream", stream], env=environment)

    stale = audit("seal-status")  # waited 2 hours, stale after twice 15 minutes
    assert stale.exit_code == 1 and "stale" in stale.output, stale.output
    assert "sealed through sequence 0 of 1; 1 events not sealed yet" in stale.output and "never sealed" in stale.output
    assert audit("seal-status", "--stale-after", "180").exit_code == 0

    assert (sealed := audit("seal")).exit_code == 0, sealed.output
    fresh = audit("seal-status")
    assert fresh.exit_code == 0 and "fresh" in fresh.output, fresh.output
    assert "sealed through sequence 1 of 2; 0 events not sealed yet" in fresh.output


@pytest.mark.parametrize(("minutes", "events", "enabled"), [(15, 0, True), (0, 10, True), (0, 0, False)])
def test_either_trigger_may_be_turned_off_and_both_mean_manual_sealing(minutes, events, enabled):
    schedule = SealSchedule(ManualClock(datetime(2026, 6, 1, tzinfo=UTC)), every_minutes=minutes, every_events=events)
    assert schedule.enabled is enabled
