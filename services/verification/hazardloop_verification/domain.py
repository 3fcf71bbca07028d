"""A report's casework: what people may ask of a report, and the pure aggregate that answers,
rebuilt from the report's history in the log.

Each method checks that the report's state allows the command and returns the events
to append, chained onto the history; it never does I/O. A command the state does not
allow raises ``NotAllowed`` naming the state (HTTP 409).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, model_validator

from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    Accepted,
    AggregateId,
    AttachmentRef,
    CaseworkPolicy,
    CaseworkPolicySet,
    EscalationRaised,
    EscalationStep,
    Event,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    Grade,
    LongText,
    Note,
    Outcome,
    PersonRef,
    PlaceName,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationPlan,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    ReportFiled,
    RewardFactors,
    RiskColour,
    Sha256Hex,
    SlaBreached,
    SlaClock,
    Verified,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.timing.deadlines import SLA_KINDS, Timer, TimerKind, end_of_day
from hazardloop.web.edge import FURTHEST_AHEAD, Command, Instant
from hazardloop.web.validation import reason_required_unless

COLOUR_OF_GRADE = {Grade.GENERAL: RiskColour.YELLOW, Grade.LARGER: RiskColour.ORANGE, Grade.MAJOR: RiskColour.RED}

Evidence = Annotated[tuple[Sha256Hex, ...], Field(max_length=6, description="Digests of uploaded photos or videos.")]


class Accept(Command):
    note: Note | None = None


class Assign(Command):
    """Who removes the hazard and by when; a major hazard needs its five-item plan."""

    owner: PersonRef
    deadline: Instant | None = Field(None, description="Defaults to the subsidiary's deadline for the grade.")
    plan: RectificationPlan | None = None

    @model_validator(mode="after")
    def _one_deadline(self) -> Self:
        if self.plan is not None and self.deadline is not None and self.deadline != self.plan.deadline:
            raise ValueError("deadline differs from the plan's deadline: give it once, in the plan")
        return self


class OnTheSpot(Command):
    measures: LongText
    evidence: Evidence = ()


class Verify(Command):
    """The outcome; for a confirmed hazard its grading, and optionally its rectification."""

    outcome: Outcome
    grade: Grade | None = None
    risk_colour: RiskColour | None = Field(None, description="Defaults to the grade's colour: major red, larger orange, general yellow.")
    factors: RewardFactors | None = None
    within_routine_duties: bool = False
    duplicate_of: AggregateId | None = None
    comment: Note | None = None
    on_the_spot: OnTheSpot | None = Field(None, description="A general hazard fixed at once, in the verifier's presence.")
    rectification: Assign | None = Field(None, description="Assign the rectification in the same step.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        hazard = self.outcome == Outcome.CONFIRMED_HAZARD
        if hazard and self.grade is None:
            raise ValueError("grade is required when the hazard is confirmed")
        if hazard and self.risk_colour is None:
            object.__setattr__(self, "risk_colour", COLOUR_OF_GRADE[self.grade])
        if hazard and self.factors is None:
            object.__setattr__(self, "factors", RewardFactors())
        if not hazard and (self.grade or self.risk_colour or self.factors or self.on_the_spot or self.rectification):
            raise ValueError("grade, risk_colour, factors and rectification apply only to a confirmed hazard")
        if (self.outcome == Outcome.DUPLICATE) != (self.duplicate_of is not None):
            raise ValueError("duplicate_of is required for a duplicate, and only for one")
        if self.on_the_spot is not None and (self.grade != Grade.GENERAL or self.rectification is not None):
            raise ValueError("on_the_spot applies only to a general hazard, instead of a rectification")
        if self.grade == Grade.MAJOR and self.rectification is not None and self.rectification.plan is None:
            raise ValueError("rectification.plan (the five fixed items) is required for a major hazard")
        return self


class RequestExtension(Command):
    deadline: Instant
    reason: LongText


class DecideExtension(Command):
    approve: bool
    reason: Note | None = Field(None, validate_default=True, description="Required when refusing.")

    _refusal_gives_reason = reason_required_unless("approve", "refusing an extension")


class Rectify(Command):
    measures: LongText
    evidence: Evidence = ()


class Review(Command):
    accept: bool
    reason: Note | None = Field(None, validate_default=True, description="Required when rejecting: what is still wrong.")

    _rejection_gives_reason = reason_required_unless("accept", "rejecting a rectification")


class FeedBack(Command):
    message: LongText


class EscalateExternally(Command):
    authority: PlaceName = Field(description="The authority the reporter takes the report to.")
    note: Note | None = None


class SetCaseworkPolicy(CaseworkPolicy, Command):
    """The policy as a request body: strict JSON, safe text."""


TIMER_ACTOR = "clock:verification"
POLICY_ID = "casework"
"""The one policy aggregate of each subsidiary's casework."""


