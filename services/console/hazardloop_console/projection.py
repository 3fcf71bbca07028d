"""The handlers folding the log into the console's read model.

One row per report carries every step of the closed loop (casework and reward), so a
queue, a search or a dashboard is one query on one table; each step also lands on the
report's timeline, in the log's order, with the plain text a person wrote.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hazardloop.events import (
    Accepted,
    BudgetCommitted,
    BudgetReleased,
    CaseworkPolicy,
    CaseworkPolicySet,
    CheckAnswered,
    CheckExtensionGranted,
    CheckTaskOpened,
    CheckTaskOverdue,
    EscalationRaised,
    Event,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    ReporterWrote,
    ReportFiled,
    ReportTextShredded,
    RewardApproved,
    RewardBudgetSet,
    RewardClaimed,
    RewardDeclined,
    RewardGranted,
    RewardPolicySet,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    SignalConfirmed,
    SignalDismissed,
    SignalRaised,
    SlaBreached,
    StaffWrote,
    Verified,
)
from hazardloop.privacy.sealing import forget, text_token
from hazardloop.projections import Projection, Writer
from hazardloop.timing.deadlines import sla_timers
from hazardloop.timing.instants import in_zone
from hazardloop_console import tallies
from hazardloop_console.similar.indexer import DescriptionIndexer
from hazardloop_console.store import (
    budgets,
    cases,
    check_tasks,
    metadata,
    photos,
    policies,
    reward_policies,
    signal_decisions,
    signals_raised,
    steps,
    text_index,
)

_STATE_AFTER = {
    Outcome.CONFIRMED_HAZARD: "verified",
    Outcome.VALID_NOT_HAZARD: "closed",
    Outcome.NOT_CONFIRMED: "not_confirmed",
    Outcome.DUPLICATE: "duplicate",
}


def _policy(db: Writer, tenant: str) -> CaseworkPolicy:
    row = db.get(policies, tenant=tenant)
    return CaseworkPolicy.model_validate_json(row.policy) if row else CaseworkPolicy()


def _week(at: datetime, timezone: str) -> str:
    day = in_zone(at, ZoneInfo(timezone)).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _step(db: Writer, event: Event, report_id: str, detail: str | None = None, **changes: Any) -> None:
    """Record ``event`` on the report's timeline and apply ``changes`` to its row, and to
    the dashboard's tallies (the one place a case row changes after it is filed)."""
    tallies.settle_if_owed(db)
    case = db.get(cases, report_id=report_id)
    if case is None:  # a reward or step of a report filed before this log began: nothing to show it on
        return
    db.insert(
        steps, report_id=report_id, position=case.steps, type=event.type, occurred_at=event.occurred_at,
        actor=event.actor, detail=text_token(event.tenant, detail),
    )
    after = {**case, **changes}
    changes |= tallies.derived(after)
    tallies.change(db, case, after)
    db.update(cases, {"report_id": report_id}, steps=case.steps + 1, updated_at=event.occurred_at, **changes)


def when_policy_set_keep_it(event: CaseworkPolicySet, db: Writer) -> None:
    if db.get(policies, tenant=event.tenant) is None:
        db.insert(policies, tenant=event.tenant, policy=event.policy.model_dump_json())
    else:
        db.update(policies, {"tenant": event.tenant}, policy=event.policy.model_dump_json())


def when_report_filed_open_case(event: ReportFiled, db: Writer, indexer: DescriptionIndexer | None = None) -> None:
    """Open the report's case; with an ``indexer`` (the service's own, holding the keys),
    index its description's tokens for similar cases."""
    tallies.settle_if_owed(db)
    policy = _policy(db, event.tenant)
    accept, verify, feedback = (timer.due_at for timer in sla_timers(event.occurred_at, policy))
    location = event.location
    filed = dict(
        report_id=event.aggregate_id, tenant=event.tenant, filed_at=event.occurred_at, observed_at=event.observed_at,
        week=_week(event.occurred_at, policy.timezone), category=event.category.value, subtype=event.subtype,
        description=text_token(event.tenant, event.description), site=location.site, area=location.area, spot=location.spot,
        place_id=location.place_id, equipment_tag=location.equipment_tag, channel=event.channel.value,
        anonymous=event.anonymous, reporter=event.reporter, entered_by=event.entered_by,
        possible_duplicate_of=event.possible_duplicate_of, photos=len(event.attachments), state="filed",
        accept_due_at=accept, verify_due_at=verify, feedback_due_at=feedback, overdue=False,
        externally_escalated=False, sla_breaches="", steps=0, updated_at=event.occurred_at,
    )
    row = dict.fromkeys(cases.c.keys()) | filed
    db.insert(cases, **filed, **tallies.derived(row))
    tallies.change(db, None, row)
    for position, attachment in enumerate(event.attachments):
        db.insert(
            photos, report_id=event.aggregate_id, digest=attachment.digest, tenant=event.tenant, stage="report",
            kind=attachment.kind.value, thumbnail=attachment.thumbnail, position=position,
        )
    _step(db, event, event.aggregate_id, event.description)
    if indexer is not None:
        for digest in indexer.take(event):
            db.insert(text_index, tenant=event.tenant, digest=digest, report_id=event.aggregate_id)


