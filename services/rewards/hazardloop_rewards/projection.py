"""Rewards' read models, kept from the log, and the reaction that proposes each reward."""

from __future__ import annotations

import json
from typing import Any

from hazardloop.events import (
    BudgetCommitted,
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    BudgetReleased,
    RecognitionConsented,
    RecognitionWithdrawn,
    ReporterKeyShredded,
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
    SignalRulesSet,
    Verified,
)
from hazardloop.log.eventstore import EventStore
from hazardloop.privacy.sealing import forget, text_token
from hazardloop.projections import Projection, Writer
from hazardloop.projections.definition import Apply
from hazardloop_rewards.commands import RewardDecisions
from hazardloop_rewards.domain import Stage
from hazardloop_rewards.signals.book import SignalBook
from hazardloop_rewards.signals.seen import place_key
from hazardloop_rewards.store import budgets, metadata, policies, reports, rewards, signal_raised


def note_reporter_and_count(book: SignalBook) -> Apply:
    """Note the filing with what the signals read of it (its place as one key, its category
    and time), and let the signal rules count it."""

    def apply(event: ReportFiled, db: Writer) -> None:
        key = place_key(event)
        when_report_filed_note_reporter(event, db, category=event.category.value, place_key=key, filed_at=event.occurred_at)
        book.filed(event, db, key)

    return apply


def when_report_filed_note_reporter(event: ReportFiled, db: Writer, **for_signals: Any) -> None:
    db.insert(
        reports,
        report_id=event.aggregate_id,
        tenant=event.tenant,
        reporter=event.reporter,
        anonymous=event.anonymous,
        receipt_digest=event.receipt_digest,
        site=event.location.site,
        area=event.location.area,
        spot=event.location.spot,
        team=event.team,
        **for_signals,
    )


def when_proposed_list_for_approval(event: RewardProposed, db: Writer) -> None:
    db.insert(
        rewards,
        report_id=event.report_id,
        tenant=event.tenant,
        reporter=event.reporter,
        anonymous=event.anonymous,
        status=Stage.PROPOSED.value,
        outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        proposer=event.proposer,
        proposed_fen=event.amount_fen,
        amount_fen=event.amount_fen,
        breakdown=json.dumps([line.model_dump() for line in event.breakdown], ensure_ascii=False),
        policy=event.policy,
        cap_fen=event.cap_fen,
        first_report_id=event.first_report_id,
        claimed=False,
        proposed_at=event.occurred_at,
        decided_at=event.occurred_at,
    )


def when_referred_wait_for_hq(event: RewardReferred, db: Writer) -> None:
    db.update(
        rewards,
        {"report_id": event.aggregate_id},
        status=Stage.REFERRED.value,
        amount_fen=event.amount_fen,
        referred_for=event.reason.value,
        approver=event.actor,
        reason=text_token(event.tenant, event.comment),
        decided_at=event.occurred_at,
    )


def when_approved_hand_to_finance(event: RewardApproved, db: Writer) -> None:
    db.update(
        rewards,
        {"report_id": event.aggregate_id},
        status=Stage.APPROVED.value,
        amount_fen=event.amount_fen,
        approver=event.actor,
        approval_level=event.level,
        budget_year=event.budget_year,
        reason=text_token(event.tenant, event.reason),
        decided_at=event.occurred_at,
    )


def when_claimed_note_it(event: RewardClaimed, db: Writer) -> None:
    db.update(rewards, {"report_id": event.aggregate_id}, claimed=True)


def when_granted_record_payment(event: RewardGranted, db: Writer) -> None:
    row = db.get(rewards, report_id=event.report_id)
    values = {
        "status": Stage.GRANTED.value,
        "amount_fen": event.amount_fen,
        "payer": event.actor,
        "payment_reference": event.payment_reference,
        "channel": event.channel.value,
        "paid_at": event.occurred_at,
    }
    if row is None:  # a grant from before approvals existed
        db.insert(
            rewards, report_id=event.report_id, tenant=event.tenant, reporter=event.reporter, anonymous=False,
            outcome=event.outcome.value, grade=event.grade.value if event.grade else None, proposed_fen=event.amount_fen,
            policy=event.policy, claimed=False, decided_at=event.occurred_at, **values,
        )  # fmt: skip
        return
    db.update(rewards, {"report_id": event.report_id}, **values)
    if row.budget_year is not None:
        budget = db.get(budgets, tenant=event.tenant, year=row.budget_year)
        if budget is not None:
            db.update(budgets, {"tenant": event.tenant, "year": row.budget_year}, paid_fen=budget.paid_fen + event.amount_fen)


def when_declined_record(event: RewardDeclined, db: Writer) -> None:
    values = {"status": Stage.DECLINED.value, "amount_fen": 0, "reason": text_token(event.tenant, event.reason), "decided_at": event.occurred_at}
    if db.get(rewards, report_id=event.report_id) is None:
        db.insert(
            rewards, report_id=event.report_id, tenant=event.tenant, reporter=event.reporter, anonymous=False, claimed=False,
            proposed_fen=0, **values,
        )  # fmt: skip
    else:
        db.update(rewards, {"report_id": event.report_id}, approver=event.actor, **values)


def when_recognition_consented_name_them(event: RecognitionConsented, db: Writer) -> None:
    db.update(rewards, {"report_id": event.aggregate_id}, display_name=text_token(event.tenant, event.display_name))


