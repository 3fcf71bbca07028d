"""Checks elsewhere on the in-memory event store: raising a check opens a task in each
subsidiary addressed, answers and more time go to that task, overdue tasks escalate like an
overdue rectification, and every refusal appends nothing. No broker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hazardloop.errors import Invalid, NotFound
from hazardloop.events import (
    CHECK_TASK,
    CaseworkPolicy,
    CheckAnswered,
    CheckClosed,
    CheckEscalationRaised,
    CheckExtensionGranted,
    CheckExtensionRequested,
    CheckRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    DeadlineDays,
    Event,
)
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.testing import InMemoryEventStore
from hazardloop.timing.deadlines import deadline_timers
from hazardloop_verification.check_commands import CheckWork, FoundAnswers
from hazardloop_verification.checks import (
    AnswerCheck,
    CloseCheck,
    DecideCheckExtension,
    RaiseCheck,
    RequestCheckExtension,
)
from hazardloop_verification.commands import Casework
from hazardloop_verification.domain import SetCaseworkPolicy, Verify
from tests.clock import ManualClock
from tests.factories import report_filed
from tests.unit.services.verification.test_commands import NOW, Sealer, Uploads, filed, refused, unsealed

THREE = ["mine", "steel", "chemicals"]
CHECK = "c-1"


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def casework(store, clock) -> Casework:
    return Casework(store, Sealer(), clock, Uploads(), lambda _: {})


@pytest.fixture
def checks(store, clock) -> CheckWork:
    return CheckWork(store, Sealer(), clock)


async def verified(casework: Casework, store: InMemoryEventStore, grade: str = "major") -> str:
    report_id = await filed(store)
    await casework.verify("refinery", report_id, Verify(outcome="confirmed_hazard", grade=grade), "safety-li")
    return report_id


def look_for(**overrides) -> RaiseCheck:
    return RaiseCheck.model_validate({"look_for": "Gas detectors switched off at the alarm panel", "subsidiaries": THREE,
                                      "equipment": "AT-*"} | overrides)


async def raised(checks: CheckWork, report_id: str, **overrides) -> list[Event]:
    command = look_for(**overrides)
    return await checks.raise_check(
        "refinery", report_id, CHECK, command, "hq-safety", subsidiaries=command.subsidiaries or THREE,
        all_subsidiaries=command.all_subsidiaries,
    )


async def task_log(store: InMemoryEventStore, tenant: str) -> list[Event]:
    return [stored.event for stored in (await store.load(tenant, CHECK_TASK, CHECK)).events]


# --- raising -------------------------------------------------------------------------------


async def test_raising_a_check_records_it_with_the_report_and_opens_one_task_in_each_subsidiary(casework, checks, store):
    report_id = await verified(casework, store)
    events = await raised(checks, report_id)
    check, *tasks = events
    assert isinstance(check, CheckRaised) and check.tenant == "refinery" and check.report_id == report_id
    assert check.grade == "major" and check.category == "unsafe_equipment" and check.subsidiaries == tuple(THREE)
    assert unsealed(check.look_for) == "Gas detectors switched off at the alarm panel"
    assert [type(t) for t in tasks] == [CheckTaskOpened] * 3
    assert [t.tenant for t in tasks] == THREE and {t.aggregate_id for t in tasks} == {CHECK}
    for task in tasks:
        assert task.origin_tenant == "refinery" and task.report_id == report_id and task.equipment == "AT-*"
        assert task.look_for.key_id == CHECK and unsealed(task.look_for) == unsealed(check.look_for)
        assert task.deadline == NOW + timedelta(days=15), "a major hazard's rectification deadline by default"
        assert task.escalation == CaseworkPolicy().escalation
        assert task.causation_id == check.event_id
    for tenant in THREE:
        assert await task_log(store, tenant) == [t for t in tasks if t.tenant == tenant]


async def test_each_subsidiary_gets_its_own_deadline_from_its_own_policy(casework, checks, store):
    report_id = await verified(casework, store)
    await casework.set_policy("steel", SetCaseworkPolicy(deadline_days=DeadlineDays(major=5)), "steel-manager")
    _, *tasks = await raised(checks, report_id)
    deadlines = {t.tenant: t.deadline for t in tasks}
    assert deadlines == {"mine": NOW + timedelta(days=15), "steel": NOW + timedelta(days=5), "chemicals": NOW + timedelta(days=15)}


async def test_a_due_date_given_by_headquarters_applies_to_every_subsidiary(casework, checks, store):
    report_id = await verified(casework, store)
    due = NOW + timedelta(days=4)
    _, *tasks = await raised(checks, report_id, due=due.isoformat())
    assert {t.deadline for t in tasks} == {due}


async def test_a_check_is_raised_only_on_a_verified_hazard_of_the_policys_grade_or_above(casework, checks, store):
    unverified = await filed(store)
    assert (await refused(store, raised(checks, unverified))).state == "filed"
    larger = await verified(casework, store, grade="larger")
    assert (await refused(store, raised(checks, larger))).state == "grade_too_low"
    await casework.set_policy("refinery", SetCaseworkPolicy(check_from_grade="larger"), "refinery-manager")
    assert len(await raised(checks, larger)) == 4, "the policy lowered the threshold"


class Outage(InMemoryEventStore):
    """The log going down just as one subsidiary's task is appended."""

    def __init__(self, tenant: str) -> None:
        super().__init__()
        self.down_for = tenant

    async def append(self, event: Event, *, expected_version: int):
        if isinstance(event, CheckTaskOpened) and event.tenant == self.down_for:
            self.down_for = ""
            raise EventStoreUnavailable("the broker went away")
        return await super().append(event, expected_version=expected_version)


