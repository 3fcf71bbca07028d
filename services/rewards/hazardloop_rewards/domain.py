"""A report's reward, a year's budget and a subsidiary's policy versions: pure aggregates
rebuilt from their histories, and the decisions commands make on them.

Three steps, four different people: the verifier who verified proposes (by policy), a
department head approves, adjusts with a reason, or declines; finance pays. Above the
cap or beyond the budget, the approval goes to group HQ. The reporter takes no part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator

from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    GENESIS_HASH,
    BreakdownLine,
    BudgetCommitted,
    BudgetReleased,
    Event,
    Grade,
    HqReason,
    Outcome,
    PayoutChannel,
    RecognitionConsented,
    RecognitionWithdrawn,
    ReportFiled,
    RewardApproved,
    RewardBudgetSet,
    RewardClaimed,
    RewardDeclined,
    RewardFactors,
    RewardGranted,
    RewardPolicy,
    RewardPolicySet,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    TenantId,
    Verified,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.privacy.receipts import normalised
from hazardloop.web.edge import FURTHEST_AHEAD, Command
from hazardloop_rewards.policy import Precedence, in_force, reward_amount

POLICY_ACTOR = "policy:rewards"
POLICY_ID = "rewards"
"""The id of a subsidiary's one policy aggregate (its versions, each with its effective date)."""


class Stage(StrEnum):
    PROPOSED = "proposed"
    REFERRED = "referred"
    """Waiting for group HQ: above the cap or beyond the budget."""
    APPROVED = "approved"
    GRANTED = "granted"
    """Paid."""
    DECLINED = "declined"
    REVOKED = "revoked"


class NotAllowed(DomainError):
    """The reward's state, or who is asking, does not allow the command."""


def decide_on_verification(
    verified: Verified,
    filed: ReportFiled,
    policy: RewardPolicy,
    *,
    policy_effective_from: datetime | None,
    grading: Verified | None = None,
) -> RewardProposed | RewardDeclined:
    """The one decision a verification produces: a proposal, or a decline when nothing is due.

    ``grading`` is the verification that graded the hazard: the report's own, or for a
    duplicate the verification of the report it was merged into.
    """
    common: dict[str, Any] = {
        "prev_hash": GENESIS_HASH,
        "tenant": verified.tenant,
        "aggregate_id": verified.aggregate_id,
        "actor": POLICY_ACTOR,
        "event_id": verified.derived_id("reward-decision"),
        "report_id": verified.aggregate_id,
        "reporter": filed.reporter,
        **verified.caused(),
    }
    graded = grading or verified
    precedence = Precedence.ONLY
    if verified.outcome == Outcome.DUPLICATE:
        precedence = Precedence.FIRST if verified.first_report_id == verified.aggregate_id else Precedence.LATER
    due = graded.outcome in (Outcome.CONFIRMED_HAZARD, Outcome.VALID_NOT_HAZARD)
    if not due:
        return RewardDeclined.record(**common, reason=f"verification outcome: {verified.outcome.value}")
    amount, lines = reward_amount(
        policy,
        outcome=graded.outcome,
        grade=graded.grade,
        factors=graded.factors,
        within_routine_duties=verified.within_routine_duties,  # the reporter's own duties, whoever graded the hazard
        precedence=precedence,
    )
    if amount == 0:
        return RewardDeclined.record(**common, reason="; ".join(line.detail for line in lines[-2:]))
    return RewardProposed.record(
        **common,
        anonymous=filed.anonymous,
        proposer=verified.actor,
        outcome=graded.outcome,
        grade=graded.grade,
        amount_fen=amount,
        breakdown=lines,
        policy=policy.name,
        policy_effective_from=policy_effective_from,
        cap_fen=policy.cap_fen,
        first_report_id=verified.first_report_id,
    )


class Grading(Command):
    """What the verifier is about to record: the outcome and, for a hazard, its grading
    (what a reward preview decides on)."""

    tenant: TenantId
    outcome: Outcome
    grade: Grade | None = Field(None, validate_default=True, description="Required for a confirmed hazard, and only then.")
    factors: RewardFactors | None = Field(None, description="The six reward factors of a confirmed hazard.")
    within_routine_duties: bool = False

    @field_validator("outcome")
    @classmethod
    def _rewarded_outcome(cls, outcome: Outcome) -> Outcome:
        if outcome not in (Outcome.CONFIRMED_HAZARD, Outcome.VALID_NOT_HAZARD):
            raise ValueError(
                "a preview needs a confirmed hazard or a valid safety issue: nothing is due when not confirmed, "
                "and a duplicate follows the grading of the report it duplicates"
            )
        return outcome

    @field_validator("grade")
    @classmethod
    def _grade_of_a_hazard(cls, grade: Grade | None, info: ValidationInfo) -> Grade | None:
        hazard = info.data.get("outcome") == Outcome.CONFIRMED_HAZARD
        if hazard and grade is None:
            raise ValueError("a confirmed hazard needs its grade")
        if not hazard and grade is not None:
            raise ValueError("only a confirmed hazard has a grade")
        return grade