def when_recognition_withdrawn_unname_them(event: RecognitionWithdrawn, db: Writer) -> None:
    db.update(rewards, {"report_id": event.aggregate_id}, display_name=None)


def when_reporter_erased_unname_them(event: ReporterKeyShredded, db: Writer) -> None:
    """Erasure takes the reporter's name off every notice (they stay a pseudonym)."""
    db.flush()  # rows this batch already changed are written first, then cleared
    db.connection.execute(
        rewards.update().where(rewards.c.tenant == event.tenant, rewards.c.reporter == event.aggregate_id).values(display_name=None)
    )


def when_text_shredded_unname_them(event: ReportTextShredded, db: Writer) -> None:
    """The report's text erased: its reward's reasons too, and the name on the notice."""
    row = db.get(rewards, report_id=event.aggregate_id)
    if row is not None:
        db.update(rewards, {"report_id": event.aggregate_id}, reason=forget(row.reason, event.aggregate_id), display_name=None)


def when_revoked_record(event: RewardRevoked, db: Writer) -> None:
    db.update(rewards, {"report_id": event.report_id}, status=Stage.REVOKED.value, reason=text_token(event.tenant, event.reason), revoked_at=event.occurred_at)


def _budget(db: Writer, tenant: str, year: int) -> dict:
    row = db.get(budgets, tenant=tenant, year=year)
    if row is None:
        db.insert(budgets, tenant=tenant, year=year, amount_fen=None, committed_fen=0, paid_fen=0)
        return {"committed_fen": 0}
    return row


def when_budget_set_record(event: RewardBudgetSet, db: Writer) -> None:
    _budget(db, event.tenant, event.year)
    db.update(budgets, {"tenant": event.tenant, "year": event.year}, amount_fen=event.amount_fen)


def when_budget_committed_add(event: BudgetCommitted, db: Writer) -> None:
    year = int(event.aggregate_id.removeprefix("year-"))
    committed = _budget(db, event.tenant, year)["committed_fen"]
    db.update(budgets, {"tenant": event.tenant, "year": year}, committed_fen=committed + event.amount_fen)


def when_budget_released_give_back(event: BudgetReleased, db: Writer) -> None:
    year = int(event.aggregate_id.removeprefix("year-"))
    committed = _budget(db, event.tenant, year)["committed_fen"]
    db.update(budgets, {"tenant": event.tenant, "year": year}, committed_fen=committed - event.amount_fen)


def when_policy_set_record(event: RewardPolicySet, db: Writer) -> None:
    """A version set again for the same moment (a correction before it takes effect) replaces it."""
    key, values = {"tenant": event.tenant, "effective_from": event.effective_from}, {"policy": event.policy.model_dump_json(), "set_by": event.actor}
    if db.get(policies, **key) is None:
        db.insert(policies, **key, **values)
    else:
        db.update(policies, key, **values)


def when_signal_raised_note_it_recorded(event: SignalRaised, db: Writer) -> None:
    """The signal is in the log: the round that records signals leaves it alone."""
    if db.get(signal_raised, signal_id=event.aggregate_id) is None:
        db.insert(signal_raised, signal_id=event.aggregate_id, tenant=event.tenant, recorded_at=event.occurred_at)


def projection(store: EventStore, *, signals: bool = True) -> Projection:
    """Rewards' read model; with ``signals`` (always, but in the benchmark that measures
    what they cost) the fraud-signal rules run over the same events."""
    decisions = RewardDecisions(store)
    handlers: dict[type, Apply] = {
        ReportFiled: when_report_filed_note_reporter,  # without what only the signals read
        RewardProposed: when_proposed_list_for_approval,
        RewardReferred: when_referred_wait_for_hq,
        RewardApproved: when_approved_hand_to_finance,
        RewardClaimed: when_claimed_note_it,
        RewardGranted: when_granted_record_payment,
        RewardDeclined: when_declined_record,
        RewardRevoked: when_revoked_record,
        RecognitionConsented: when_recognition_consented_name_them,
        RecognitionWithdrawn: when_recognition_withdrawn_unname_them,
        ReporterKeyShredded: when_reporter_erased_unname_them,
        ReportTextShredded: when_text_shredded_unname_them,
        RewardBudgetSet: when_budget_set_record,
        BudgetCommitted: when_budget_committed_add,
        BudgetReleased: when_budget_released_give_back,
        RewardPolicySet: when_policy_set_record,
        SignalRaised: when_signal_raised_note_it_recorded,
    }
    book = SignalBook()
    if signals:
        handlers |= {
            ReportFiled: note_reporter_and_count(book),
            RewardProposed: both(when_proposed_list_for_approval, book.proposed),
            RewardDeclined: both(when_declined_record, book.declined),
            ReportTextShredded: both(when_text_shredded_unname_them, book.text_shredded),
            SignalRulesSet: book.rules_set,
            SignalDismissed: book.decided,
            SignalConfirmed: book.decided,
            DirectoryEntrySet: book.directory_set,
            DirectoryEntryRemoved: book.directory_removed,
        }
    return Projection(
        name="rewards",
        metadata=metadata,
        handlers=handlers,
        reactions={Verified: decisions.when_verified_propose_reward},
        reset=book.reset,
        defer=book.defer if signals else None,
        settle=book.settle if signals else None,
    )


def both(first: Apply, then: Apply) -> Apply:
    def apply(event: Any, db: Writer) -> None:
        first(event, db)
        then(event, db)

    return apply
