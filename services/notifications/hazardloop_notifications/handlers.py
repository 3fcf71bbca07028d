"""Notifications' event handlers: one inbox message per event of a report, keyed by event id."""

from __future__ import annotations

from hazardloop.eventstore import EventStore
from hazardloop.events import (
    Accepted,
    Event,
    RectificationAccepted,
    RectificationAssigned,
    Rectified,
    ReportFiled,
    ReporterFedBack,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    Verified,
)
from hazardloop.projection import Projection
from hazardloop.writer import Writer
from hazardloop_notifications.messages import message_for
from hazardloop_notifications.store import inbox, metadata, reporters


def _deliver(event: Event, db: Writer, *, report_id: str) -> None:
    kind, text = message_for(event)
    db.insert(
        inbox,
        message_id=str(event.event_id),
        tenant=event.tenant,
        report_id=report_id,
        kind=kind,
        text=text,
        created_at=event.occurred_at,
    )


def when_report_filed_confirm_receipt(event: ReportFiled, db: Writer) -> None:
    db.insert(reporters, report_id=event.aggregate_id, tenant=event.tenant, reporter=event.reporter)
    _deliver(event, db, report_id=event.aggregate_id)


def when_report_progressed_tell_reporter(event: Event, db: Writer) -> None:
    _deliver(event, db, report_id=event.aggregate_id)


def when_reward_decided_tell_reporter(event: RewardProposed | RewardGranted | RewardDeclined, db: Writer) -> None:
    _deliver(event, db, report_id=event.report_id)


def projection(_: EventStore) -> Projection:
    return Projection(
        name="notifications",
        metadata=metadata,
        handlers={
            ReportFiled: when_report_filed_confirm_receipt,
            Accepted: when_report_progressed_tell_reporter,
            Verified: when_report_progressed_tell_reporter,
            RectificationAssigned: when_report_progressed_tell_reporter,
            Rectified: when_report_progressed_tell_reporter,
            RectificationAccepted: when_report_progressed_tell_reporter,
            ReporterFedBack: when_report_progressed_tell_reporter,
            RewardProposed: when_reward_decided_tell_reporter,
            RewardGranted: when_reward_decided_tell_reporter,
            RewardDeclined: when_reward_decided_tell_reporter,
        },
    )
