"""The gauges services read from their stores count the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from hazardloop.projections.db import create_store_engine
from hazardloop_notifications import metrics as notification_metrics
from hazardloop_notifications.store import attempts, deliveries, inbox, metadata, reports, sender_metadata
from hazardloop_verification import metrics as verification_metrics
from hazardloop_verification.store import check_timers, timers
from hazardloop_verification.store import metadata as verification_metadata
from tests.clock import ManualClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def read(engine: Engine, gauges) -> dict[str, dict]:
    with engine.connect() as connection:
        return {gauge.name: dict(gauge.read(connection)) for gauge in gauges}


def delivery(key: str, channel: str, status: str, created_at: datetime) -> dict:
    return {
        "key": key, "tenant": "refinery", "report_id": "r-1", "kind": "report_filed", "channel": channel,
        "recipient": "safety-li", "address": "li@refinery.example", "format": None, "language": "en", "params": "{}",
        "source_event_id": key, "created_at": created_at, "status": status, "attempts": 1, "error": None, "settled_at": None, "quotes": None,
    }


def test_notifications_counts_deliveries_by_channel_and_state_and_its_due_reminders(database_url):
    engine = create_store_engine(database_url)
    metadata.create_all(engine)
    sender_metadata.create_all(engine)
    with engine.begin() as db:
        db.execute(deliveries.insert(), [
            delivery("d-1", "email", "pending", NOW - timedelta(minutes=30)),
            delivery("d-2", "email", "failed", NOW - timedelta(hours=2)),
            delivery("d-3", "webhook", "sent", NOW - timedelta(hours=3)),
        ])
        db.execute(inbox.insert(), [{
            "box": "r-1", "message_id": "m-1", "tenant": "refinery", "report_id": "r-1", "kind": "report_filed", "params": "{}",
            "created_at": NOW - timedelta(minutes=5), "key": "i-1", "language": "en", "status": "pending", "attempts": 0,
        }])
        db.execute(attempts.insert(), [{"key": "d-1", "attempts": 1, "next_attempt_at": NOW, "last_error": "SMTPConnectError", "done": False}])
        db.execute(reports.insert(), [{
            "report_id": "r-1", "tenant": "refinery", "reporter": "p-1", "anonymous": False, "category": "fire", "subtype": "x",
            "place": "p", "description": "d", "filed_at": NOW - timedelta(days=3), "stage": "rectifying", "overdue": False,
            "next_reminder_at": NOW - timedelta(minutes=15),
        }])

    found = read(engine, notification_metrics.gauges(ManualClock(NOW)))
    assert found["hazardloop_notification_deliveries"] == {("email", "pending"): 1, ("email", "failed"): 1, ("inbox", "pending"): 1}
    assert found["hazardloop_notification_deliveries_retrying"] == {("email",): 1}
    assert found["hazardloop_notification_oldest_pending_seconds"] == {(): 30 * 60}
    assert found["hazardloop_timers_due"] == {("reminder",): 1}
    assert found["hazardloop_timers_overdue_seconds"] == {("reminder",): 15 * 60}
    engine.dispose()


def test_verification_counts_the_clocks_due_and_not_fired(database_url):
    engine = create_store_engine(database_url)
    verification_metadata.create_all(engine)
    clock = {"tenant": "refinery", "kind": "accept", "deadline": None, "step": None}
    with engine.begin() as db:
        db.execute(timers.insert(), [
            {**clock, "report_id": "r-1", "key": "accept", "due_at": NOW - timedelta(hours=1), "status": "pending"},
            {**clock, "report_id": "r-2", "key": "accept", "due_at": NOW - timedelta(minutes=1), "status": "pending"},
            {**clock, "report_id": "r-3", "key": "accept", "due_at": NOW - timedelta(days=1), "status": "fired"},
            {**clock, "report_id": "r-4", "key": "accept", "due_at": NOW + timedelta(hours=1), "status": "pending"},
        ])
        db.execute(check_timers.insert(), [
            {"check_id": "c-1", "tenant": "mine", "key": "overdue", "kind": "overdue", "due_at": NOW + timedelta(days=1), "status": "pending"},
        ])

    found = read(engine, verification_metrics.gauges(ManualClock(NOW)))
    assert found["hazardloop_timers_due"] == {("report",): 2, ("check",): 0}
    assert found["hazardloop_timers_overdue_seconds"] == {("report",): 3600, ("check",): 0}
    engine.dispose()