def when_accepted_start_work(event: Accepted, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.note, state="accepted", accepted_at=event.occurred_at)


def when_verified_record_outcome(event: Verified, db: Writer) -> None:
    closed = event.occurred_at if event.outcome == Outcome.VALID_NOT_HAZARD else None
    _step(
        db, event, event.aggregate_id, event.comment, state=_STATE_AFTER[event.outcome], outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        risk_colour=event.risk_colour.value if event.risk_colour else None,
        verified_at=event.occurred_at, verified_by=event.actor, closed_at=closed,
    )


def when_assigned_start_deadline(event: RectificationAssigned, db: Writer) -> None:
    plan = event.plan.model_dump_json() if event.plan else None
    _step(db, event, event.aggregate_id, None, state="rectifying", owner=event.owner, deadline=event.deadline, plan=plan)


def when_extension_requested_note_it(event: ExtensionRequested, db: Writer) -> None:
    _step(
        db, event, event.aggregate_id, event.reason,
        extension_requested_until=event.requested_deadline, extension_reason=text_token(event.tenant, event.reason),
    )


def when_extension_granted_move_deadline(event: ExtensionGranted, db: Writer) -> None:
    _step(
        db, event, event.aggregate_id, event.comment, deadline=event.deadline, overdue=False, escalation_step=None,
        extension_requested_until=None, extension_reason=None,
    )


def when_extension_refused_clear_it(event: ExtensionRefused, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.reason, extension_requested_until=None, extension_reason=None)


def when_rectified_show_measures(event: Rectified, db: Writer) -> None:
    case = db.get(cases, report_id=event.aggregate_id)
    if case is None:
        return
    for position, attachment in enumerate(event.evidence, start=case.photos):
        if db.get(photos, report_id=event.aggregate_id, digest=attachment.digest) is None:
            db.insert(
                photos, report_id=event.aggregate_id, digest=attachment.digest, tenant=event.tenant, stage="rectified",
                kind=attachment.kind.value, thumbnail=attachment.thumbnail, position=position,
            )
    closed = event.occurred_at if event.on_the_spot else None
    _step(
        db, event, event.aggregate_id, event.measures, state="closed" if event.on_the_spot else "under_review",
        measures=event.measures, rectified_at=event.occurred_at, closed_at=closed,
        photos=case.photos + len(event.evidence),
    )


def when_rectification_accepted_close(event: RectificationAccepted, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.comment, state="closed", closed_at=event.occurred_at, overdue=False)


def when_rectification_rejected_reopen(event: RectificationRejected, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.reason, state="rectifying", rectified_at=None)


def when_fed_back_note_it(event: ReporterFedBack, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.message, fed_back_at=event.occurred_at)


def when_written_add_to_thread(event: ReporterWrote | StaffWrote, db: Writer) -> None:
    """A message of the report's thread, on its timeline (the case page shows them as the thread)."""
    _step(db, event, event.aggregate_id, event.text)


def when_sla_breached_mark_it(event: SlaBreached, db: Writer) -> None:
    case = db.get(cases, report_id=event.aggregate_id)
    if case is not None:
        breaches = ",".join([b for b in case.sla_breaches.split(",") if b] + [event.clock.value])
        _step(db, event, event.aggregate_id, None, sla_breaches=breaches)


def when_overdue_mark_it(event: RectificationOverdue, db: Writer) -> None:
    _step(db, event, event.aggregate_id, None, overdue=True)


def when_escalated_mark_it(event: EscalationRaised, db: Writer) -> None:
    _step(db, event, event.aggregate_id, None, escalation_step=event.step)