async def test_raising_again_after_an_outage_midway_opens_only_the_missing_task(clock):
    store = Outage("chemicals")
    casework, checks = Casework(store, Sealer(), clock, Uploads(), lambda _: {}), CheckWork(store, Sealer(), clock)
    report_id = await verified(casework, store)
    with pytest.raises(EventStoreUnavailable):
        await raised(checks, report_id)
    assert [len(await task_log(store, t)) for t in THREE] == [1, 1, 0]
    [reopened] = await raised(checks, report_id)
    assert isinstance(reopened, CheckTaskOpened) and reopened.tenant == "chemicals"
    assert await raised(checks, report_id) == [], "raised again: nothing more"


async def test_a_due_date_in_the_past_is_refused_naming_the_field(casework, checks, store):
    report_id = await verified(casework, store)
    refusal = await refused(store, raised(checks, report_id, due=(NOW - timedelta(hours=1)).isoformat()), Invalid)
    assert refusal.field == "deadline"


def test_a_check_names_subsidiaries_or_all_of_them_each_once():
    with pytest.raises(ValueError, match="at least one subsidiary"):
        look_for(subsidiaries=[])
    with pytest.raises(ValueError, match="not both"):
        look_for(all_subsidiaries=True)
    with pytest.raises(ValueError, match="named twice"):
        look_for(subsidiaries=["mine", "mine"])
    assert look_for(subsidiaries=[], all_subsidiaries=True).all_subsidiaries


# --- answers -------------------------------------------------------------------------------


async def test_a_subsidiary_answers_not_present_once_and_never_after_the_check_closed(casework, checks, store):
    report_id = await verified(casework, store)
    await raised(checks, report_id)
    [answer] = await checks.answer("mine", CHECK, AnswerCheck(answer="not_present", note="All AT detectors checked"), "mine-safety")
    assert isinstance(answer, CheckAnswered) and answer.answer == "not_present" and answer.tenant == "mine"
    assert (await refused(store, checks.answer("mine", CHECK, AnswerCheck(answer="not_present"), "mine-safety"))).state == "answered"
    refusal = await refused(store, checks.answer("steel", CHECK, AnswerCheck(answer="found"), "steel-safety"), Invalid)
    assert refusal.field == "answer", "found is answered by filing the report of what was found"
    await refused(store, checks.answer("retail", CHECK, AnswerCheck(answer="not_present"), "x"), NotFound)


async def test_a_report_filed_for_the_check_answers_found_once_and_only_while_it_is_open(casework, checks, store):
    report_id = await verified(casework, store)
    await raised(checks, report_id)
    found = report_filed("steel", occurred_at=NOW + timedelta(hours=2), check_id=CHECK)
    await store.append(found, expected_version=0)
    reaction = FoundAnswers(store)
    await reaction.when_found_report_filed_answer(found)
    await reaction.when_found_report_filed_answer(found)  # redelivered
    answers = [e for e in await task_log(store, "steel") if isinstance(e, CheckAnswered)]
    assert [(a.answer, a.found_report_id, a.event_id) for a in answers] == [("found", found.aggregate_id, found.derived_id("check-answer"))]
    plain = report_filed("mine")
    await reaction.when_found_report_filed_answer(plain)
    assert len(await task_log(store, "mine")) == 1, "a report that answers no check answers nothing"


# --- more time -----------------------------------------------------------------------------