@dataclass(frozen=True, slots=True)
class RewardPreview:
    """The proposal a grading would get, before anything is recorded."""

    amount_fen: int
    breakdown: tuple[BreakdownLine, ...]
    policy: str
    """The name of the policy applied."""
    cap_fen: int

    @property
    def above_cap(self) -> bool:
        """The policy's arithmetic exceeded the cap: the amount is the cap, and more needs group HQ."""
        return any(line.rule == "cap" for line in self.breakdown)


@dataclass
class PolicyVersions:
    """A subsidiary's reward policy: every version set, each in force from its own date."""

    tenant: str
    versions: list[RewardPolicySet] = field(default_factory=list)
    last_hash: str = GENESIS_HASH

    @classmethod
    def from_history(cls, tenant: str, history: History) -> PolicyVersions:
        versions = cls(tenant)
        for stored in history.events:
            if isinstance(stored.event, RewardPolicySet):
                versions.versions.append(stored.event)
            versions.last_hash = stored.event.hash
        return versions

    def in_force(self, at: datetime) -> tuple[RewardPolicy, datetime | None]:
        """The policy in force at ``at`` and since when (the defaults, since never, before any is set)."""
        chosen = in_force(self.versions, at)
        return (chosen.policy, chosen.effective_from) if chosen else (RewardPolicy(), None)

    def preview(self, grading: Grading, *, now: datetime) -> RewardPreview:
        """Exactly the proposal the grading's verification would make now (for a report of its
        own, not a duplicate): the same policy, the same arithmetic."""
        policy, _ = self.in_force(now)
        amount, lines = reward_amount(
            policy, outcome=grading.outcome, grade=grading.grade, factors=grading.factors,
            within_routine_duties=grading.within_routine_duties,
        )  # fmt: skip
        return RewardPreview(amount_fen=amount, breakdown=lines, policy=policy.name, cap_fen=policy.cap_fen)

    def set(self, policy: RewardPolicy, effective_from: datetime | None, *, actor: str, now: datetime) -> list[RewardPolicySet]:
        """A new version, in force from ``effective_from`` (now when None): never in the past,
        at most three years ahead. Set again for the same moment, it replaces the earlier one."""
        if effective_from is None:
            effective_from = now
        elif effective_from < now.replace(microsecond=0):
            raise Invalid("a policy takes effect now or later, never in the past", field="effective_from")
        elif effective_from > now + FURTHEST_AHEAD:
            raise Invalid("a policy takes effect at most three years ahead", field="effective_from")
        return [
            RewardPolicySet.record(
                prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=POLICY_ID, actor=actor, occurred_at=now,
                policy=policy, effective_from=effective_from,
            )
        ]  # fmt: skip