def when_escalated_externally_mark_it(event: ExternallyEscalated, db: Writer) -> None:
    _step(db, event, event.aggregate_id, event.authority, externally_escalated=True)


def when_reward_proposed_show_it(event: RewardProposed, db: Writer) -> None:
    breakdown = json.dumps([line.model_dump() for line in event.breakdown], ensure_ascii=False)
    _step(
        db, event, event.report_id, None, reward_status="proposed", reward_fen=event.amount_fen,
        reward_proposed_fen=event.amount_fen, reward_breakdown=breakdown,
    )


def when_reward_referred_show_it(event: RewardReferred, db: Writer) -> None:
    _step(
        db, event, event.aggregate_id, event.comment, reward_status="referred", reward_fen=event.amount_fen,
        reward_referred_for=event.reason.value,
    )


def when_reward_approved_show_it(event: RewardApproved, db: Writer) -> None:
    _step(
        db, event, event.aggregate_id, event.reason, reward_status="approved", reward_fen=event.amount_fen,
        reward_level=event.level, reward_decided_at=event.occurred_at,
    )


def when_reward_claimed_note_it(event: RewardClaimed, db: Writer) -> None:
    _step(db, event, event.aggregate_id, None)


def when_reward_granted_show_paid(event: RewardGranted, db: Writer) -> None:
    _step(
        db, event, event.report_id, None, reward_status="granted", reward_fen=event.amount_fen,
        reward_paid_at=event.occurred_at, reward_reference=event.payment_reference,
    )


def when_reward_declined_show_it(event: RewardDeclined, db: Writer) -> None:
    _step(
        db, event, event.report_id, event.reason, reward_status="declined", reward_fen=0,
        reward_decided_at=event.occurred_at, reward_reason=text_token(event.tenant, event.reason),
    )


def when_reward_revoked_show_it(event: RewardRevoked, db: Writer) -> None:
    _step(db, event, event.report_id, event.reason, reward_status="revoked", reward_reason=text_token(event.tenant, event.reason))


def _year(event: Event) -> int:
    return int(event.aggregate_id.removeprefix("year-"))


def _budget(db: Writer, event: Event, **changes: Any) -> None:
    row = db.get(budgets, tenant=event.tenant, year=_year(event))
    if row is None:
        db.insert(budgets, tenant=event.tenant, year=_year(event), amount_fen=None, committed_fen=0)
        row = db.get(budgets, tenant=event.tenant, year=_year(event))
    db.update(budgets, {"tenant": event.tenant, "year": _year(event)}, **{k: v(row) for k, v in changes.items()})


def when_budget_set_keep_it(event: RewardBudgetSet, db: Writer) -> None:
    _budget(db, event, amount_fen=lambda _: event.amount_fen)


def when_budget_committed_add_it(event: BudgetCommitted, db: Writer) -> None:
    _budget(db, event, committed_fen=lambda row: row.committed_fen + event.amount_fen)


def when_budget_released_take_it_back(event: BudgetReleased, db: Writer) -> None:
    _budget(db, event, committed_fen=lambda row: row.committed_fen - event.amount_fen)


def when_reward_policy_set_keep_the_version(event: RewardPolicySet, db: Writer) -> None:
    if db.get(reward_policies, tenant=event.tenant, event_id=str(event.event_id)) is None:
        db.insert(
            reward_policies, tenant=event.tenant, event_id=str(event.event_id), effective_from=event.effective_from,
            set_at=event.occurred_at, set_by=event.actor, name=event.policy.name, policy=event.policy.model_dump_json(),
        )


def when_text_shredded_forget_it(event: ReportTextShredded, db: Writer) -> None:
    """The report's text is erased: forget what this store kept of it (its words in the blind
    index too, so nothing finds it by them), and say so on its timeline."""
    report_id = event.aggregate_id
    case = db.get(cases, report_id=report_id)
    if case is None:
        return
    db.flush()
    db.connection.execute(text_index.delete().where(text_index.c.report_id == report_id))
    listed = db.connection.execute(select(steps.c.position, steps.c.detail).where(steps.c.report_id == report_id)).all()
    for step in listed:
        if (kept := forget(step.detail, report_id)) != step.detail:
            db.connection.execute(steps.update().where(steps.c.report_id == report_id, steps.c.position == step.position).values(detail=kept))
    _step(db, event, report_id, None, **{c: forget(case[c], report_id) for c in ("description", "extension_reason", "reward_reason")})


