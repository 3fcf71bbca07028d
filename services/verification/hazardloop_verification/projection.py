"""Verification's read models, kept from the log: cases, their clocks, the policies.

Everything here is derived from events in log order (the policy in force when a report
was filed is the last one set before it in the log), so a replay rebuilds the same
rows, timers included, and appends nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import or_, select

from hazardloop.events import (
    Accepted,
    CaseworkPolicy,
    CaseworkPolicySet,
    EscalationRaised,
    EscalationStep,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    ReportFiled,
    ReportTextShredded,
    SlaBreached,
    Verified,
)
from hazardloop.log.eventstore import AggregateStore
from hazardloop.privacy.sealing import forget, text_token
from hazardloop.projections import Projection, RowView, Writer
from hazardloop.timing.deadlines import Timer, TimerKind, deadline_timers, sla_timers
from hazardloop_verification import check_projection
from hazardloop_verification.check_commands import FoundAnswers
from hazardloop_verification.domain import STAGE_AFTER, Stage
from hazardloop_verification.store import cases, metadata, policies, timers

PENDING, SUSPENDED, FIRED, STOPPED = "pending", "suspended", "fired", "stopped"


def policy_of(db: Writer, tenant: str) -> CaseworkPolicy:
    row = db.get(policies, tenant=tenant)
    return CaseworkPolicy.model_validate_json(row.policy) if row else CaseworkPolicy()


def _start(db: Writer, event_tenant: str, report_id: str, timer: Timer, *, status: str = PENDING) -> None:
    db.insert(
        timers,
        report_id=report_id,
        key=timer.key,
        tenant=event_tenant,
        kind=timer.kind.value,
        due_at=timer.due_at,
        deadline=timer.deadline,
        step=timer.step,
        status=status,
    )


def _move(db: Writer, report_id: str, timer_keys: list[str], *, from_: set[str], to: str) -> None:
    for key in timer_keys:
        row = db.get(timers, report_id=report_id, key=key)
        if row is not None and row.status in from_:
            db.update(timers, {"report_id": report_id, "key": key}, status=to)


def _ladder(case: RowView) -> list[EscalationStep]:
    return [EscalationStep.model_validate(step) for step in json.loads(case.ladder or "[]")]


def _deadline_keys(db: Writer, report_id: str) -> list[str]:
    """The keys of the clocks the report's current deadline started."""
    case = db.get(cases, report_id=report_id)
    if case is None or case.deadline is None:
        return []
    return [timer.key for timer in deadline_timers(case.deadline, _ladder(case))]


def when_policy_set_keep_it(event: CaseworkPolicySet, db: Writer) -> None:
    values = {"policy": event.policy.model_dump_json(), "set_by": event.actor, "set_at": event.occurred_at}
    if db.get(policies, tenant=event.tenant) is None:
        db.insert(policies, tenant=event.tenant, **values)
    else:
        db.update(policies, {"tenant": event.tenant}, **values)


def when_report_filed_open_case(event: ReportFiled, db: Writer) -> None:
    location = event.location
    policy = policy_of(db, event.tenant)
    db.insert(
        cases,
        report_id=event.aggregate_id,
        tenant=event.tenant,
        category=event.category.value,
        subtype=event.subtype,
        description=text_token(event.tenant, event.description),
        site=location.site,
        area=location.area,
        spot=location.spot,
        place_id=location.place_id,
        equipment_tag=location.equipment_tag,
        reporter=event.reporter,
        receipt_digest=event.receipt_digest,
        filed_at=event.occurred_at,
        stage=Stage.FILED.value,
        sla_breaches="",
        recurrence_of=_recurrence_of(db, event, policy),
    )
    for timer in sla_timers(event.occurred_at, policy):
        _start(db, event.tenant, event.aggregate_id, timer)