@dataclass
class Budget:
    """A subsidiary's reward budget for one year, and what approvals took from it."""

    tenant: str
    year: int
    amount_fen: int | None = None
    committed: dict[str, int] = field(default_factory=dict)
    commitments: dict[str, int] = field(default_factory=dict)
    """How many times each report took from the budget (releases do not undo the count)."""
    last_hash: str = GENESIS_HASH

    @classmethod
    def from_history(cls, tenant: str, year: int, history: History) -> Budget:
        budget = cls(tenant, year)
        for stored in history.events:
            match stored.event:
                case RewardBudgetSet(amount_fen=amount):
                    budget.amount_fen = amount
                case BudgetCommitted(report_id=report_id, amount_fen=amount):
                    budget.committed[report_id] = amount
                    budget.commitments[report_id] = budget.commitments.get(report_id, 0) + 1
                case BudgetReleased(report_id=report_id):
                    budget.committed.pop(report_id, None)
            budget.last_hash = stored.event.hash
        return budget

    @property
    def remaining(self) -> int | None:
        """What is left, or None when no budget was set (then nothing is held back)."""
        return None if self.amount_fen is None else self.amount_fen - sum(self.committed.values())

    def allows(self, amount: int, report_id: str | None = None) -> bool:
        """Whether ``amount`` fits; what the report itself already took (an approval retried
        after its commitment landed) is its own, not spent by others."""
        return self.remaining is None or amount <= self.remaining + self.committed.get(report_id, 0)

    def set(self, amount_fen: int, *, actor: str, now: datetime) -> list[Event]:
        """Set the year's amount; the amount it already has records nothing (a PUT)."""
        if amount_fen == self.amount_fen:
            return []
        return [
            RewardBudgetSet.record(
                prev_hash=self.last_hash, tenant=self.tenant, aggregate_id=budget_id(self.year), actor=actor, occurred_at=now,
                year=self.year, amount_fen=amount_fen,
            )
        ]  # fmt: skip

    def take(self, report_id: str, amount: int, *, actor: str, now: datetime) -> list[Event]:
        """What an approval of ``amount`` takes from the budget: nothing when the report
        already holds exactly that (a retry), else its commitment, after giving back an
        earlier one of another amount (a retry that adjusted the amount)."""
        held = self.committed.get(report_id)
        if held == amount:
            return []
        events: list[Event] = []
        if held is not None:
            release = self.release(report_id, actor=actor, now=now)
            self.committed.pop(report_id)
            self.last_hash = release.hash
            events.append(release)
        events.append(self.commit(report_id, amount, actor=actor, now=now))
        return events

    def commit(self, report_id: str, amount: int, *, actor: str, now: datetime) -> BudgetCommitted | None:
        """Take ``amount`` for the report, once: a retried approval finds it already taken."""
        if report_id in self.committed:
            return None
        return BudgetCommitted.record(
            prev_hash=self.last_hash,
            tenant=self.tenant,
            aggregate_id=budget_id(self.year),
            actor=actor,
            occurred_at=now,
            event_id=stable_id(self.tenant, report_id, "budget-commitment", str(self.commitments.get(report_id, 0))),
            report_id=report_id,
            amount_fen=amount,
            over_budget=not self.allows(amount),
        )

    def release(self, report_id: str, *, actor: str, now: datetime) -> BudgetReleased | None:
        """Give back what the report took, when its approval did not land."""
        if report_id not in self.committed:
            return None
        return BudgetReleased.record(
            prev_hash=self.last_hash,
            tenant=self.tenant,
            aggregate_id=budget_id(self.year),
            actor=actor,
            occurred_at=now,
            event_id=stable_id(self.tenant, report_id, "budget-release", str(self.commitments.get(report_id, 0))),
            report_id=report_id,
            amount_fen=self.committed[report_id],
        )


def budget_id(year: int) -> str:
    return f"year-{year}"


def budget_year(now: datetime, timezone: ZoneInfo) -> int:
    """The budget year of ``now``: the calendar year where the group is."""
    return now.astimezone(timezone).year