def when_check_task_opened_count_it(event: CheckTaskOpened, db: Writer) -> None:
    if db.get(check_tasks, check_id=event.aggregate_id, tenant=event.tenant) is None:
        db.insert(check_tasks, check_id=event.aggregate_id, tenant=event.tenant, opened_at=event.occurred_at, answer=None,
                  answered_at=None, overdue=False)  # fmt: skip


def _check_task(event: Event, db: Writer, **changes: Any) -> None:
    if db.get(check_tasks, check_id=event.aggregate_id, tenant=event.tenant) is not None:
        db.update(check_tasks, {"check_id": event.aggregate_id, "tenant": event.tenant}, **changes)


def when_check_answered_count_it(event: CheckAnswered, db: Writer) -> None:
    _check_task(event, db, answer=event.answer.value, answered_at=event.occurred_at)


def when_check_overdue_count_it(event: CheckTaskOverdue, db: Writer) -> None:
    _check_task(event, db, overdue=True)


def when_check_extended_clear_overdue(event: CheckExtensionGranted, db: Writer) -> None:
    _check_task(event, db, overdue=False)


def when_signal_decided_count_it(event: SignalDismissed | SignalConfirmed, db: Writer) -> None:
    decision = "dismissed" if isinstance(event, SignalDismissed) else "confirmed"
    db.insert(signal_decisions, event_id=str(event.event_id), tenant=event.tenant, signal_id=event.aggregate_id,
              rule=event.rule.value, decision=decision, decided_at=event.occurred_at)  # fmt: skip


def when_signal_raised_count_it(event: SignalRaised, db: Writer) -> None:
    if db.get(signals_raised, signal_id=event.aggregate_id) is None:
        db.insert(signals_raised, signal_id=event.aggregate_id, tenant=event.tenant, rule=event.rule.value, raised_at=event.raised_at)


def projection(_: object, indexer: DescriptionIndexer | None = None) -> Projection:
    """The console's projection; the service gives it an ``indexer`` of descriptions (without
    one, as in an auditor's rebuild, which holds no keys, the blind index stays empty)."""
    return Projection(
        name="console",
        metadata=metadata,
        prepare=indexer.prepare if indexer is not None else None,
        defer=tallies.defer,
        settle=tallies.settle,
        handlers={
            CaseworkPolicySet: when_policy_set_keep_it,
            ReportFiled: partial(when_report_filed_open_case, indexer=indexer),
            Accepted: when_accepted_start_work,
            Verified: when_verified_record_outcome,
            RectificationAssigned: when_assigned_start_deadline,
            ExtensionRequested: when_extension_requested_note_it,
            ExtensionGranted: when_extension_granted_move_deadline,
            ExtensionRefused: when_extension_refused_clear_it,
            Rectified: when_rectified_show_measures,
            RectificationAccepted: when_rectification_accepted_close,
            RectificationRejected: when_rectification_rejected_reopen,
            ReporterFedBack: when_fed_back_note_it,
            ReporterWrote: when_written_add_to_thread,
            StaffWrote: when_written_add_to_thread,
            SlaBreached: when_sla_breached_mark_it,
            RectificationOverdue: when_overdue_mark_it,
            EscalationRaised: when_escalated_mark_it,
            ExternallyEscalated: when_escalated_externally_mark_it,
            RewardProposed: when_reward_proposed_show_it,
            RewardReferred: when_reward_referred_show_it,
            RewardApproved: when_reward_approved_show_it,
            RewardClaimed: when_reward_claimed_note_it,
            RewardGranted: when_reward_granted_show_paid,
            RewardDeclined: when_reward_declined_show_it,
            RewardRevoked: when_reward_revoked_show_it,
            RewardBudgetSet: when_budget_set_keep_it,
            RewardPolicySet: when_reward_policy_set_keep_the_version,
            BudgetCommitted: when_budget_committed_add_it,
            BudgetReleased: when_budget_released_take_it_back,
            ReportTextShredded: when_text_shredded_forget_it,
            CheckTaskOpened: when_check_task_opened_count_it,
            CheckAnswered: when_check_answered_count_it,
            CheckTaskOverdue: when_check_overdue_count_it,
            CheckExtensionGranted: when_check_extended_clear_overdue,
            SignalRaised: when_signal_raised_count_it,
            SignalDismissed: when_signal_decided_count_it,
            SignalConfirmed: when_signal_decided_count_it,
        },
    )
