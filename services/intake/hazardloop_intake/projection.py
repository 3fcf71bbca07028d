"""The event handlers that keep intake's read model: reports and their steps, the catalogue."""

from __future__ import annotations

from sqlalchemy import select

from hazardloop.events import (
    Accepted,
    ExtensionGranted,
    IdentityDisclosed,
    Outcome,
    PlaceCatalogued,
    PlaceRetired,
    RectificationAccepted,
    RectificationAssigned,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    ReporterWrote,
    ReportFiled,
    ReportTextShredded,
    RewardApproved,
    RewardClaimed,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    StaffWrote,
    Verified,
)
from hazardloop.log.eventstore import EventStore
from hazardloop.privacy.sealing import forget, text_token
from hazardloop.projections import Projection, Writer
from hazardloop_intake.store import attachments, disclosures, metadata, places, reports, rewards, thread

CLOSED = frozenset({"closed", "not_confirmed", "duplicate"})
"""Statuses after which a new report on the same spot is no longer a possible duplicate."""

_STATUS_AFTER = {
    Outcome.CONFIRMED_HAZARD: "verified",
    Outcome.VALID_NOT_HAZARD: "closed",
    Outcome.NOT_CONFIRMED: "not_confirmed",
    Outcome.DUPLICATE: "duplicate",
}


def when_report_filed_record_it(event: ReportFiled, db: Writer) -> None:
    location = event.location
    db.insert(
        reports,
        report_id=event.aggregate_id,
        tenant=event.tenant,
        reporter=event.reporter,
        anonymous=event.anonymous,
        receipt_digest=event.receipt_digest,
        category=event.category.value,
        subtype=event.subtype,
        description=text_token(event.tenant, event.description),
        site=location.site,
        area=location.area,
        spot=location.spot,
        place_id=location.place_id,
        equipment_tag=location.equipment_tag,
        channel=event.channel.value,
        entered_by=event.entered_by,
        cause_analysis=text_token(event.tenant, event.cause_analysis),
        suggested_fix=text_token(event.tenant, event.suggested_fix),
        emergency_action=text_token(event.tenant, event.emergency_action),
        possible_duplicate_of=event.possible_duplicate_of,
        observed_at=event.observed_at,
        filed_at=event.occurred_at,
        status="filed",
        updated_at=event.occurred_at,
    )
    for position, attachment in enumerate(event.attachments):
        db.insert(
            attachments,
            report_id=event.aggregate_id,
            digest=attachment.digest,
            tenant=event.tenant,
            position=position,
            kind=attachment.kind.value,
            content_type=attachment.content_type,
            size=attachment.size,
            thumbnail=attachment.thumbnail,
        )


def when_accepted_show_it(event: Accepted, db: Writer) -> None:
    db.update(reports, {"report_id": event.aggregate_id}, status="accepted", accepted_at=event.occurred_at, updated_at=event.occurred_at)


def when_verified_show_outcome(event: Verified, db: Writer) -> None:
    status = _STATUS_AFTER[event.outcome]
    grade = event.grade.value if event.grade else None
    closed = event.occurred_at if status == "closed" else None
    db.update(
        reports, {"report_id": event.aggregate_id}, status=status, outcome=event.outcome.value, grade=grade,
        verified_at=event.occurred_at, closed_at=closed, updated_at=event.occurred_at,
    )


def when_assigned_show_deadline(event: RectificationAssigned, db: Writer) -> None:
    db.update(
        reports, {"report_id": event.aggregate_id}, status="rectifying", deadline=event.deadline,
        assigned_at=event.occurred_at, updated_at=event.occurred_at,
    )


def when_extension_granted_move_deadline(event: ExtensionGranted, db: Writer) -> None:
    db.update(reports, {"report_id": event.aggregate_id}, deadline=event.deadline, updated_at=event.occurred_at)


def when_rectified_show_measures(event: Rectified, db: Writer) -> None:
    db.update(
        reports, {"report_id": event.aggregate_id}, status="closed" if event.on_the_spot else "rectified",
        measures=event.measures, rectified_at=event.occurred_at, closed_at=event.occurred_at if event.on_the_spot else None,
        updated_at=event.occurred_at,
    )


def when_rectification_rejected_show_rework(event: RectificationRejected, db: Writer) -> None:
    db.update(reports, {"report_id": event.aggregate_id}, status="rectifying", updated_at=event.occurred_at)


def when_rectification_accepted_close(event: RectificationAccepted, db: Writer) -> None:
    db.update(reports, {"report_id": event.aggregate_id}, status="closed", closed_at=event.occurred_at, updated_at=event.occurred_at)


def when_reward_granted_show_amount(event: RewardGranted, db: Writer) -> None:
    db.update(
        reports, {"report_id": event.report_id}, reward_fen=event.amount_fen,
        reward_decided_at=event.occurred_at, updated_at=event.occurred_at,
    )
    when_reward_moved_show_stage(event, db)


def when_reward_declined_show_zero(event: RewardDeclined, db: Writer) -> None:
    db.update(
        reports, {"report_id": event.report_id}, reward_fen=0, reward_declined=text_token(event.tenant, event.reason),
        reward_decided_at=event.occurred_at, updated_at=event.occurred_at,
    )
    when_reward_moved_show_stage(event, db)