@dataclass
class Reward:
    """What the log says about one report's reward."""

    proposal: RewardProposed | None
    stage: Stage
    reporter: str
    last_hash: str
    amount_fen: int = 0
    referred_by: str | None = None
    referred_for: HqReason | None = None
    approvers: set[str] = field(default_factory=set)
    approved_by: str | None = None
    voucher_digest: str | None = None

    @classmethod
    def from_history(cls, tenant: str, report_id: str, history: History) -> Reward:
        if not history.events:
            raise NotFound(f"no reward for report {report_id!r} in {tenant!r} (yet)")
        first = history.events[0].event
        reward = cls(first if isinstance(first, RewardProposed) else None, Stage.PROPOSED, first.reporter, GENESIS_HASH)
        for stored in history.events:
            reward.apply(stored.event)
        return reward

    def apply(self, event: Event) -> None:
        self.last_hash = event.hash
        match event:
            case RewardProposed(amount_fen=amount):
                self.stage, self.amount_fen = Stage.PROPOSED, amount
            case RewardReferred(amount_fen=amount, reason=reason):
                self.stage, self.amount_fen, self.referred_by, self.referred_for = Stage.REFERRED, amount, event.actor, reason
                self.approvers.add(event.actor)
            case RewardApproved(amount_fen=amount):
                self.stage, self.amount_fen, self.approved_by = Stage.APPROVED, amount, event.actor
                self.approvers.add(event.actor)
            case RewardClaimed(voucher_digest=digest):
                self.voucher_digest = digest
            case RewardGranted():
                self.stage = Stage.GRANTED
            case RewardDeclined():
                self.stage = Stage.DECLINED
            case RewardRevoked():
                self.stage = Stage.REVOKED

    @property
    def report_id(self) -> str:
        return self.proposal.aggregate_id

    def _next(self, kind: type[Event], *, actor: str, now: datetime, **payload: Any) -> Event:
        event = kind.record(
            prev_hash=self.last_hash,
            tenant=self.proposal.tenant,
            aggregate_id=self.proposal.aggregate_id,
            actor=actor,
            occurred_at=now,
            correlation_id=self.proposal.correlation_id,
            **payload,
        )
        self.apply(event)
        return event

    def _require(self, *stages: Stage, doing: str) -> None:
        if self.proposal is None or self.stage not in stages:
            raise NotAllowed(f"the reward is {self.stage.value}: cannot {doing}", state=self.stage.value)

    def _not_party(self, actor: str, pseudonym: str | None, role: str) -> None:
        """Segregation of duties: reporter, proposer, approver and payer are four people."""
        if pseudonym == self.reporter:
            raise NotAllowed(f"the reporter cannot act as {role} on their own reward", state=self.stage.value)
        if actor == self.proposal.proposer:
            raise NotAllowed(f"the proposer ({actor}) cannot also act as {role}", state=self.stage.value)
        if role != "approver" and actor in self.approvers:
            raise NotAllowed(f"an approver ({actor}) cannot also act as {role}", state=self.stage.value)

    # --- the department head -------------------------------------------------------------

    def approve(
        self, *, amount_fen: int | None, reason: str | None, actor: str, pseudonym: str | None, now: datetime, budget: Budget
    ) -> list[Event]:
        """Approve as proposed or adjusted; above the cap or beyond the budget it goes to HQ."""
        self._require(Stage.PROPOSED, doing="approve it")
        self._not_party(actor, pseudonym, "approver")
        amount = self.proposal.amount_fen if amount_fen is None else amount_fen
        if amount != self.proposal.amount_fen and not reason:
            raise Invalid("an adjusted amount needs a reason", field="reason")
        if amount == 0:
            raise Invalid("approve a positive amount, or decline the reward", field="amount_fen")
        if amount > self.proposal.cap_fen:
            return [self._next(RewardReferred, actor=actor, now=now, amount_fen=amount, reason=HqReason.ABOVE_CAP, comment=reason)]
        if not budget.allows(amount, self.report_id):
            return [self._next(RewardReferred, actor=actor, now=now, amount_fen=amount, reason=HqReason.OVER_BUDGET, comment=reason)]
        return [
            self._next(
                RewardApproved, actor=actor, now=now, amount_fen=amount, proposed_fen=self.proposal.amount_fen,
                reason=reason, budget_year=budget.year,
            )
        ]  # fmt: skip

    def decline(self, *, reason: str, actor: str, pseudonym: str | None, now: datetime, hq: bool = False) -> list[Event]:
        self._require(Stage.REFERRED if hq else Stage.PROPOSED, doing="decline it")
        self._not_party(actor, pseudonym, "approver")
        if hq and actor == self.referred_by:
            raise NotAllowed("group HQ's decision must come from someone other than the referring head", state=self.stage.value)
        return [self._next(RewardDeclined, actor=actor, now=now, report_id=self.report_id, reporter=self.reporter, reason=reason)]

    # --- group HQ ------------------------------------------------------------------------

    def approve_at_hq(self, *, reason: str | None, actor: str, pseudonym: str | None, now: datetime, budget: Budget) -> list[Event]:
        self._require(Stage.REFERRED, doing="approve it at group HQ")
        self._not_party(actor, pseudonym, "approver")
        if actor == self.referred_by:
            raise NotAllowed("group HQ's approval must come from someone other than the referring head", state=self.stage.value)
        return [
            self._next(
                RewardApproved, actor=actor, now=now, amount_fen=self.amount_fen, proposed_fen=self.proposal.amount_fen,
                reason=reason, level="group_hq", budget_year=budget.year,
            )
        ]  # fmt: skip

    # --- the anonymous reporter, finance ------------------------------------------------

    def claim(self, voucher_digest: str, *, now: datetime) -> list[Event]:
        self._require(Stage.PROPOSED, Stage.REFERRED, Stage.APPROVED, doing="claim it")
        if not self.proposal.anonymous:
            raise NotAllowed("only an anonymous reporter claims with a receipt code", state=self.stage.value)
        if self.voucher_digest == voucher_digest:
            return []  # the same claim again: its answer was lost
        if self.voucher_digest is not None:
            raise NotAllowed("this reward was already claimed", state="claimed")
        return [self._next(RewardClaimed, actor="receipt-holder", now=now, voucher_digest=voucher_digest)]

    def pay(self, *, reference: str, voucher_digest: str | None, actor: str, pseudonym: str | None, now: datetime) -> list[Event]:
        self._require(Stage.APPROVED, doing="pay it")
        self._not_party(actor, pseudonym, "payer")
        channel = PayoutChannel.PAYROLL
        if self.proposal.anonymous:
            if self.voucher_digest is None:
                raise NotAllowed("an anonymous reward is paid only once claimed with the receipt code", state="unclaimed")
            if voucher_digest != self.voucher_digest:
                raise Invalid("this voucher does not match the claim", field="voucher_code")
            channel = PayoutChannel.VOUCHER
        return [
            self._next(
                RewardGranted, actor=actor, now=now, report_id=self.report_id, reporter=self.reporter,
                amount_fen=self.amount_fen, outcome=self.proposal.outcome, grade=self.proposal.grade,
                policy=self.proposal.policy, payment_reference=reference, channel=channel, approved_by=self.approved_by,
            )
        ]  # fmt: skip

    def recognise(self, display_name: str | None, *, pseudonym: str | None, now: datetime) -> list[Event]:
        """The reporter's own choice to be named on the public notice, or no longer."""
        if pseudonym != self.reporter or self.proposal is None or self.proposal.anonymous:
            raise NotAllowed("only the named reporter of this report decides how the notice names them", state=self.stage.value)
        if display_name is None:
            return [self._next(RecognitionWithdrawn, actor=pseudonym, now=now)]
        return [self._next(RecognitionConsented, actor=pseudonym, now=now, display_name=display_name)]

    def revoke(self, *, reason: str, actor: str, now: datetime) -> list[Event]:
        self._require(Stage.GRANTED, doing="revoke it")
        return [
            self._next(
                RewardRevoked, actor=actor, now=now, report_id=self.report_id, reporter=self.reporter,
                amount_fen=self.amount_fen, reason=reason,
            )
        ]  # fmt: skip


