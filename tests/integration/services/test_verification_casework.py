"""Verification's casework over HTTP on a real broker: extensions, duplicate merges, on-the-spot
fixes, major hazards, review, recurrences, policy, and who may do what."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from hazardloop.events import CaseworkPolicy
from hazardloop.web.auth import Role
from tests.integration.services.desk import Desk, at
from tests.waiting import wait_for

HAZARD = {"outcome": "confirmed_hazard"}


@pytest.fixture
def desk(harness) -> Desk:
    return Desk(harness)


def test_the_owner_asks_for_more_time_and_another_manager_moves_the_deadline(desk):
    report = desk.file()
    old = at(desk.assign(report, owner="maint-wang")["deadline"])
    new = old + timedelta(days=5)
    owner = desk.headers("maint-wang", roles=[Role.RECTIFIER, Role.MANAGER])
    ask = {"deadline": new.isoformat(), "reason": "The replacement valve arrives next week."}

    stranger = desk.post(report, "extension", ask, desk.headers("maint-liu", roles=[Role.RECTIFIER]))
    assert stranger.status_code == 409 and stranger.json()["state"] == "rectifying"
    desk.ok(report, "extension", ask, owner)
    own = desk.post(report, "extension/decision", {"approve": True}, owner)
    assert own.status_code == 409 and own.json()["state"] == "extension_pending"
    assert desk.post(report, "extension/decision", {"approve": True}, desk.headers("maint-liu", roles=[Role.RECTIFIER])).status_code == 403
    unreasoned = desk.post(report, "extension/decision", {"approve": False}, desk.manager)
    assert unreasoned.status_code == 422 and "reason" in unreasoned.text

    granted = desk.ok(report, "extension/decision", {"approve": True, "reason": "Valve on order"}, desk.manager)
    assert granted["event"] == "ExtensionGranted"
    assert desk.types(report)[1:] == ["Verified", "RectificationAssigned", "ExtensionRequested", "ExtensionGranted"]
    case = desk.wait_case(report, lambda c: at(c["deadline"]) == new)
    overdue = {at(t["due_at"]): t["status"] for t in case["timers"] if t["kind"] == "overdue"}
    assert overdue == {old: "stopped", new: "pending"}
    ladder = sorted(at(t["due_at"]) for t in case["timers"] if t["kind"] == "escalation" and t["status"] == "pending")
    assert ladder == [new + timedelta(days=step["after_days"]) for step in case["escalation"]]


def test_a_pending_extension_cannot_be_granted_once_the_report_is_closed(desk):
    report = desk.file()
    deadline = at(desk.assign(report, owner="maint-wang")["deadline"])
    owner = desk.headers("maint-wang", roles=[Role.RECTIFIER])
    desk.ok(report, "extension", {"deadline": (deadline + timedelta(days=5)).isoformat(), "reason": "Parts on order"}, owner)
    desk.ok(report, "rectification", {"measures": "Rail fitted after all"}, owner)
    desk.ok(report, "review", {"accept": True}, desk.verifier)

    late = desk.post(report, "extension/decision", {"approve": True}, desk.manager)
    assert late.status_code == 409 and late.json()["state"] == "closed"
    assert "ExtensionGranted" not in desk.types(report)
    case = desk.wait_case(report, lambda c: c["stage"] == "closed")
    assert at(case["deadline"]) == deadline and not [t for t in case["timers"] if t["status"] == "pending"]


def test_a_duplicate_names_its_report_and_the_first_filed_and_both_stay_readable(desk):
    first, second, third, fourth = desk.file(), desk.file(reporter="emp-2"), desk.file(reporter="emp-3"), desk.file(reporter="emp-4")
    unverified = desk.post(first, "verification", {"outcome": "duplicate", "duplicate_of": second}, desk.verifier)
    assert unverified.status_code == 422 and "duplicate_of" in unverified.text, "merge into a verified report only"
    desk.ok(second, "verification", {"outcome": "confirmed_hazard", "grade": "general"}, desk.verifier)
    desk.wait_case(second, lambda c: c["stage"] == "verified")

    desk.ok(first, "verification", {"outcome": "duplicate", "duplicate_of": second}, desk.verifier)
    merged = desk.last(first, "Verified")
    assert (merged["duplicate_of"], merged["first_report_id"]) == (second, first), "the earlier report keeps its claim"
    desk.wait_case(first, lambda c: c["stage"] == "duplicate")  # the merge is known before the next one
    desk.ok(third, "verification", {"outcome": "duplicate", "duplicate_of": second}, desk.verifier)
    merged = desk.last(third, "Verified")
    assert (merged["duplicate_of"], merged["first_report_id"]) == (second, first), "the cluster's first reporter, not just the pair's"

    desk.wait_case(first, lambda c: c["stage"] == "duplicate")
    into_duplicate = desk.post(fourth, "verification", {"outcome": "duplicate", "duplicate_of": first}, desk.verifier)
    assert into_duplicate.status_code == 422 and "duplicate_of" in into_duplicate.text
    unknown = desk.post(fourth, "verification", {"outcome": "duplicate", "duplicate_of": "no-such-report"}, desk.verifier)
    assert unknown.status_code == 422 and "duplicate_of" in unknown.text
    assert desk.types(fourth) == ["ReportFiled"]

    cases = {r: desk.case(r) for r in (first, second, third)}
    assert {r: (c["stage"], c["duplicate_of"]) for r, c in cases.items()} == {
        first: ("duplicate", second), second: ("verified", None), third: ("duplicate", second)
    }


def test_a_general_hazard_fixed_on_the_spot_closes_with_its_evidence(desk):
    report, other = desk.file(), desk.file(reporter="emp-2")
    digest = desk.upload(desk.verifier)
    body = HAZARD | {"grade": "general", "on_the_spot": {"measures": "Harness clipped on", "evidence": [digest]}}

    done = desk.ok(report, "verification", body, desk.verifier)
    assert [e["event"] for e in done["events"]] == ["Verified", "Rectified"]
    rectified = desk.last(report, "Rectified")
    assert rectified["on_the_spot"] is True and rectified["measures"] == "Harness clipped on"
    (evidence,) = rectified["evidence"]
    assert evidence["digest"] == digest and evidence["content_type"] == "image/jpeg" and evidence["kind"] == "image"
    case = desk.wait_case(report, lambda c: c["stage"] == "closed")
    assert case["closed_at"] and case["measures"] == "Harness clipped on"

    never_uploaded = body | {"on_the_spot": {"measures": "Fixed", "evidence": ["0" * 64]}}
    refused = desk.post(other, "verification", never_uploaded, desk.verifier)
    assert refused.status_code == 422 and "on_the_spot.evidence.0" in refused.text
    assert desk.types(other) == ["ReportFiled"]


def test_a_major_hazard_is_rectified_under_its_five_item_plan(desk):
    report = desk.file()
    no_plan = desk.post(report, "verification", HAZARD | {"grade": "major", "rectification": {"owner": "maint-wang"}}, desk.verifier)
    assert no_plan.status_code == 422 and "plan" in no_plan.text
    assert desk.types(report) == ["ReportFiled"]

    deadline = desk.clock.now() + timedelta(days=20)  # not the 15-day default for a major hazard
    plan = {
        "responsible_person": "maint-wang",
        "measures": "Replace the relief valve on V-301",
        "funds_fen": 1_200_000,
        "deadline": deadline.isoformat(),
        "emergency_plan": "Area cordoned off; gas readings every hour",
    }
    desk.ok(report, "verification", HAZARD | {"grade": "major", "rectification": {"owner": "maint-wang", "plan": plan}}, desk.verifier)
    assigned = desk.last(report, "RectificationAssigned")
    assert assigned["plan"] | {"deadline": None} == plan | {"deadline": None} and at(assigned["plan"]["deadline"]) == deadline
    assert at(assigned["deadline"]) == deadline
    assert assigned["escalation"] == CaseworkPolicy().model_dump(mode="json")["escalation"]
    case = desk.wait_case(report, lambda c: c["stage"] == "rectifying")
    assert at(case["deadline"]) == deadline and case["plan"]["funds_fen"] == 1_200_000 and case["escalation"] == assigned["escalation"]


def test_the_owner_rectifies_with_evidence_and_only_someone_else_accepts_it(desk):
    report = desk.file()
    desk.assign(report, owner="maint-wang")
    owner = desk.headers("maint-wang", roles=[Role.RECTIFIER, Role.VERIFIER])
    digest = desk.upload(owner)
    desk.ok(report, "rectification", {"measures": "Guard rail fitted", "evidence": [digest]}, owner)
    rectified = desk.last(report, "Rectified")
    assert [e["digest"] for e in rectified["evidence"]] == [digest] and rectified["on_the_spot"] is False

    own = desk.post(report, "review", {"accept": True}, owner)
    assert own.status_code == 409 and own.json()["state"] == "under_review"
    desk.ok(report, "review", {"accept": True}, desk.verifier)
    case = desk.wait_case(report, lambda c: c["stage"] == "closed")
    assert at(case["closed_at"]) == desk.clock.now() and case["measures"] == "Guard rail fitted"


def test_racing_reviewers_close_the_report_once(desk):
    report = desk.file()
    desk.assign(report, owner="maint-wang")
    desk.ok(report, "rectification", {"measures": "Guard rail fitted"}, desk.headers("maint-wang", roles=[Role.RECTIFIER]))
    reviewers = [desk.headers(f"safety-{n}", roles=[Role.VERIFIER]) for n in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(r.status_code for r in pool.map(lambda h: desk.post(report, "review", {"accept": True}, h), reviewers))
    assert codes == [201] + [409] * 7
    assert desk.types(report).count("RectificationAccepted") == 1


def test_a_new_report_where_a_closed_one_was_is_a_recurrence(desk):
    earlier = desk.file()
    desk.ok(earlier, "verification", HAZARD | {"grade": "general", "on_the_spot": {"measures": "Harness clipped on"}}, desk.verifier)
    desk.wait_case(earlier, lambda c: c["stage"] == "closed")

    again = desk.file(reporter="emp-2")
    other_kind = desk.file(reporter="emp-3", category="unsafe_equipment", subtype="safety_device_disabled_or_damaged")
    assert desk.case(again)["recurrence_of"] == earlier
    assert desk.case(other_kind)["recurrence_of"] is None


def test_a_manager_sets_the_policy_and_later_reports_follow_it(desk, harness):
    policy = {
        "accept_within_hours": 2,
        "deadline_days": {"general": 1, "larger": 10, "major": 20},
        "escalation": [{"after_days": 1, "notify": ["safety_department"]}, {"after_days": 5, "notify": ["group_hq"]}],
    }
    url, refinery = "/policy", {"tenant": "refinery"}
    assert desk.api.put(url, params=refinery, json=policy, headers=desk.verifier).status_code == 403
    other_manager = desk.headers("mgr-mine", tenants=["mine"], roles=[Role.MANAGER])
    assert desk.api.put(url, params=refinery, json=policy, headers=other_manager).status_code == 403
    falling = policy | {"escalation": [{"after_days": 5, "notify": ["owner"]}, {"after_days": 5, "notify": ["group_hq"]}]}
    bad_ladder = desk.api.put(url, params=refinery, json=falling, headers=desk.manager)
    assert bad_ladder.status_code == 422 and "after_days" in bad_ladder.text
    bad_zone = desk.api.put(url, params=refinery, json=policy | {"timezone": "Mars/Olympus"}, headers=desk.manager)
    assert bad_zone.status_code == 422 and "Mars/Olympus" in bad_zone.text
    assert harness.raw_log("policy") == []

    assert desk.api.put(url, params=refinery, json=policy, headers=desk.manager).status_code == 200
    read = wait_for(lambda: (p := desk.api.get(url, params=refinery, headers=desk.verifier).json())["accept_within_hours"] == 2 and p)
    assert read["deadline_days"] == policy["deadline_days"] and read["escalation"] == policy["escalation"]
    (subject, data), = harness.raw_log("policy")
    stored = json.loads(data)
    assert stored["type"] == "CaseworkPolicySet" and stored["tenant"] == "refinery" and stored["actor"] == "mgr-zhao"
    assert desk.api.get(url, params={"tenant": "mine"}, headers=other_manager).json()["accept_within_hours"] is None

    report = desk.file()
    case = desk.case(report)
    (accept,) = [t for t in case["timers"] if t["kind"] == "accept"]
    assert at(accept["due_at"]) == at(case["filed_at"]) + timedelta(hours=2)
    case = desk.assign(report, grade="larger")
    assert at(case["deadline"]) == desk.clock.now() + timedelta(days=10)
    assert case["escalation"] == policy["escalation"]


FUTURE = "2099-01-01T00:00:00+00:00"
ROUTES = [
    ("acceptance", {}, Role.RECTIFIER, Role.VERIFIER),
    ("verification", {"outcome": "not_confirmed"}, Role.MANAGER, Role.VERIFIER),
    ("assignment", {"owner": "maint-wang"}, Role.RECTIFIER, Role.MANAGER),
    ("extension", {"deadline": FUTURE, "reason": "Parts on order"}, Role.VERIFIER, Role.RECTIFIER),
    ("extension/decision", {"approve": True}, Role.VERIFIER, Role.MANAGER),
    ("rectification", {"measures": "Rail fitted"}, Role.MANAGER, Role.RECTIFIER),
    ("review", {"accept": True}, Role.RECTIFIER, Role.VERIFIER),
    ("feedback", {"message": "In hand"}, Role.AUDITOR, Role.VERIFIER),
]


def test_every_command_checks_role_and_subsidiary_and_appends_nothing_when_refused(desk):
    report = desk.file()
    for step, body, wrong, right in ROUTES:
        for role in (wrong, Role.REPORTER):
            refused = desk.post(report, step, body, desk.headers("someone", roles=[role]))
            assert refused.status_code == 403, (step, role, refused.text)
        elsewhere = desk.post(report, step, body, desk.headers("someone", tenants=["mine"], roles=[right]))
        assert elsewhere.status_code == 404, (step, elsewhere.text)
    escalation = {"authority": "County Emergency Management Bureau"}
    assert desk.post(report, "external-escalation", escalation, desk.headers("emp-1", tenants=["mine"])).status_code == 404
    assert desk.types(report) == ["ReportFiled"]
