"""Intake's command handler and the event handlers that keep its read model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hazardloop.errors import Invalid
from hazardloop.eventstore import EventStore
from hazardloop.events import Outcome, Rectified, ReportFiled, RewardDeclined, RewardGranted, Verified, stable_id
from hazardloop.projection import Projection
from hazardloop.writer import Writer
from hazardloop_intake.domain import FileReport, file_report, same_report
from hazardloop_intake.store import metadata, reports


async def handle_file_report(
    store: EventStore, command: FileReport, *, reporter: str, idempotency_key: str | None
) -> tuple[ReportFiled, bool]:
    """Record a report; a retry with the same Idempotency-Key returns the first one.

    The report id is derived from the key, so the retry targets the same aggregate and
    the broker, not this process, decides that it already exists (across restarts too).
    """
    if idempotency_key is None:
        report_id = str(uuid.uuid4())
    else:
        report_id = str(stable_id("report", command.tenant, reporter, idempotency_key))
    event = file_report(
        command, report_id=report_id, reporter=reporter, event_id=stable_id(report_id, "filed"), now=datetime.now(UTC)
    )
    appended = await store.append(event, expected_version=0)
    if not appended.duplicate:
        return event, True
    history = await store.load(command.tenant, "report", report_id)
    stored = history.events[0].event
    if not same_report(stored, command):
        raise Invalid("this Idempotency-Key was already used for a different report", field="Idempotency-Key")
    return stored, False


def when_report_filed_record_it(event: ReportFiled, db: Writer) -> None:
    db.insert(
        reports,
        report_id=event.aggregate_id,
        tenant=event.tenant,
        reporter=event.reporter,
        anonymous=event.anonymous,
        category=event.category.value,
        description=event.description,
        site=event.location.site,
        area=event.location.area,
        spot=event.location.spot,
        channel=event.channel.value,
        observed_at=event.observed_at,
        filed_at=event.occurred_at,
        status="filed",
        updated_at=event.occurred_at,
    )


def when_verified_show_outcome(event: Verified, db: Writer) -> None:
    status = "verified" if event.outcome != Outcome.NOT_CONFIRMED else "not_confirmed"
    db.update(
        reports,
        {"report_id": event.aggregate_id},
        status=status,
        outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        updated_at=event.occurred_at,
    )


def when_rectified_show_measures(event: Rectified, db: Writer) -> None:
    db.update(
        reports, {"report_id": event.aggregate_id}, status="rectified", measures=event.measures, updated_at=event.occurred_at
    )


def when_reward_granted_show_amount(event: RewardGranted, db: Writer) -> None:
    db.update(reports, {"report_id": event.report_id}, reward_fen=event.amount_fen, updated_at=event.occurred_at)


def when_reward_declined_show_zero(event: RewardDeclined, db: Writer) -> None:
    db.update(reports, {"report_id": event.report_id}, reward_fen=0, updated_at=event.occurred_at)


def projection(_: EventStore) -> Projection:
    return Projection(
        name="intake",
        metadata=metadata,
        handlers={
            ReportFiled: when_report_filed_record_it,
            Verified: when_verified_show_outcome,
            Rectified: when_rectified_show_measures,
            RewardGranted: when_reward_granted_show_amount,
            RewardDeclined: when_reward_declined_show_zero,
        },
    )
