from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from hazardloop.errors import Invalid, NotFound
from hazardloop.events import CaseworkPolicy, EscalationRaised, Event, RectificationOverdue, SlaBreached
from hazardloop.log.eventstore import History, StoredEvent
from hazardloop.timing.deadlines import Timer, TimerKind, deadline_timers, sla_timers
from hazardloop_verification.domain import (
    Accept,
    Assign,
    DecideExtension,
    EscalateExternally,
    FeedBack,
    NotAllowed,
    ReportCase,
    RequestExtension,
    Review,
    Stage,
    Verify,
)
from tests.factories import report_filed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = CaseworkPolicy()
PLAN = {
    "responsible_person": "plant-director-zhao",
    "measures": "Replace the relief valve and its inlet line",
    "funds_fen": 4_800_000,
    "deadline": (NOW + timedelta(days=30)).isoformat(),
    "emergency_plan": "Reduce the unit's load to 60 %, watch the pressure hourly",
}


def case_of(*events: Event) -> ReportCase:
    history = History(tuple(StoredEvent(i + 1, e) for i, e in enumerate(events)))
    return ReportCase.from_history(events[0].tenant if events else "refinery", events[0].aggregate_id if events else "r", history)


def rectifying(grade="larger", owner="maint-wang") -> tuple[ReportCase, list[Event]]:
    case = case_of(report_filed(occurred_at=NOW))
    events = case.verify(
        Verify(outcome="confirmed_hazard", grade=grade, rectification=Assign(owner=owner, deadline=NOW + timedelta(days=7))),
        actor="v1",
        now=NOW,
        policy=POLICY,
    )
    return case, events


def test_verify_records_the_grading_chained_to_the_filing():
    filed = report_filed()
    factors = {"at_height": True, "at_night": True}
    [event] = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="major", factors=factors), actor="v1", now=NOW)
    assert event.prev_hash == filed.hash and event.grade == "major" and event.actor == "v1"
    assert event.risk_colour == "red", "the grade's own colour unless the verifier chose one"
    assert event.factors.at_height and event.factors.at_night and not event.factors.bad_weather


def test_a_report_cannot_be_verified_twice():
    filed = report_filed()
    [first] = case_of(filed).verify(Verify(outcome="not_confirmed"), actor="v1", now=NOW)
    with pytest.raises(NotAllowed) as refused:
        case_of(filed, first).verify(Verify(outcome="confirmed_hazard", grade="general"), actor="v2", now=NOW)
    assert refused.value.state == Stage.NOT_CONFIRMED


def test_accept_only_a_new_report():
    filed = report_filed()
    [accepted] = case_of(filed).accept(Accept(), actor="v1", now=NOW)
    assert case_of(filed, accepted).stage == Stage.ACCEPTED
    with pytest.raises(NotAllowed) as refused:
        case_of(filed, accepted).accept(Accept(), actor="v1", now=NOW)
    assert refused.value.state == "accepted"


@pytest.mark.parametrize(
    ("outcome", "stage"),
    [("valid_not_hazard", Stage.CLOSED), ("not_confirmed", Stage.NOT_CONFIRMED), ("confirmed_hazard", Stage.VERIFIED)],
)
def test_each_outcome_leads_to_its_stage(outcome, stage):
    filed = report_filed()
    grade = {"grade": "larger"} if outcome == "confirmed_hazard" else {}
    [verified] = case_of(filed).verify(Verify(outcome=outcome, **grade), actor="v1", now=NOW)
    assert case_of(filed, verified).stage == stage


def test_a_duplicate_is_merged_with_who_came_first():
    filed = report_filed()
    [verified] = case_of(filed).verify(Verify(outcome="duplicate", duplicate_of="first-one"), actor="v1", now=NOW, first_report_id="first-one")
    assert verified.duplicate_of == "first-one" and verified.first_report_id == "first-one"
    assert case_of(filed, verified).stage == Stage.DUPLICATE
    with pytest.raises(Invalid):
        case_of(filed).verify(Verify(outcome="duplicate", duplicate_of=filed.aggregate_id), actor="v1", now=NOW, first_report_id="x")


def test_a_general_hazard_fixed_on_the_spot_closes_at_once():
    filed = report_filed()
    command = Verify(outcome="confirmed_hazard", grade="general", on_the_spot={"measures": "Sign put back"})
    verified, rectified = case_of(filed).verify(command, actor="v1", now=NOW)
    assert rectified.on_the_spot and rectified.prev_hash == verified.hash
    assert case_of(filed, verified, rectified).stage == Stage.CLOSED