def when_reward_proposed_show_it(event: RewardProposed, db: Writer) -> None:
    db.insert(
        rewards, report_id=event.report_id, stage="proposed", amount_fen=event.amount_fen, claimed=False, channel=None,
        updated_at=event.occurred_at,
    )


def when_reward_moved_show_stage(event: RewardReferred | RewardApproved | RewardGranted | RewardDeclined | RewardRevoked, db: Writer) -> None:
    """The reward's stage; an amount the approval adjusted, and how a paid one was paid."""
    changes = {"stage": _REWARD_STAGE[type(event)], "updated_at": event.occurred_at}
    if isinstance(event, RewardApproved | RewardReferred | RewardGranted):
        changes["amount_fen"] = event.amount_fen
    if isinstance(event, RewardGranted):
        changes["channel"] = event.channel.value
    db.update(rewards, {"report_id": event.aggregate_id}, **changes)


def when_reward_claimed_note_it(event: RewardClaimed, db: Writer) -> None:
    db.update(rewards, {"report_id": event.aggregate_id}, claimed=True, updated_at=event.occurred_at)


_REWARD_STAGE = {
    RewardReferred: "referred",
    RewardApproved: "approved",
    RewardGranted: "granted",
    RewardDeclined: "declined",
    RewardRevoked: "revoked",
}


def when_written_add_to_thread(event: ReporterWrote | StaffWrote | ReporterFedBack, db: Writer) -> None:
    """The thread as the reporter reads it: feedback from casework is a message to them too."""
    db.insert(
        thread,
        event_id=str(event.event_id),
        report_id=event.aggregate_id,
        tenant=event.tenant,
        from_reporter=isinstance(event, ReporterWrote),
        text=text_token(event.tenant, event.message if isinstance(event, ReporterFedBack) else event.text),
        actor=event.actor,
        written_at=event.occurred_at,
    )


SEALED_COLUMNS = ("description", "cause_analysis", "suggested_fix", "emergency_action", "reward_declined")


def when_text_shredded_forget_it(event: ReportTextShredded, db: Writer) -> None:
    report = db.get(reports, report_id=event.aggregate_id)
    if report is None:
        return
    forgotten = {column: forget(report[column], event.aggregate_id) for column in SEALED_COLUMNS}
    db.update(reports, {"report_id": event.aggregate_id}, **forgotten, text_shredded_at=event.occurred_at)
    db.flush()  # the thread's messages of this batch too
    written = db.connection.execute(select(thread.c.event_id, thread.c.text).where(thread.c.report_id == event.aggregate_id)).all()
    for message in written:
        if (kept := forget(message.text, event.aggregate_id)) != message.text:
            db.connection.execute(thread.update().where(thread.c.event_id == message.event_id).values(text=kept))
    looked = db.connection.execute(select(disclosures.c.event_id, disclosures.c.purpose).where(disclosures.c.report_id == event.aggregate_id)).all()
    for disclosure in looked:
        if (kept := forget(disclosure.purpose, event.aggregate_id)) != disclosure.purpose:
            db.connection.execute(disclosures.update().where(disclosures.c.event_id == disclosure.event_id).values(purpose=kept))


def when_place_catalogued_list_it(event: PlaceCatalogued, db: Writer) -> None:
    db.insert(
        places,
        tenant=event.tenant,
        place_id=event.aggregate_id,
        kind=event.kind.value,
        parent_id=event.parent_id,
        name=event.name,
        name_en=event.name_en,
        equipment_tag=event.equipment_tag,
        retired=False,
        catalogued_at=event.occurred_at,
    )


def when_place_retired_close_it(event: PlaceRetired, db: Writer) -> None:
    db.update(places, {"tenant": event.tenant, "place_id": event.aggregate_id}, retired=True)


def when_identity_disclosed_log_it(event: IdentityDisclosed, db: Writer) -> None:
    db.insert(
        disclosures,
        event_id=str(event.event_id),
        tenant=event.tenant,
        reporter=event.aggregate_id,
        report_id=event.report_id,
        purpose=text_token(event.tenant, event.purpose),
        role=event.role,
        actor=event.actor,
        occurred_at=event.occurred_at,
    )


def projection(_: EventStore) -> Projection:
    return Projection(
        name="intake",
        metadata=metadata,
        handlers={
            ReportFiled: when_report_filed_record_it,
            Accepted: when_accepted_show_it,
            Verified: when_verified_show_outcome,
            RectificationAssigned: when_assigned_show_deadline,
            ExtensionGranted: when_extension_granted_move_deadline,
            Rectified: when_rectified_show_measures,
            RectificationRejected: when_rectification_rejected_show_rework,
            RectificationAccepted: when_rectification_accepted_close,
            RewardGranted: when_reward_granted_show_amount,
            RewardDeclined: when_reward_declined_show_zero,
            RewardProposed: when_reward_proposed_show_it,
            RewardReferred: when_reward_moved_show_stage,
            RewardApproved: when_reward_moved_show_stage,
            RewardRevoked: when_reward_moved_show_stage,
            RewardClaimed: when_reward_claimed_note_it,
            ReporterWrote: when_written_add_to_thread,
            StaffWrote: when_written_add_to_thread,
            ReporterFedBack: when_written_add_to_thread,
            PlaceCatalogued: when_place_catalogued_list_it,
            PlaceRetired: when_place_retired_close_it,
            IdentityDisclosed: when_identity_disclosed_log_it,
            ReportTextShredded: when_text_shredded_forget_it,
        },
    )