def _recurrence_of(db: Writer, event: ReportFiled, policy: CaseworkPolicy) -> str | None:
    """The latest report on the same spot or equipment, same category, closed within the window."""
    location = event.location
    same_place = [cases.c.place_id == location.place_id] if location.place_id else []
    same_place += [cases.c.equipment_tag == location.equipment_tag] if location.equipment_tag else []
    if not same_place or policy.recurrence_window_days == 0:
        return None
    db.flush()  # closures earlier in this batch count too, exactly as they would live
    query = (
        select(cases.c.report_id)
        .where(
            cases.c.tenant == event.tenant,
            cases.c.category == event.category.value,
            cases.c.stage == Stage.CLOSED.value,
            cases.c.closed_at >= event.occurred_at - timedelta(days=policy.recurrence_window_days),
            or_(*same_place),
        )
        .order_by(cases.c.closed_at.desc(), cases.c.report_id)
        .limit(1)
    )
    return db.connection.execute(query).scalar()


def when_accepted_stop_accept_clock(event: Accepted, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, stage=Stage.ACCEPTED.value, accepted_at=event.occurred_at)
    _move(db, event.aggregate_id, [TimerKind.ACCEPT.value], from_={PENDING}, to=STOPPED)


def when_verified_record_outcome(event: Verified, db: Writer) -> None:
    stage = STAGE_AFTER[event.outcome]
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        stage=stage.value,
        outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        risk_colour=event.risk_colour.value if event.risk_colour else None,
        factors=event.factors.model_dump_json() if event.factors else None,
        within_routine_duties=event.within_routine_duties,
        duplicate_of=event.duplicate_of,
        first_report_id=event.first_report_id,
        verified_by=event.actor,
        verified_at=event.occurred_at,
        fed_back_at=event.occurred_at,
        closed_at=event.occurred_at if stage != Stage.VERIFIED else None,
    )
    sla = [kind.value for kind in (TimerKind.ACCEPT, TimerKind.VERIFY, TimerKind.FEEDBACK)]
    _move(db, event.aggregate_id, sla, from_={PENDING}, to=STOPPED)


def when_assigned_start_deadline(event: RectificationAssigned, db: Writer) -> None:
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        stage=Stage.RECTIFYING.value,
        owner=event.owner,
        deadline=event.deadline,
        plan=event.plan.model_dump_json() if event.plan else None,
        ladder=json.dumps([step.model_dump(mode="json") for step in event.escalation]),
    )
    for timer in deadline_timers(event.deadline, event.escalation):
        _start(db, event.tenant, event.aggregate_id, timer)


def when_extension_requested_note_it(event: ExtensionRequested, db: Writer) -> None:
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        extension_requested_by=event.actor,
        extension_requested_deadline=event.requested_deadline,
        extension_reason=text_token(event.tenant, event.reason),
    )


def when_extension_granted_move_deadline(event: ExtensionGranted, db: Writer) -> None:
    _move(db, event.aggregate_id, _deadline_keys(db, event.aggregate_id), from_={PENDING, SUSPENDED}, to=STOPPED)
    case = db.get(cases, report_id=event.aggregate_id)
    held = case.stage == Stage.UNDER_REVIEW.value  # granted while the work is being checked
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        deadline=event.deadline,
        overdue_since=None,
        escalation_step=None,
        extension_requested_by=None,
        extension_requested_deadline=None,
        extension_reason=None,
    )
    for timer in deadline_timers(event.deadline, _ladder(case)):
        _start(db, event.tenant, event.aggregate_id, timer, status=SUSPENDED if held else PENDING)


def when_extension_refused_clear_it(event: ExtensionRefused, db: Writer) -> None:
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        extension_requested_by=None,
        extension_requested_deadline=None,
        extension_reason=None,
    )


def when_rectified_hold_clocks(event: Rectified, db: Writer) -> None:
    closed = event.on_the_spot
    db.update(
        cases,
        {"report_id": event.aggregate_id},
        stage=(Stage.CLOSED if closed else Stage.UNDER_REVIEW).value,
        measures=event.measures,
        rectified_at=event.occurred_at,
        closed_at=event.occurred_at if closed else None,
    )
    _move(db, event.aggregate_id, _deadline_keys(db, event.aggregate_id), from_={PENDING}, to=SUSPENDED)