def test_the_deadline_defaults_to_the_grades_policy():
    filed = report_filed()
    [verified] = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="larger"), actor="v1", now=NOW)
    [assigned] = case_of(filed, verified).assign(Assign(owner="maint-wang"), actor="v1", now=NOW, policy=POLICY)
    assert assigned.deadline == NOW + timedelta(days=POLICY.deadline_days.larger)
    assert assigned.escalation == POLICY.escalation, "the ladder in force travels with the deadline"


def test_a_major_hazard_needs_its_five_item_plan():
    filed = report_filed()
    [verified] = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="major"), actor="v1", now=NOW)
    with pytest.raises(Invalid) as refused:
        case_of(filed, verified).assign(Assign(owner="maint-wang"), actor="v1", now=NOW, policy=POLICY)
    assert refused.value.field == "plan"
    [assigned] = case_of(filed, verified).assign(Assign(owner="maint-wang", plan=PLAN), actor="v1", now=NOW, policy=POLICY)
    assert assigned.deadline == assigned.plan.deadline and assigned.plan.funds_fen == 4_800_000


def test_rectify_before_verify_is_refused_naming_the_state():
    with pytest.raises(NotAllowed) as refused:
        case_of(report_filed()).rectify("Guard rail", (), actor="maint-wang", now=NOW)
    assert refused.value.state == "filed"


def test_only_the_owner_or_a_verifier_records_the_rectification():
    case, events = rectifying()
    with pytest.raises(NotAllowed):
        case_of(case.filed, *events).rectify("done", (), actor="someone-else", now=NOW)
    [rectified] = case_of(case.filed, *events).rectify("done", (), actor="v2", now=NOW, verifier=True)
    assert case_of(case.filed, *events, rectified).stage == Stage.UNDER_REVIEW


def test_review_accepts_or_sends_back_and_the_owner_cannot_accept_their_own_work():
    case, events = rectifying()
    [rectified] = case_of(case.filed, *events).rectify("Guard rail installed", (), actor="maint-wang", now=NOW)
    history = [case.filed, *events, rectified]
    with pytest.raises(NotAllowed):
        case_of(*history).review(Review(accept=True), actor="maint-wang", now=NOW)
    [rejected] = case_of(*history).review(Review(accept=False, reason="Rail not anchored"), actor="v1", now=NOW)
    assert case_of(*history, rejected).stage == Stage.RECTIFYING
    [accepted] = case_of(*history).review(Review(accept=True), actor="v1", now=NOW)
    assert case_of(*history, accepted).stage == Stage.CLOSED


def test_an_extension_is_asked_by_the_owner_and_decided_by_someone_else():
    case, events = rectifying(owner="maint-wang")
    later = NOW + timedelta(days=20)
    with pytest.raises(NotAllowed):
        case_of(case.filed, *events).request_extension(RequestExtension(deadline=later, reason="Parts on order"), actor="other", now=NOW)
    [requested] = case_of(case.filed, *events).request_extension(
        RequestExtension(deadline=later, reason="Parts on order"), actor="maint-wang", now=NOW
    )
    history = [case.filed, *events, requested]
    with pytest.raises(NotAllowed) as own:
        case_of(*history).decide_extension(DecideExtension(approve=True), actor="maint-wang", now=NOW)
    assert own.value.state == "extension_pending"
    [granted] = case_of(*history).decide_extension(DecideExtension(approve=True), actor="manager-liu", now=NOW)
    assert granted.deadline == later and case_of(*history, granted).deadline == later
    [refused] = case_of(*history).decide_extension(DecideExtension(approve=False, reason="Use the spare"), actor="manager-liu", now=NOW)
    assert case_of(*history, refused).deadline == NOW + timedelta(days=7)
    with pytest.raises(NotAllowed):
        case_of(*history, refused).decide_extension(DecideExtension(approve=True), actor="manager-liu", now=NOW)


def test_an_earlier_deadline_is_no_extension():
    case, events = rectifying()
    with pytest.raises(Invalid) as refused:
        case_of(case.filed, *events).request_extension(RequestExtension(deadline=NOW, reason="x"), actor="maint-wang", now=NOW)
    assert refused.value.field == "deadline"