async def test_more_time_is_asked_by_the_subsidiary_and_given_by_someone_else(casework, checks, store):
    report_id = await verified(casework, store)
    await raised(checks, report_id)
    later = NOW + timedelta(days=30)
    [asked] = await checks.request_extension("steel", CHECK, RequestCheckExtension(deadline=later, reason="Turnaround"), "steel-safety")
    assert isinstance(asked, CheckExtensionRequested)
    again = checks.request_extension("steel", CHECK, RequestCheckExtension(deadline=later, reason="x"), "steel-safety")
    assert (await refused(store, again)).state == "extension_pending"
    own = checks.decide_extension("steel", CHECK, DecideCheckExtension(approve=True), "steel-safety")
    assert (await refused(store, own)).state == "extension_pending"
    [granted] = await checks.decide_extension("steel", CHECK, DecideCheckExtension(approve=True), "hq-manager")
    assert isinstance(granted, CheckExtensionGranted) and granted.deadline == later
    earlier = checks.request_extension("steel", CHECK, RequestCheckExtension(deadline=later - timedelta(days=1), reason="x"), "s")
    assert (await refused(store, earlier, Invalid)).field == "deadline"


# --- clocks --------------------------------------------------------------------------------


async def test_an_unanswered_task_goes_overdue_and_climbs_the_ladder_each_rung_once(casework, checks, store, clock):
    report_id = await verified(casework, store)
    _, *tasks = await raised(checks, report_id)
    await checks.answer("mine", CHECK, AnswerCheck(answer="not_present"), "mine-safety")
    steel = next(t for t in tasks if t.tenant == "steel")
    timers = deadline_timers(steel.deadline, steel.escalation)
    clock.advance(days=15 + 7)
    fired = await checks.fire_clocks("steel", CHECK, timers)
    assert [type(e) for e in fired] == [CheckTaskOverdue, CheckEscalationRaised, CheckEscalationRaised, CheckEscalationRaised]
    assert [e.step for e in fired[1:]] == [0, 1, 2] and fired[3].notify == ("group_hq",)
    assert await checks.fire_clocks("steel", CHECK, timers) == [], "each clock fires once"
    assert await checks.fire_clocks("mine", CHECK, deadline_timers(steel.deadline, steel.escalation)) == [], "answered: no clock runs"


async def test_a_clock_set_for_an_old_deadline_does_not_fire_after_more_time_was_given(casework, checks, store, clock):
    report_id = await verified(casework, store)
    _, *tasks = await raised(checks, report_id)
    steel = next(t for t in tasks if t.tenant == "steel")
    await checks.request_extension("steel", CHECK, RequestCheckExtension(deadline=NOW + timedelta(days=40), reason="Turnaround"), "s1")
    await checks.decide_extension("steel", CHECK, DecideCheckExtension(approve=True), "hq-manager")
    clock.advance(days=16)
    assert await checks.fire_clocks("steel", CHECK, deadline_timers(steel.deadline, steel.escalation)) == []


# --- closing -------------------------------------------------------------------------------


async def test_a_check_closes_only_when_no_subsidiary_is_forgotten_and_then_takes_no_answer(casework, checks, store, clock):
    report_id = await verified(casework, store)
    _, *tasks = await raised(checks, report_id)
    await checks.answer("mine", CHECK, AnswerCheck(answer="not_present"), "mine-safety")
    waiting = await refused(store, checks.close("refinery", CHECK, CloseCheck(), "hq-safety"))
    assert waiting.state == "waiting" and "steel" in str(waiting) and "chemicals" in str(waiting) and "mine" not in str(waiting)
    await checks.answer("steel", CHECK, AnswerCheck(answer="not_present"), "steel-safety")
    clock.advance(days=16)
    chemicals = next(t for t in tasks if t.tenant == "chemicals")
    await checks.fire_clocks("chemicals", CHECK, deadline_timers(chemicals.deadline, chemicals.escalation)[:1])
    [closed] = await checks.close("refinery", CHECK, CloseCheck(note="Done group-wide"), "hq-safety")
    assert isinstance(closed, CheckClosed) and closed.tenant == "refinery"
    late = await refused(store, checks.answer("chemicals", CHECK, AnswerCheck(answer="not_present"), "chem-safety"))
    assert late.state == "closed"
    assert (await refused(store, checks.close("refinery", CHECK, CloseCheck(), "hq-safety"))).state == "closed"
    assert await checks.fire_clocks("chemicals", CHECK, deadline_timers(chemicals.deadline, chemicals.escalation)) == []