class Stage(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    VERIFIED = "verified"
    """A confirmed hazard awaiting its rectification owner."""
    RECTIFYING = "rectifying"
    UNDER_REVIEW = "under_review"
    """Rectified by the owner; a verifier has yet to accept it."""
    CLOSED = "closed"
    NOT_CONFIRMED = "not_confirmed"
    DUPLICATE = "duplicate"


OPEN_FOR_VERIFICATION = frozenset({Stage.FILED, Stage.ACCEPTED})
TERMINAL = frozenset({Stage.CLOSED, Stage.NOT_CONFIRMED, Stage.DUPLICATE})


class NotAllowed(DomainError):
    """The report's state does not allow the command."""


def check_deadline(deadline: datetime, now: datetime) -> None:
    """A rectification deadline lies ahead, and not further than a plan can look."""
    if deadline <= now:
        raise Invalid("the deadline must lie in the future", field="deadline")
    if deadline > now + FURTHEST_AHEAD:
        raise Invalid("the deadline must lie within three years", field="deadline")


def policy_in_force(history: History) -> CaseworkPolicy:
    """The last policy set in the subsidiary's policy history; the defaults until one is set."""
    return next((s.event.policy for s in reversed(history.events) if isinstance(s.event, CaseworkPolicySet)), CaseworkPolicy())


def set_policy(history: History, tenant: str, command: SetCaseworkPolicy, *, actor: str, now: datetime) -> list[Event]:
    """A new policy, chained onto the ones before it: it applies to reports filed and deadlines set from now on."""
    policy = CaseworkPolicy.model_validate(command.model_dump())
    return [
        CaseworkPolicySet.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=POLICY_ID, actor=actor, occurred_at=now, policy=policy
        )
    ]


