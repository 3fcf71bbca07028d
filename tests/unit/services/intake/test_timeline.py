"""A report's timeline as its reporter reads it, from the events intake's projection applied."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select

from hazardloop.events import (
    GENESIS_HASH,
    Accepted,
    AttachmentRef,
    Event,
    RectificationAccepted,
    RectificationAssigned,
    Rectified,
    RewardDeclined,
    RewardGranted,
)
from hazardloop.projections import Writer
from hazardloop_intake.api.reports import view
from hazardloop_intake.projection import projection
from hazardloop_intake.store import metadata, reports
from tests.factories import REPORTER, report_filed, verified

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def connection():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def timeline(connection, *events: Event) -> list[tuple[str, datetime, dict]]:
    handlers = projection(None).handlers  # type: ignore[arg-type]  # the store is not used
    for event in events:
        db = Writer(connection)
        handlers[type(event)](event, db)
        db.flush()
    row = connection.execute(select(reports)).one()
    return [(step.type, step.occurred_at, step.detail) for step in view(connection, row, with_timeline=True).timeline]


def decision(filed, kind, at: datetime, **payload) -> Event:
    return kind.record(
        prev_hash=GENESIS_HASH, tenant=filed.tenant, aggregate_id=filed.aggregate_id, actor="system:rewards",
        occurred_at=at, report_id=filed.aggregate_id, reporter=REPORTER, **payload,
    )


def test_each_step_shows_in_time_order_with_what_the_reporter_may_see(connection):
    photos = [AttachmentRef(digest=c * 64, content_type="image/jpeg", size=10, kind="image") for c in "ab"]
    filed = report_filed(occurred_at=T0, attachments=photos)
    checked = verified(filed, occurred_at=T0 + timedelta(hours=1))
    granted = decision(
        filed, RewardGranted, T0 + timedelta(hours=2), amount_fen=10_000, outcome="confirmed_hazard", grade="general", policy="p",
        payment_reference="PAY-1", approved_by="head-liu",
    )
    step = {"tenant": filed.tenant, "aggregate_id": filed.aggregate_id, "prev_hash": GENESIS_HASH}
    accepted = Accepted.record(**step, actor="verifier", occurred_at=T0 + timedelta(minutes=20))
    deadline = T0 + timedelta(days=7)
    assigned = RectificationAssigned.record(**step, actor="verifier", occurred_at=T0 + timedelta(hours=1, minutes=1), owner="maint-wang", deadline=deadline)
    fixed = Rectified.record(**step, actor="rectifier", occurred_at=T0 + timedelta(days=1), measures="Detector replaced")
    closed = RectificationAccepted.record(**step, actor="verifier", occurred_at=T0 + timedelta(days=2))
    assert timeline(connection, filed, accepted, checked, assigned, fixed, granted, closed) == [
        ("ReportFiled", T0, {"attachments": 2}),
        ("Accepted", T0 + timedelta(minutes=20), {}),
        ("Verified", T0 + timedelta(hours=1), {"grade": "general", "outcome": "confirmed_hazard"}),
        ("RectificationAssigned", T0 + timedelta(hours=1, minutes=1), {"deadline": deadline.isoformat()}),
        ("RewardGranted", T0 + timedelta(hours=2), {"amount_fen": 10_000}),
        ("Rectified", T0 + timedelta(days=1), {"measures": "Detector replaced"}),
        ("RectificationAccepted", T0 + timedelta(days=2), {}),
    ]
    report = connection.execute(select(reports)).one()
    assert report.status == "closed" and report.closed_at == T0 + timedelta(days=2)


def test_a_declined_reward_shows_its_reason_and_an_open_report_only_its_filing(connection):
    filed = report_filed(occurred_at=T0)
    assert timeline(connection, filed) == [("ReportFiled", T0, {"attachments": 0})]
    checked = verified(filed, outcome="not_confirmed", grade=None, occurred_at=T0 + timedelta(hours=1))
    declined = decision(filed, RewardDeclined, T0 + timedelta(hours=2), reason="not confirmed on site")
    assert timeline(connection, checked, declined)[1:] == [
        ("Verified", T0 + timedelta(hours=1), {"grade": None, "outcome": "not_confirmed"}),
        ("RewardDeclined", T0 + timedelta(hours=2), {"reason": "not confirmed on site"}),
    ]
