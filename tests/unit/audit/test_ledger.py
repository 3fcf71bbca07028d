"""The ledger's fold: deadlines moved by extensions, rework after a rejection, declines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.audit.ledger import build_ledger, spreadsheet_safe
from hazardloop.events import (
    ExtensionGranted,
    RectificationAssigned,
    RectificationRejected,
    Rectified,
    RewardDeclined,
)
from tests.factories import REPORTER, report_filed, verified

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def follow(event, kind, at, **payload):
    return kind.record(prev_hash=event.hash, tenant=event.tenant, aggregate_id=event.aggregate_id, actor="x", occurred_at=at, **payload)


def test_the_row_follows_the_report_through_rework_and_an_extension():
    filed = report_filed(occurred_at=AT, description="=HYPERLINK(\"x\")")
    check = verified(filed, grade="larger", occurred_at=AT + timedelta(hours=1))
    assigned = follow(check, RectificationAssigned, AT + timedelta(hours=2), owner="maint-chen", deadline=AT + timedelta(days=7))
    extended = follow(assigned, ExtensionGranted, AT + timedelta(days=5), deadline=AT + timedelta(days=10))
    fixed = follow(extended, Rectified, AT + timedelta(days=6), measures="Guard refitted.")
    rejected = follow(fixed, RectificationRejected, AT + timedelta(days=6, hours=3), reason="Interlock not wired.")
    other = report_filed(tenant="mine", occurred_at=AT)
    log = list(enumerate([filed, other, check, assigned, extended, fixed, rejected], start=1))
    ledger = build_ledger(log, "refinery")
    [row] = ledger.rows
    assert (row.status, row.owner, row.deadline, row.rectified_at, row.closed_at) == ("rectifying", "maint-chen", AT + timedelta(days=10), None, None)
    assert (row.measures, row.grade, row.reporter, ledger.through_sequence, ledger.timezone) == ("Guard refitted.", "larger", REPORTER, 7, "Asia/Shanghai")
    assert spreadsheet_safe(row.situation).startswith("'=")


def test_a_declined_reward_reads_zero_and_the_period_filters_by_filing():
    filed = report_filed(occurred_at=AT)
    check = verified(filed, "not_confirmed", None, occurred_at=AT + timedelta(hours=1))
    declined = RewardDeclined.record(prev_hash="0" * 64, tenant=filed.tenant, aggregate_id=filed.aggregate_id, actor="system:rewards",
                                     report_id=filed.aggregate_id, reporter=REPORTER, reason="Not confirmed on site.")
    log = list(enumerate([filed, check, declined], start=1))
    [row] = build_ledger(log, "refinery", since=AT, until=AT + timedelta(days=1)).rows
    assert (row.status, row.reward_yuan, row.reward_status) == ("not confirmed", 0, "declined")
    assert build_ledger(log, "refinery", since=AT + timedelta(seconds=1)).rows == []