@dataclass
class ReportCase:
    """What the log says about one report, as far as its casework goes."""

    filed: ReportFiled
    sequence: int = 0
    """Stream sequence of the last event: what the next append expects."""
    last_hash: str = ""
    stage: Stage = Stage.FILED
    outcome: Outcome | None = None
    grade: Grade | None = None
    duplicate_of: str | None = None
    verification: Verified | None = None
    owner: str | None = None
    deadline: datetime | None = None
    ladder: tuple[EscalationStep, ...] = ()
    extension_requested_by: str | None = None
    requested_deadline: datetime | None = None
    rectified_by: str | None = None
    fed_back: bool = False
    overdue: bool = False
    escalated_externally: bool = False
    fired: set[str] = field(default_factory=set)

    @property
    def tenant(self) -> str:
        return self.filed.tenant

    @property
    def report_id(self) -> str:
        return self.filed.aggregate_id

    @classmethod
    def from_history(cls, tenant: str, report_id: str, history: History) -> ReportCase:
        if not history.events or not isinstance(history.events[0].event, ReportFiled):
            raise NotFound(f"no report {report_id!r} in {tenant!r}")
        case = cls(filed=history.events[0].event)
        for stored in history.events:
            case.apply(stored.event)
            case.sequence = stored.sequence
        return case

    # --- state from events ------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.last_hash = event.hash
        match event:
            case Accepted():
                self.stage = Stage.ACCEPTED
            case Verified():
                self.outcome, self.grade, self.duplicate_of = event.outcome, event.grade, event.duplicate_of
                self.verification = event
                self.stage = STAGE_AFTER[event.outcome]
                self.fed_back = True
            case RectificationAssigned():
                self.stage, self.owner, self.deadline, self.ladder = Stage.RECTIFYING, event.owner, event.deadline, event.escalation
            case ExtensionRequested():
                self.extension_requested_by, self.requested_deadline = event.actor, event.requested_deadline
            case ExtensionGranted():
                self.deadline, self.extension_requested_by, self.overdue = event.deadline, None, False
            case ExtensionRefused():
                self.extension_requested_by = None
            case Rectified():
                self.stage = Stage.CLOSED if event.on_the_spot else Stage.UNDER_REVIEW
                self.rectified_by = event.actor
            case RectificationAccepted():
                self.stage = Stage.CLOSED
            case RectificationRejected():
                self.stage = Stage.RECTIFYING
            case ReporterFedBack():
                self.fed_back = True
            case SlaBreached():
                self.fired.add(Timer(TimerKind(event.clock.value), event.due_at).key)
            case RectificationOverdue():
                self.fired.add(Timer(TimerKind.OVERDUE, event.deadline, deadline=event.deadline).key)
                self.overdue = True
            case EscalationRaised():
                self.fired.add(Timer(TimerKind.ESCALATION, event.due_at, deadline=event.deadline, step=event.step).key)
            case ExternallyEscalated():
                self.escalated_externally = True

    def _next(self, kind: type[Event], *, actor: str, now: datetime, event_id: Any = None, **payload: Any) -> Event:
        event = kind.record(
            prev_hash=self.last_hash,
            tenant=self.tenant,
            aggregate_id=self.report_id,
            actor=actor,
            occurred_at=now,
            event_id=event_id,
            correlation_id=self.filed.correlation_id,
            **payload,
        )
        self.apply(event)
        return event

    def _require(self, allowed: frozenset[Stage] | set[Stage], doing: str) -> None:
        if self.stage not in allowed:
            raise NotAllowed(f"report {self.report_id} is {self.stage.value}: cannot {doing}", state=self.stage.value)

    # --- commands ---------------------------------------------------------------------

    def accept(self, command: Accept, *, actor: str, now: datetime) -> list[Event]:
        self._require({Stage.FILED}, "accept it")
        return [self._next(Accepted, actor=actor, now=now, note=command.note)]

    def verify(
        self,
        command: Verify,
        *,
        actor: str,
        now: datetime,
        first_report_id: str | None = None,
        evidence: Sequence[AttachmentRef] = (),
        policy: CaseworkPolicy | None = None,
    ) -> list[Event]:
        """Record the outcome; a general hazard fixed on the spot closes at once, and an
        assignment given with the verification starts the rectification clock.

        The same verification sent again after only its first event landed (an outage or
        a lost race in between) completes what is missing instead of failing.
        """
        if self.stage == Stage.VERIFIED and self._same_verification(command, actor):
            if command.on_the_spot is not None:
                return [self._next(Rectified, actor=actor, now=now, measures=command.on_the_spot.measures, evidence=tuple(evidence), on_the_spot=True)]
            if command.rectification is not None:
                return self.assign(command.rectification, actor=actor, now=now, policy=policy or CaseworkPolicy())
        self._require(OPEN_FOR_VERIFICATION, "verify it")
        if command.duplicate_of == self.report_id:
            raise Invalid("a report cannot duplicate itself", field="duplicate_of")
        grading = command.model_dump(exclude={"on_the_spot", "rectification", "duplicate_of"})
        events = [
            self._next(
                Verified, actor=actor, now=now, duplicate_of=command.duplicate_of, first_report_id=first_report_id, **grading
            )
        ]
        if command.on_the_spot is not None:
            events.append(self._next(Rectified, actor=actor, now=now, measures=command.on_the_spot.measures, evidence=tuple(evidence), on_the_spot=True))
        elif command.rectification is not None:
            events.extend(self.assign(command.rectification, actor=actor, now=now, policy=policy or CaseworkPolicy()))
        return events

    def first_of_cluster(self, duplicate_of: str, target: History, merged: Mapping[str, datetime]) -> str:
        """Which report of the hazard came first: this one, the report it merges into, or one
        merged into that report before (``merged``, with when each was filed): the first
        reporter keeps the claim. Only a verified report that is no duplicate takes merges."""
        if duplicate_of == self.report_id:
            raise Invalid("a report cannot duplicate itself", field="duplicate_of")
        if not target.events or not isinstance(target.events[0].event, ReportFiled):
            raise Invalid(f"no report {duplicate_of!r} in {self.tenant} to merge into", field="duplicate_of")
        primary = ReportCase.from_history(self.tenant, duplicate_of, target)
        if primary.stage in OPEN_FOR_VERIFICATION:
            raise Invalid(f"verify report {duplicate_of} first: a duplicate merges into a verified report", field="duplicate_of")
        if primary.stage == Stage.DUPLICATE and primary.outcome == Outcome.DUPLICATE:
            raise Invalid(
                f"report {duplicate_of} was itself merged into {primary.duplicate_of}: merge into that one", field="duplicate_of"
            )
        filed = {self.report_id: self.filed.occurred_at, duplicate_of: primary.filed.occurred_at} | dict(merged)
        return min(filed, key=lambda report_id: (filed[report_id], report_id))

    def _same_verification(self, command: Verify, actor: str) -> bool:
        recorded = self.verification
        grading = command.model_dump(mode="json", exclude={"on_the_spot", "rectification"})
        return recorded is not None and recorded.actor == actor and recorded.model_dump(mode="json", include=set(grading)) == grading

    def assign(self, command: Assign, *, actor: str, now: datetime, policy: CaseworkPolicy) -> list[Event]:
        self._require({Stage.VERIFIED}, "assign its rectification")
        plan: RectificationPlan | None = command.plan
        if self.grade == Grade.MAJOR and plan is None:
            raise Invalid("a major hazard needs its plan with the five fixed items", field="plan")
        deadline = plan.deadline if plan else command.deadline
        if deadline is None:
            days = getattr(policy.deadline_days, self.grade.value)
            deadline = end_of_day(now, policy.timezone) if days == 0 else now + timedelta(days=days)
        check_deadline(deadline, now)
        event = self._next(
            RectificationAssigned, actor=actor, now=now, owner=command.owner, deadline=deadline, plan=plan,
            escalation=policy.escalation, reminders=policy.reminder_hours,
        )
        return [event]

    def request_extension(self, command: RequestExtension, *, actor: str, now: datetime) -> list[Event]:
        self._require({Stage.RECTIFYING}, "extend its deadline")
        if actor != self.owner:
            raise NotAllowed(f"only the rectification owner {self.owner} may ask for more time", state=self.stage.value)
        if self.extension_requested_by is not None:
            raise NotAllowed(f"report {self.report_id} already has an extension request pending", state="extension_pending")
        if command.deadline <= max(self.deadline, now):
            raise Invalid("the new deadline must be later than the current one", field="deadline")
        check_deadline(command.deadline, now)
        return [self._next(ExtensionRequested, actor=actor, now=now, requested_deadline=command.deadline, reason=command.reason)]

    def decide_extension(self, command: DecideExtension, *, actor: str, now: datetime) -> list[Event]:
        self._require({Stage.RECTIFYING, Stage.UNDER_REVIEW}, "decide an extension")
        if self.extension_requested_by is None:
            raise NotAllowed(f"report {self.report_id} has no extension request pending", state=self.stage.value)
        if actor == self.extension_requested_by:
            raise NotAllowed("an extension must be decided by a manager other than its requester", state="extension_pending")
        if command.approve:
            return [self._next(ExtensionGranted, actor=actor, now=now, deadline=self.requested_deadline, comment=command.reason)]
        return [self._next(ExtensionRefused, actor=actor, now=now, reason=command.reason)]

    def rectify(self, measures: str, evidence: Sequence[AttachmentRef], *, actor: str, now: datetime, verifier: bool = False) -> list[Event]:
        """The owner records their work; a verifier may record it for them."""
        self._require({Stage.RECTIFYING}, "record its rectification")
        if actor != self.owner and not verifier:
            raise NotAllowed(f"only the rectification owner {self.owner} or a verifier may record it", state=self.stage.value)
        return [self._next(Rectified, actor=actor, now=now, measures=measures, evidence=tuple(evidence))]

    def review(self, command: Review, *, actor: str, now: datetime) -> list[Event]:
        self._require({Stage.UNDER_REVIEW}, "review its rectification")
        if actor in (self.owner, self.rectified_by):
            raise NotAllowed("whoever did or recorded the rectification cannot review it", state=self.stage.value)
        if command.accept:
            return [self._next(RectificationAccepted, actor=actor, now=now, comment=command.reason)]
        return [self._next(RectificationRejected, actor=actor, now=now, reason=command.reason)]

    def feed_back(self, command: FeedBack, *, actor: str, now: datetime) -> list[Event]:
        return [self._next(ReporterFedBack, actor=actor, now=now, message=command.message)]

    def escalate_externally(self, command: EscalateExternally, *, actor: str, now: datetime) -> list[Event]:
        if not self.overdue or self.stage in TERMINAL:
            raise NotAllowed(f"report {self.report_id} is not overdue: nothing to escalate", state=self.stage.value)
        if self.escalated_externally:
            raise NotAllowed(f"report {self.report_id} was already escalated to the authorities", state="escalated")
        return [self._next(ExternallyEscalated, actor=actor, now=now, authority=command.authority, note=command.note)]

    # --- timers -----------------------------------------------------------------------

    def is_running(self, timer: Timer) -> bool:
        """Whether the clock still runs: not fired yet, and what it waits for not done."""
        if timer.key in self.fired:
            return False
        match timer.kind:
            case TimerKind.ACCEPT:
                return self.stage == Stage.FILED
            case TimerKind.VERIFY:
                return self.stage in OPEN_FOR_VERIFICATION
            case TimerKind.FEEDBACK:
                return not self.fed_back
        return self.stage == Stage.RECTIFYING and self.deadline == timer.deadline and (
            timer.step is None or timer.step < len(self.ladder)
        )

    def fire(self, timer: Timer, *, now: datetime) -> list[Event]:
        """The event a due timer appends, once: its id comes from the timer's key."""
        if timer.due_at > now or not self.is_running(timer):
            return []
        common = {"actor": TIMER_ACTOR, "now": now, "event_id": stable_id(self.tenant, self.report_id, timer.key)}
        if timer.kind in SLA_KINDS:
            return [self._next(SlaBreached, clock=SlaClock(timer.kind.value), due_at=timer.due_at, **common)]
        if timer.step is None:
            return [self._next(RectificationOverdue, deadline=timer.deadline, owner=self.owner, **common)]
        notify = self.ladder[timer.step].notify
        return [self._next(EscalationRaised, step=timer.step, deadline=timer.deadline, due_at=timer.due_at, notify=notify, **common)]


STAGE_AFTER = {
    Outcome.CONFIRMED_HAZARD: Stage.VERIFIED,
    Outcome.VALID_NOT_HAZARD: Stage.CLOSED,
    Outcome.NOT_CONFIRMED: Stage.NOT_CONFIRMED,
    Outcome.DUPLICATE: Stage.DUPLICATE,
}