# --- a decision on a reward within the year's budget -------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetedDecision:
    """What a command on a reward decides with the year's budget, in the order it is appended,
    and the refusal to answer once it is: a commitment the reward no longer needs is given
    back even when the command itself is refused."""

    decided: list[Event]
    """The reward's own events: what the command answers with."""
    taken: list[Event] = field(default_factory=list)
    """From the budget, before the reward records its approval."""
    given_back: list[Event] = field(default_factory=list)
    """To the budget, after the reward records that it is declined or referred."""
    refusal: DomainError | None = None

    @property
    def events(self) -> list[Event]:
        return [*self.taken, *self.decided, *self.given_back]


def within_budget(
    reward: Reward, budget: Budget, decide: Callable[[Reward, Budget], list[Event]], *, now: datetime
) -> BudgetedDecision:
    """Decide on the reward with this year's budget.

    An approval takes its amount from the budget before the reward records it, each append
    guarded by its own aggregate's version, so racing approvals cannot both spend the rest.
    A reward declined or referred gives back what its report holds, only once its decision
    is recorded: while it is proposed, a commitment may belong to an approval still on its
    way, which will use it. So an approval that took its amount and then lost the race on
    the reward (to a decline, say) finds the reward declined when it decides again, and
    gives the amount back before it is refused.
    """
    try:
        decided = decide(reward, budget)
    except DomainError as refusal:
        return BudgetedDecision([], given_back=_given_back(reward, budget, now), refusal=refusal)
    approval = next((e for e in decided if isinstance(e, RewardApproved)), None)
    if approval is None:  # declined or referred now (the decision moved ``reward`` on)
        return BudgetedDecision(decided, given_back=_given_back(reward, budget, now))
    taken = budget.take(reward.report_id, approval.amount_fen, actor=approval.actor, now=approval.occurred_at)
    return BudgetedDecision(decided, taken=taken)


def _given_back(reward: Reward, budget: Budget, now: datetime) -> list[Event]:
    """What the report holds of the budget, once the reward is declined or referred."""
    if reward.stage not in (Stage.DECLINED, Stage.REFERRED) or reward.proposal is None:
        return []
    release = budget.release(reward.report_id, actor=POLICY_ACTOR, now=now)
    return [release] if release is not None else []


def voucher_for(receipt_code: str, tenant: str, report_id: str) -> str:
    """The voucher of an anonymous claim: keyed by the receipt code itself (as typed, loosely
    or not), so a claim repeated after a lost answer gets the same voucher back, yet nobody
    without the code can compute it."""
    mac = hmac.new(normalised(receipt_code).encode(), f"voucher\x1f{tenant}\x1f{report_id}".encode(), hashlib.sha256).digest()
    letters = base64.b32encode(mac).decode()[:16]
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))
