"""The dashboard's checks elsewhere, folded by the console from the log: each subsidiary
asked to check, what it answered, what it found there too, what is overdue; and the same
figures as of a moment before the answers came."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.events import (
    GENESIS_HASH,
    CheckAnswered,
    CheckExtensionGranted,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
)
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop.runtime.settings import CommonSettings
from hazardloop_console import figures
from hazardloop_console.projection import projection
from hazardloop_console.snapshots import Snapshots
from tests.integration.services.test_console_dashboard import ZONE

ASKED = ["mine", "refinery", "steelmill", "chemicals"]
CHECK = "c-0001"


def opened(tenant: str, at: datetime) -> CheckTaskOpened:
    return CheckTaskOpened.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=CHECK, actor="hazardloop/verification", occurred_at=at,
        origin_tenant="refinery", report_id="r-origin", category="unsafe_equipment", look_for="Gas detectors switched off",
        deadline=at + timedelta(days=2),
    )


def then(previous, kind, **fields):
    return kind.record(prev_hash=previous.hash, tenant=previous.tenant, aggregate_id=previous.aggregate_id, actor="someone", **fields)


async def test_what_each_subsidiary_asked_to_check_answered_found_or_left_overdue_and_as_of_a_moment(store, nc, nats_url, tmp_path):
    now = datetime.now(UTC)
    raised = CheckRaised.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id=CHECK, actor="hq-liu", occurred_at=now - timedelta(days=4),
        report_id="r-origin", grade="major", category="unsafe_equipment", look_for="Gas detectors switched off",
        subsidiaries=tuple(ASKED),
    )
    await store.append(raised, expected_version=0)
    tasks = {tenant: opened(tenant, now - timedelta(days=4)) for tenant in ASKED}
    versions = {}
    for tenant, task in tasks.items():
        versions[tenant] = (await store.append(task, expected_version=0)).sequence
    moment = datetime.now(UTC)
    before_answers = await store.last_sequence()

    deadline = tasks["mine"].deadline
    steps = [
        then(tasks["mine"], CheckAnswered, answer="found", found_report_id="r-found-here"),
        then(tasks["refinery"], CheckAnswered, answer="not_present"),
        then(tasks["steelmill"], CheckTaskOverdue, deadline=deadline),  # late: no answer
        then(tasks["chemicals"], CheckTaskOverdue, deadline=deadline),
    ]
    for step in steps:
        versions[step.tenant] = (await store.append(step, expected_version=versions[step.tenant])).sequence
    more_time = then(steps[3], CheckExtensionGranted, deadline=now + timedelta(days=3))  # no longer overdue
    await store.append(more_time, expected_version=versions["chemicals"])

    engine = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    await rebuild(ProjectionRunner(projection(store), engine, store), nc)
    day = now.astimezone(ZONE).date()
    scope = figures.Scope(ASKED, day - timedelta(weeks=2), day, now, ZONE)
    assert figures.dashboard(engine, scope).checks == [
        {"tenant": "chemicals", "raised": 1, "answered": 0, "found": 0, "overdue": 0},
        {"tenant": "mine", "raised": 1, "answered": 1, "found": 1, "overdue": 0},
        {"tenant": "refinery", "raised": 1, "answered": 1, "found": 0, "overdue": 0},
        {"tenant": "steelmill", "raised": 1, "answered": 0, "found": 0, "overdue": 1},
    ]
    # a subsidiary not chosen, and a period before the check, count nothing
    assert [r["tenant"] for r in figures.dashboard(engine, figures.Scope(["mine"], scope.since, day, now, ZONE)).checks] == ["mine"]
    assert figures.dashboard(engine, figures.Scope(ASKED, day - timedelta(weeks=8), day - timedelta(weeks=2), now, ZONE)).checks == []

    settings = CommonSettings(nats_url=nats_url, stream_name=store.stream, subject_prefix=store.subjects.prefix, state_dir=tmp_path,
                              tenants=ASKED)
    snapshot = await Snapshots(settings).at(moment, wait=300)
    assert snapshot.sequence == before_answers
    as_of = figures.dashboard(snapshot.engine(), figures.Scope(ASKED, scope.since, day, moment, ZONE))
    assert as_of.checks == [{"tenant": t, "raised": 1, "answered": 0, "found": 0, "overdue": 0} for t in sorted(ASKED)]
    engine.dispose()
