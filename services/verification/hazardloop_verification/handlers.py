"""Verification's command handlers (guarded by the broker) and read-model handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hazardloop.eventstore import ConcurrencyError, EventStore
from hazardloop.events import Event, Outcome, Rectified, ReportFiled, Verified
from hazardloop.projection import Projection
from hazardloop.writer import Writer
from hazardloop_verification.domain import ReportCase, Rectify, Stage, Verify
from hazardloop_verification.store import cases, metadata

ATTEMPTS = 3


async def _decide(store: EventStore, tenant: str, report_id: str, decide: Callable[[ReportCase], Event]) -> Event:
    """Load the case from the log, decide, append guarded by the case's last sequence.

    A lost race reloads and decides again, so the loser sees the winner's event and
    gets the domain's own answer (for example: already verified).
    """
    for attempt in range(1, ATTEMPTS + 1):
        history = await store.load(tenant, "report", report_id)
        event = decide(ReportCase.from_history(tenant, report_id, history))
        try:
            await store.append(event, expected_version=history.version)
            return event
        except ConcurrencyError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def handle_verify(store: EventStore, tenant: str, report_id: str, command: Verify, actor: str) -> Verified:
    return await _decide(store, tenant, report_id, lambda case: case.verify(command, actor=actor, now=datetime.now(UTC)))


async def handle_rectify(store: EventStore, tenant: str, report_id: str, command: Rectify, actor: str) -> Rectified:
    return await _decide(store, tenant, report_id, lambda case: case.rectify(command, actor=actor, now=datetime.now(UTC)))


def when_report_filed_queue_it(event: ReportFiled, db: Writer) -> None:
    db.insert(
        cases,
        report_id=event.aggregate_id,
        tenant=event.tenant,
        category=event.category.value,
        description=event.description,
        site=event.location.site,
        area=event.location.area,
        spot=event.location.spot,
        filed_at=event.occurred_at,
        stage=Stage.FILED.value,
    )


def when_verified_record_outcome(event: Verified, db: Writer) -> None:
    stage = Stage.VERIFIED if event.outcome != Outcome.NOT_CONFIRMED else Stage.CLOSED_UNCONFIRMED
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        stage=stage.value,
        outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        verified_by=event.actor,
        verified_at=event.occurred_at,
    )


def when_rectified_record_measures(event: Rectified, db: Writer) -> None:
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        stage=Stage.RECTIFIED.value,
        measures=event.measures,
        rectified_at=event.occurred_at,
    )


def projection(_: EventStore) -> Projection:
    return Projection(
        name="verification",
        metadata=metadata,
        handlers={
            ReportFiled: when_report_filed_queue_it,
            Verified: when_verified_record_outcome,
            Rectified: when_rectified_record_measures,
        },
    )
