"""The dashboard's fraud signals, folded by the console from the log: each subsidiary's
signals raised, dismissed and confirmed in the period, and as of a moment between them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.events import GENESIS_HASH, SignalConfirmed, SignalDismissed, SignalRaised, SignalRule
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop.runtime.settings import CommonSettings
from hazardloop_console import figures
from hazardloop_console.projection import projection
from hazardloop_console.snapshots import Snapshots
from tests.integration.services.test_console_dashboard import ZONE

TENANTS = ["mine", "refinery", "steelmill"]


def decided(kind, tenant: str, number: int, at: datetime, previous=None, **fields):
    return kind.record(prev_hash=previous.hash if previous else GENESIS_HASH, tenant=tenant, aggregate_id=f"sig-{number:032x}",
                       actor="head-liu", occurred_at=at, rule=SignalRule.NEAR_DUPLICATES, evidence=("r-1", "r-2", "r-3"), **fields)


def raised(tenant: str, number: int, fired: datetime):
    return SignalRaised.record(prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=f"sig-{number:032x}", actor="signals:rewards",
                               occurred_at=fired + timedelta(seconds=5), rule=SignalRule.NEAR_DUPLICATES, reporter="p-" + "ab" * 16,
                               evidence=("r-1", "r-2", "r-3"), figures={"reports": 3, "days": 14}, raised_at=fired)  # fmt: skip


async def test_each_subsidiarys_signals_raised_dismissed_and_confirmed_and_as_of_a_moment_between(store, nc, nats_url, tmp_path):
    now = datetime.now(UTC)
    signal = raised("mine", 1, now - timedelta(days=4))
    recorded = await store.append(signal, expected_version=0)
    await store.append(raised("mine", 5, now - timedelta(days=3, hours=1)), expected_version=0)  # never decided
    await store.append(raised("refinery", 6, now - timedelta(days=30 * 6)), expected_version=0)  # raised long before the period
    dismissed = decided(SignalDismissed, "mine", 1, now - timedelta(days=3), previous=signal, reason="Three separate leaks")
    first = await store.append(dismissed, expected_version=recorded.sequence)
    await store.append(decided(SignalDismissed, "steelmill", 2, now - timedelta(days=2), reason="Different pumps"), expected_version=0)
    moment = datetime.now(UTC)
    # the first signal came back with more evidence and was then confirmed; another was confirmed outright
    await store.append(decided(SignalConfirmed, "mine", 1, now - timedelta(days=1), previous=dismissed), expected_version=first.sequence)
    await store.append(decided(SignalConfirmed, "refinery", 3, now - timedelta(hours=5)), expected_version=0)
    await store.append(raised("steelmill", 7, now - timedelta(hours=4)), expected_version=0)  # fired before the moment, recorded after
    await store.append(decided(SignalConfirmed, "refinery", 4, now - timedelta(weeks=20)), expected_version=0)  # long before

    engine = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    await rebuild(ProjectionRunner(projection(store), engine, store), nc)
    day = now.astimezone(ZONE).date()
    scope = figures.Scope(TENANTS, day - timedelta(weeks=4), day, now, ZONE)
    assert figures.dashboard(engine, scope).signals == [
        {"tenant": "mine", "raised": 2, "dismissed": 1, "confirmed": 1},
        {"tenant": "refinery", "raised": 0, "dismissed": 0, "confirmed": 1},
        {"tenant": "steelmill", "raised": 1, "dismissed": 1, "confirmed": 0},
    ]
    settings = CommonSettings(nats_url=nats_url, stream_name=store.stream, subject_prefix=store.subjects.prefix, state_dir=tmp_path)
    snapshot = await Snapshots(settings).at(moment, wait=300)
    as_of = figures.dashboard(snapshot.engine(), figures.Scope(TENANTS, scope.since, day, moment, ZONE))
    assert as_of.signals == [
        {"tenant": "mine", "raised": 2, "dismissed": 1, "confirmed": 0},
        {"tenant": "steelmill", "raised": 0, "dismissed": 1, "confirmed": 0},
    ]
    engine.dispose()
