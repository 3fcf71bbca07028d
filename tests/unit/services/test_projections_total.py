"""Every projection applies every event the edge lets into the log, and every date an
event already in the log can hold: nothing a client sends can dead-letter an event.

Commands are generated as JSON bodies and go through the request models and the domain,
as the routes send them; whatever is refused there never becomes an event.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from hazardloop.errors import DomainError
from hazardloop.events import SUBTYPES, CaseworkPolicy, Event, PlaceKind, RectificationAssigned, Verified
from hazardloop.log.eventstore import History, StoredEvent
from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import Delivery
from hazardloop.timing.deadlines import deadline_timers, sla_timers
from hazardloop_console.projection import projection as console_projection
from hazardloop_intake.domain import FileReport, Place, Reporter, file_report, locate
from hazardloop_intake.projection import projection as intake_projection
from hazardloop_notifications.projection import projection as notifications_projection
from hazardloop_rewards.projection import projection as rewards_projection
from hazardloop_verification.domain import (
    Accept,
    DecideExtension,
    FeedBack,
    Rectify,
    ReportCase,
    RequestExtension,
    Review,
    Verify,
)
from hazardloop_verification.projection import projection as verification_projection

NOW = datetime.now(UTC).replace(microsecond=0)
SPOT = Place("bay-3", PlaceKind.SPOT, "North", "Pipe rack", "Bay 3", None, retired=False)
OWNER, VERIFIER, MANAGER = "maint-wang", "safety-li", "manager-zhao"
POLICY = CaseworkPolicy()
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)), timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])


class Projections:
    """The four services' read models, each on its own database, fed like a consumer feeds them."""

    def __init__(self) -> None:
        self.runners = [
            ProjectionRunner(build(None), create_store_engine("sqlite://"), None)
            for build in (intake_projection, verification_projection, rewards_projection, notifications_projection, console_projection)
        ]
        for runner in self.runners:
            runner.create_schema()
        self.sequence = itertools.count(1)

    def apply(self, events: list[Event]) -> None:
        for e in events:
            event(e.type)  # shown by --hypothesis-show-statistics: which events were exercised
        deliveries = [Delivery(next(self.sequence), f"t.{e.tenant}.report.{e.aggregate_id}.{e.type}", e) for e in events]
        for runner in self.runners:
            runner.apply(deliveries)  # a handler error here is what the consumer would dead-letter


@pytest.fixture(scope="module")
def projections() -> Projections:
    return Projections()


def reporter(anonymous: bool) -> Reporter:
    return Reporter("p-" + "0" * 32, None, uuid.uuid4().hex * 2 if anonymous else None, None)  # a receipt is unique


def as_sent(model, body):
    """The body as a route validates it (already parsed JSON), or None if it is refused."""
    try:
        return TypeAdapter(model).validate_python(body, from_attributes=True)
    except ValidationError:
        return None


def times(around: datetime, *, days: tuple[float, float] = (-30, 4 * 365)):
    """Times as ISO text: mostly near ``around`` (what plans look like), some anywhere in
    the calendar, a few malformed."""
    near = st.builds(lambda d, zone: (around + timedelta(days=d)).astimezone(zone), st.floats(*days), ZONES)
    anywhere = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)
    odd = st.sampled_from(["9999-12-31T00:00:00Z", "1700000000", ""])
    return st.one_of(near.map(datetime.isoformat), near.map(datetime.isoformat), anywhere.map(datetime.isoformat), odd)


writing = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40).filter(str.strip)
text = st.one_of(*[writing] * 6, st.text(st.characters(codec="utf-8"), max_size=40), st.sampled_from(["更换阀门\n并测试", "ok\u0085", "\u202eevil"]))
kinds = st.sampled_from([(c.value, s) for c, subtypes in SUBTYPES.items() for s in subtypes])

report = st.fixed_dictionaries(
    {"tenant": st.just("refinery"), "kind": kinds, "description": writing, "place_id": st.just("bay-3"),
     "observed_at": st.builds(lambda d, zone: (NOW - timedelta(days=d)).astimezone(zone).isoformat(), st.floats(0, 360), ZONES),
     "anonymous": st.booleans()},
    optional={"cause_analysis": text, "suggested_fix": text},
)
"""A report as filed; what the edge makes of every field of one is the intake schema's own property test."""
plan = st.fixed_dictionaries(
    {"responsible_person": st.just("plant-director-zhao"), "measures": text, "funds_fen": st.integers(0, 10**9) | st.just("12"),
     "deadline": times(NOW), "emergency_plan": text}
)
rectification = st.fixed_dictionaries({"owner": st.just(OWNER)}, optional={"deadline": times(NOW), "plan": plan})
graded = st.one_of(
    st.fixed_dictionaries({"outcome": st.just("confirmed_hazard"), "grade": st.sampled_from(["larger", "general", "major"]), "rectification": rectification}),
    st.fixed_dictionaries({"outcome": st.just("confirmed_hazard"), "grade": st.sampled_from(["general", "larger", "major"])}),
    st.fixed_dictionaries({"outcome": st.sampled_from(["valid_not_hazard", "not_confirmed"])}),
    st.fixed_dictionaries({"outcome": st.sampled_from(["confirmed_hazard", "valid_not_hazard", "duplicate"]), "grade": st.sampled_from(["general", "major", None])}),
)
verification = st.tuples(graded, st.fixed_dictionaries({}, optional={"comment": text, "within_routine_duties": st.booleans() | st.just("yes")})).map(lambda parts: parts[0] | parts[1])
clocks = st.tuples(st.just("clocks"), st.one_of(st.floats(0, 2), st.floats(0, 40), st.floats(0, 4000)))
casework = st.tuples(
    st.tuples(st.just("accept"), st.fixed_dictionaries({}, optional={"note": text})),
    st.tuples(st.just("verify"), verification),
    clocks,
    st.tuples(st.just("extend"), st.fixed_dictionaries({"deadline": times(NOW), "reason": text})),
    st.tuples(st.just("decide"), st.fixed_dictionaries({"approve": st.one_of(st.booleans(), st.booleans(), st.just("yes"))}, optional={"reason": text})),
    clocks,
    st.tuples(st.just("rectify"), st.fixed_dictionaries({"measures": text})),
    st.tuples(st.just("review"), st.fixed_dictionaries({"accept": st.booleans()}, optional={"reason": text})),
    st.tuples(st.just("feedback"), st.fixed_dictionaries({"message": text})),
    clocks,
).flatmap(lambda flow: st.lists(st.sampled_from([True, True, False]), min_size=len(flow), max_size=len(flow)).map(lambda keep: [s for s, k in zip(flow, keep) if k]))
"""The closed loop in its order, each step's body generated (so often refused) and each
step maybe left out; the clocks run in between."""