def test_a_deadline_or_extension_lies_within_three_years():
    filed = report_filed(occurred_at=NOW)
    verified = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="larger"), actor="v1", now=NOW)
    three_years = NOW + timedelta(days=3 * 365 + 1)
    with pytest.raises(Invalid, match="within three years") as refused:
        case_of(filed, *verified).assign(Assign(owner="o", deadline=three_years + timedelta(seconds=1)), actor="v1", now=NOW, policy=POLICY)
    assert refused.value.field == "deadline"
    [assigned] = case_of(filed, *verified).assign(Assign(owner="o", deadline=three_years), actor="v1", now=NOW, policy=POLICY)
    assert assigned.deadline == three_years
    case, events = rectifying()
    with pytest.raises(Invalid, match="within three years"):
        case_of(case.filed, *events).request_extension(RequestExtension(deadline=three_years + timedelta(days=1), reason="x"), actor="maint-wang", now=NOW)


def test_sla_clocks_fire_once_and_only_while_the_step_is_undone():
    filed = report_filed(occurred_at=NOW)
    accept, verify, feedback = sla_timers(filed.occurred_at, POLICY)
    assert accept.due_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC) - timedelta(hours=8), "end of the day in Shanghai"
    assert case_of(filed).fire(accept, now=accept.due_at - timedelta(seconds=1)) == []
    [breach] = case_of(filed).fire(accept, now=accept.due_at)
    assert isinstance(breach, SlaBreached) and breach.clock == "accept" and breach.due_at == accept.due_at
    assert case_of(filed, breach).fire(accept, now=verify.due_at) == [], "fired once"
    again = case_of(filed).fire(accept, now=accept.due_at + timedelta(hours=1))
    assert again[0].event_id == breach.event_id, "a retry produces the same event id, which the broker drops"
    [verified] = case_of(filed).verify(Verify(outcome="not_confirmed"), actor="v1", now=NOW)
    assert case_of(filed, verified).fire(verify, now=verify.due_at) == []
    assert case_of(filed, verified).fire(feedback, now=feedback.due_at) == [], "the outcome is feedback"
    [told] = case_of(filed).feed_back(FeedBack(message="Being checked"), actor="v1", now=NOW)
    assert case_of(filed, told).fire(feedback, now=feedback.due_at) == []


def test_accepting_within_hours_when_the_policy_says_so():
    policy = CaseworkPolicy(accept_within_hours=4)
    assert sla_timers(NOW, policy)[0].due_at == NOW + timedelta(hours=4)


def test_overdue_then_each_rung_of_the_ladder_and_external_escalation():
    case, events = rectifying()
    deadline = NOW + timedelta(days=7)
    overdue, *rungs = deadline_timers(deadline, POLICY.escalation)
    history = [case.filed, *events]
    with pytest.raises(NotAllowed):
        case_of(*history).escalate_externally(EscalateExternally(authority="Emergency Management Bureau"), actor="p", now=NOW)
    [late] = case_of(*history).fire(overdue, now=deadline)
    assert isinstance(late, RectificationOverdue) and late.owner == "maint-wang"
    history.append(late)
    assert [r.due_at - deadline for r in rungs] == [timedelta(days=0), timedelta(days=3), timedelta(days=7)]
    for rung, audience in zip(rungs, (["owner", "safety_department"], ["subsidiary_leadership"], ["group_hq"]), strict=True):
        assert case_of(*history).fire(rung, now=rung.due_at - timedelta(minutes=1)) == []
        [raised] = case_of(*history).fire(rung, now=rung.due_at)
        assert isinstance(raised, EscalationRaised) and list(raised.notify) == audience
        history.append(raised)
    [external] = case_of(*history).escalate_externally(EscalateExternally(authority="Emergency Management Bureau"), actor="p", now=NOW)
    with pytest.raises(NotAllowed):
        case_of(*history, external).escalate_externally(EscalateExternally(authority="Again"), actor="p", now=NOW)


def test_rectified_work_under_review_stops_the_clock_and_a_rejection_restarts_it():
    case, events = rectifying()
    overdue = deadline_timers(NOW + timedelta(days=7), POLICY.escalation)[0]
    [rectified] = case_of(case.filed, *events).rectify("done", (), actor="maint-wang", now=NOW)
    assert case_of(case.filed, *events, rectified).fire(overdue, now=overdue.due_at) == []
    [rejected] = case_of(case.filed, *events, rectified).review(Review(accept=False, reason="Not anchored"), actor="v1", now=NOW)
    assert len(case_of(case.filed, *events, rectified, rejected).fire(overdue, now=overdue.due_at)) == 1