def when_rectification_accepted_close(event: RectificationAccepted, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, stage=Stage.CLOSED.value, closed_at=event.occurred_at)
    _move(db, event.aggregate_id, _deadline_keys(db, event.aggregate_id), from_={PENDING, SUSPENDED}, to=STOPPED)


def when_rectification_rejected_restart_clocks(event: RectificationRejected, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, stage=Stage.RECTIFYING.value, rectified_at=None)
    _move(db, event.aggregate_id, _deadline_keys(db, event.aggregate_id), from_={SUSPENDED}, to=PENDING)


def when_fed_back_stop_feedback_clock(event: ReporterFedBack, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, fed_back_at=event.occurred_at)
    _move(db, event.aggregate_id, [TimerKind.FEEDBACK.value], from_={PENDING}, to=STOPPED)


def when_sla_breached_record(event: SlaBreached, db: Writer) -> None:
    case = db.get(cases, report_id=event.aggregate_id)
    breaches = [b for b in (case.sla_breaches or "").split(",") if b] + [event.clock.value]
    db.update(cases, {"report_id": event.aggregate_id}, sla_breaches=",".join(breaches))
    _move(db, event.aggregate_id, [event.clock.value], from_={PENDING}, to=FIRED)


def when_overdue_list_it(event: RectificationOverdue, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, overdue_since=event.deadline)
    key = Timer(TimerKind.OVERDUE, event.deadline, deadline=event.deadline).key
    _move(db, event.aggregate_id, [key], from_={PENDING}, to=FIRED)


def when_escalated_record_step(event: EscalationRaised, db: Writer) -> None:
    db.update(cases, {"report_id": event.aggregate_id}, escalation_step=event.step)
    key = Timer(TimerKind.ESCALATION, event.due_at, deadline=event.deadline, step=event.step).key
    _move(db, event.aggregate_id, [key], from_={PENDING}, to=FIRED)


def when_escalated_externally_record(event: ExternallyEscalated, db: Writer) -> None:
    db.update(
        cases, {"report_id": event.aggregate_id}, externally_escalated_at=event.occurred_at, authority=event.authority
    )


def when_text_shredded_forget_it(event: ReportTextShredded, db: Writer) -> None:
    case = db.get(cases, report_id=event.aggregate_id)
    if case is not None:
        forgotten = {column: forget(case[column], event.aggregate_id) for column in ("description", "extension_reason")}
        db.update(cases, {"report_id": event.aggregate_id}, **forgotten)


def projection(store: AggregateStore | None) -> Projection:
    found = FoundAnswers(store)
    return Projection(
        name="verification",
        metadata=metadata,
        handlers={
            CaseworkPolicySet: when_policy_set_keep_it,
            ReportFiled: when_report_filed_open_case,
            Accepted: when_accepted_stop_accept_clock,
            Verified: when_verified_record_outcome,
            RectificationAssigned: when_assigned_start_deadline,
            ExtensionRequested: when_extension_requested_note_it,
            ExtensionGranted: when_extension_granted_move_deadline,
            ExtensionRefused: when_extension_refused_clear_it,
            Rectified: when_rectified_hold_clocks,
            RectificationAccepted: when_rectification_accepted_close,
            RectificationRejected: when_rectification_rejected_restart_clocks,
            ReporterFedBack: when_fed_back_stop_feedback_clock,
            SlaBreached: when_sla_breached_record,
            RectificationOverdue: when_overdue_list_it,
            EscalationRaised: when_escalated_record_step,
            ExternallyEscalated: when_escalated_externally_record,
            ReportTextShredded: when_text_shredded_forget_it,
            **check_projection.HANDLERS,
        },
        reactions={ReportFiled: found.when_found_report_filed_answer},
    )