STEPS = {
    "accept": (Accept, lambda case, c, now: case.accept(c, actor=VERIFIER, now=now)),
    "verify": (Verify, lambda case, c, now: case.verify(c, actor=VERIFIER, now=now, policy=POLICY)),
    "extend": (RequestExtension, lambda case, c, now: case.request_extension(c, actor=OWNER, now=now)),
    "decide": (DecideExtension, lambda case, c, now: case.decide_extension(c, actor=MANAGER, now=now)),
    "rectify": (Rectify, lambda case, c, now: case.rectify(c.measures, (), actor=OWNER, now=now)),
    "review": (Review, lambda case, c, now: case.review(c, actor=VERIFIER, now=now)),
    "feedback": (FeedBack, lambda case, c, now: case.feed_back(c, actor=VERIFIER, now=now)),
}


CALENDAR = [(datetime.min, datetime.max), (datetime(9999, 1, 1), datetime.max), (datetime.min, datetime(1, 12, 31))]
"""The whole calendar, and its two ends where arithmetic overflows."""


def due_clocks(case: ReportCase, now: datetime) -> list[Event]:
    """What the timekeeper appends at ``now``: every due clock of the case, once."""
    timers = sla_timers(case.filed.occurred_at, POLICY)
    if case.deadline is not None:
        timers += deadline_timers(case.deadline, case.ladder)
    return [event for timer in timers for event in case.fire(timer, now=now)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(report=report, steps=casework)
def test_every_event_the_edge_accepts_applies_in_every_projection(projections, report, steps):
    category, subtype = report.pop("kind")
    command = as_sent(FileReport, report | {"category": category, "subtype": subtype})
    if command is None:
        return
    try:
        filed = file_report(
            command, report_id=f"r-{uuid.uuid4().hex[:12]}", event_id=uuid.uuid4(), location=locate(command, SPOT), reporter=reporter(command.anonymous),
            attachments=[], possible_duplicate_of=None, now=NOW,
        )
    except DomainError:
        return
    projections.apply([filed])
    case, now = ReportCase.from_history(filed.tenant, filed.aggregate_id, History((StoredEvent(1, filed),))), NOW
    for step, body in steps:
        now += timedelta(minutes=7)
        if step == "clocks":
            now += timedelta(days=body)
            projections.apply(due_clocks(case, now))
            continue
        model, decide = STEPS[step]
        if (sent := as_sent(model, body)) is None:
            continue
        try:
            events = decide(case, sent, now)
        except DomainError:
            continue
        projections.apply(events)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deadline=st.one_of(*(st.datetimes(min_value=low, max_value=high, timezones=ZONES) for low, high in CALENDAR)), after=st.floats(0, 10**6))
@example(deadline=datetime(9999, 12, 31, tzinfo=UTC), after=0)
@example(deadline=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), after=10**6)
def test_a_deadline_already_in_the_log_applies_whatever_it_is(projections, deadline, after):
    """Before requests were bounded, any date could reach the log; the log is never rewritten."""
    filed = file_report(
        FileReport(tenant="refinery", category="unsafe_equipment", subtype="other", description="Valve", place_id="bay-3", observed_at=NOW),
        report_id=f"r-{uuid.uuid4().hex[:12]}", event_id=uuid.uuid4(), location=locate(FileReport.model_construct(spot_detail=None, equipment_tag=None), SPOT),
        reporter=reporter(False), attachments=[], possible_duplicate_of=None, now=NOW,
    )
    chained = {"tenant": filed.tenant, "aggregate_id": filed.aggregate_id, "occurred_at": NOW}
    verified = Verified.record(prev_hash=filed.hash, actor=VERIFIER, outcome="confirmed_hazard", grade="larger", risk_colour="orange", factors={}, **chained)
    assigned = RectificationAssigned.record(
        prev_hash=verified.hash, actor=VERIFIER, owner=OWNER, deadline=deadline, escalation=POLICY.escalation, reminders=POLICY.reminder_hours, **chained
    )
    case = ReportCase.from_history(filed.tenant, filed.aggregate_id, History(tuple(StoredEvent(i + 1, e) for i, e in enumerate([filed, verified, assigned]))))
    projections.apply([filed, verified, assigned])
    projections.apply(due_clocks(case, NOW + timedelta(days=after)))