def test_an_extension_replaces_the_deadlines_clocks():
    case, events = rectifying()
    old = deadline_timers(NOW + timedelta(days=7), POLICY.escalation)[0]
    [requested] = case_of(case.filed, *events).request_extension(
        RequestExtension(deadline=NOW + timedelta(days=30), reason="Parts"), actor="maint-wang", now=NOW
    )
    [granted] = case_of(case.filed, *events, requested).decide_extension(DecideExtension(approve=True), actor="mgr", now=NOW)
    extended = case_of(case.filed, *events, requested, granted)
    assert extended.fire(old, now=old.due_at) == []
    new = deadline_timers(granted.deadline, POLICY.escalation)[0]
    assert len(extended.fire(new, now=new.due_at)) == 1


def test_timer_keys_do_not_depend_on_the_time_zone_a_deadline_was_written_in():
    utc = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    shanghai = utc.astimezone(ZoneInfo("Asia/Shanghai"))
    assert Timer(TimerKind.OVERDUE, utc, deadline=utc).key == Timer(TimerKind.OVERDUE, shanghai, deadline=shanghai).key


def test_a_history_without_a_filing_is_not_a_report():
    with pytest.raises(NotFound):
        ReportCase.from_history("refinery", "nope", History(()))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"outcome": "confirmed_hazard"}, "grade is required"),
        ({"outcome": "not_confirmed", "grade": "major"}, "only to a confirmed hazard"),
        ({"outcome": "duplicate"}, "duplicate_of is required"),
        ({"outcome": "confirmed_hazard", "grade": "larger", "on_the_spot": {"measures": "x"}}, "only to a general hazard"),
        ({"outcome": "confirmed_hazard", "grade": "major", "rectification": {"owner": "w"}}, "five fixed items"),
        ({"outcome": "confirmed_hazard", "grade": "general", "risk_colour": "purple"}, "risk_colour"),
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "not_confirmed", "extra": 1}, "extra"),
    ],
)
def test_verify_command_rejects_inconsistent_input(body, message):
    with pytest.raises(ValidationError, match=message):
        Verify.model_validate(body)


def test_refusals_and_rejections_need_a_reason():
    with pytest.raises(ValidationError, match="reason is required"):
        DecideExtension(approve=False)
    with pytest.raises(ValidationError, match="reason is required"):
        Review(accept=False)


def test_whoever_recorded_the_rectification_cannot_review_it():
    case, events = rectifying()
    [rectified] = case_of(case.filed, *events).rectify("done", (), actor="v2", now=NOW, verifier=True)
    with pytest.raises(NotAllowed, match="cannot review"):
        case_of(case.filed, *events, rectified).review(Review(accept=True), actor="v2", now=NOW)
    assert case_of(case.filed, *events, rectified).review(Review(accept=True), actor="v1", now=NOW)


def test_a_zero_day_default_deadline_means_by_the_end_of_the_day_where_the_subsidiary_is():
    policy = CaseworkPolicy(deadline_days={"general": 0})
    filed = report_filed()
    [verified] = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="general"), actor="v1", now=NOW)
    [assigned] = case_of(filed, verified).assign(Assign(owner="maint-wang"), actor="v1", now=NOW, policy=policy)
    assert assigned.deadline == datetime(2026, 3, 2, 16, 0, tzinfo=UTC), "midnight in Shanghai"


def test_a_verification_cut_short_after_its_first_event_is_completed_when_sent_again():
    filed = report_filed()
    command = Verify(outcome="confirmed_hazard", grade="larger", rectification=Assign(owner="maint-wang"))
    verified, assigned = case_of(filed).verify(command, actor="v1", now=NOW, policy=POLICY)
    [completed] = case_of(filed, verified).verify(command, actor="v1", now=NOW, policy=POLICY)  # only Verified had landed
    assert completed.type == "RectificationAssigned" and completed.owner == "maint-wang"
    with pytest.raises(NotAllowed):
        case_of(filed, verified, assigned).verify(command, actor="v1", now=NOW, policy=POLICY)
    with pytest.raises(NotAllowed):  # someone else's, or another grading, is a second verification
        case_of(filed, verified).verify(Verify(outcome="confirmed_hazard", grade="major", rectification=Assign(owner="w", plan=PLAN)), actor="v1", now=NOW)
    with pytest.raises(NotAllowed):
        case_of(filed, verified).verify(command, actor="v2", now=NOW, policy=POLICY)
