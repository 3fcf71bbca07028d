"""What a client may send, over HTTP on a real broker: strict types, safe text and sane
dates on every service, each refusal a 422 naming the field and storing nothing; and a
far deadline already in the log applies everywhere instead of being dead-lettered."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import nats
import pytest

from hazardloop.events import CaseworkPolicy, RectificationAssigned, decode_event, encode_event
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

FAR = "9999-12-31T00:00:00Z"
OPERATOR, MANAGER = {"roles": [Role.OPERATOR]}, {"roles": [Role.MANAGER]}


def ahead(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def refused(response, *loc) -> str:
    """The refusal's message, after checking it is a 422 naming ``loc``."""
    assert response.status_code == 422, response.text
    problems = {tuple(problem["loc"]): problem["msg"] for problem in response.json()["detail"]}
    assert loc in problems, problems
    return problems[loc]


@pytest.fixture
def desk(harness):
    """Intake and verification running; a report filed and waiting for verification."""
    intake, verification = harness.start("intake"), harness.start("verification")
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])

    def file(user: str = "emp-5") -> str:
        report_id = intake.post("/reports", json=report_body(), headers=harness.headers(user)).json()["report_id"]
        wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).status_code == 200)
        return report_id

    return intake, verification, verifier, file


def test_a_far_future_deadline_is_refused_and_nothing_is_stored(harness, desk):
    _, verification, verifier, file = desk
    report_id = file()
    verify = lambda body: verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier)  # noqa: E731
    hazard = {"outcome": "confirmed_hazard", "grade": "larger"}
    assert "between 2000 and 2099" in refused(verify(hazard | {"rectification": {"owner": "maint-wang", "deadline": FAR}}), "body", "rectification", "deadline")
    assert "within three years" in refused(verify(hazard | {"rectification": {"owner": "maint-wang", "deadline": ahead(4 * 365)}}), "body", "deadline")
    plan = {"responsible_person": "director-zhao", "measures": "Replace the line", "funds_fen": 100, "deadline": FAR, "emergency_plan": "Reduce load"}
    assert "within three years" in refused(verify({"outcome": "confirmed_hazard", "grade": "major", "rectification": {"owner": "maint-wang", "plan": plan}}), "body", "deadline")
    assert [json.loads(data)["type"] for _, data in harness.raw_log("report")] == ["ReportFiled"]
    assert verify(hazard | {"rectification": {"owner": "maint-wang", "deadline": ahead(3 * 365)}}).status_code == 201


def test_a_far_deadline_already_in_the_log_applies_in_every_projection(harness, desk):
    """Logged before requests were bounded: never rewritten, so it must apply as it is."""
    intake, verification, verifier, file = desk
    notifications = harness.start("notifications", smtp_host="127.0.0.1", smtp_port=9, delivery_interval=60)
    reporter = harness.headers("emp-5")
    deadlines = {file(): "9999-12-31T00:00:00+00:00", file(): "9999-12-31T23:00:00-05:00"}
    for report_id, deadline in deadlines.items():
        verified = verification.post(f"/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": "larger"}, headers=verifier)
        assert verified.status_code == 201
        log_far_deadline(harness, report_id, deadline)

    def shown(report_id: str) -> bool:
        case = verification.get(f"/reports/{report_id}", headers=verifier).json()
        return case["stage"] == "rectifying" and case["deadline"].startswith("9999-12-31")

    wait_for(lambda: all(shown(r) for r in deadlines))
    wait_for(lambda: all(intake.get(f"/reports/{r}", headers=reporter).json()["status"] == "rectifying" for r in deadlines))
    wait_for(lambda: sum(m["kind"] == "rectification_assigned" for m in notifications.get("/inbox", headers=reporter).json()) == 2)
    for service in (intake, verification, notifications):
        assert service.get("/dead-letters", headers=harness.headers("ops-wang", **OPERATOR)).json() == []
    timers = verification.get(f"/reports/{next(iter(deadlines))}", headers=verifier).json()["timers"]
    assert {t["kind"] for t in timers} >= {"overdue", "escalation"}


def log_far_deadline(harness, report_id: str, deadline: str) -> None:
    """Append a ``RectificationAssigned`` the way an earlier release would have, chained
    onto the report's last event."""
    last = decode_event([data for subject, data in harness.raw_log("report") if subject.split(".")[3] == report_id][-1])
    event = RectificationAssigned.record(
        prev_hash=last.hash, tenant=last.tenant, aggregate_id=report_id, actor="safety-li", owner="maint-wang",
        deadline=datetime.fromisoformat(deadline), escalation=CaseworkPolicy().escalation, correlation_id=last.correlation_id,
    )

    async def append() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            await connection.jetstream().publish(f"{harness.prefix}.{last.tenant}.report.{report_id}.{event.type}", encode_event(event))
        finally:
            await connection.close()

    asyncio.run(append())


def test_intake_takes_no_coerced_value_unsafe_text_or_impossible_time(harness, desk):
    intake, *_ = desk
    post = lambda **change: intake.post("/reports", json=report_body(**change), headers=harness.headers("emp-5"))  # noqa: E731
    refused(post(anonymous="yes"), "body", "anonymous")
    assert "U+0085" in refused(post(description="Leak at flange\x85 B"), "body", "description")
    assert "U+202E" in refused(post(suggested_fix="close \u202eevlav"), "body", "suggested_fix")
    refused(post(observed_at=FAR), "body", "observed_at")
    refused(post(observed_at=1700000000), "body", "observed_at")
    retire = intake.post("/catalogue/places/bay-3/retirement", json={"tenant": "refinery", "reason": 7}, headers=harness.headers("m", **MANAGER))
    refused(retire, "body", "reason")
    assert harness.raw_log("report") == []


def test_verification_takes_no_coerced_value_unsafe_text_or_impossible_time(harness, desk):
    _, verification, verifier, file = desk
    report_id = file()
    verify = lambda body: verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier)  # noqa: E731
    refused(verify({"outcome": "confirmed_hazard", "grade": "general", "within_routine_duties": "yes"}), "body", "within_routine_duties")
    refused(verify({"outcome": "confirmed_hazard", "grade": "general", "factors": {"at_height": 1}}), "body", "factors", "at_height")
    refused(verify({"outcome": "not_confirmed", "comment": "fine\u2028really"}), "body", "comment")
    refused(verification.get("/ledger", params={"since": "0001-01-01T00:00:00+14:00"}, headers=verifier), "query", "since")
    policy = verification.put("/policy", params={"tenant": "refinery"}, json={"verify_within_days": "3"}, headers=harness.headers("m", **MANAGER))
    refused(policy, "body", "verify_within_days")
    assert verification.get("/ledger", params={"since": ahead(-1)}, headers=verifier).status_code == 200


def test_rewards_takes_no_coerced_value_or_far_policy_start(harness):
    rewards = harness.start("rewards")
    manager = harness.headers("m", roles=[Role.LEADER])
    budget = rewards.put("/budgets", params={"tenant": "refinery", "year": 2026}, json={"amount_fen": "100000"}, headers=manager)
    refused(budget, "body", "amount_fen")
    refused(rewards.put("/policy", params={"tenant": "refinery"}, json={"effective_from": FAR}, headers=manager), "body", "effective_from")
    far = rewards.put("/policy", params={"tenant": "refinery"}, json={"effective_from": ahead(4 * 365)}, headers=manager)
    assert "three years" in refused(far, "body", "effective_from")
    assert harness.raw_log() == []


def test_notifications_takes_no_coerced_value_or_unsafe_text(harness):
    notifications = harness.start("notifications", smtp_host="127.0.0.1", smtp_port=9, delivery_interval=60)
    keeper = harness.headers("ops", **OPERATOR)
    person = lambda body: notifications.put("/directory/people/maint-wang", params={"tenant": "refinery"}, json=body, headers=keeper)  # noqa: E731
    assert "U+202E" in refused(person({"name": "Wang \u202eLi"}), "body", "name")
    refused(person({"name": "Wang", "roles": "manager"}), "body", "roles")
    refused(notifications.post("/inbox/read", json={"all": "yes"}, headers=harness.headers("emp-5")), "body", "all")
    for hostile in ("wang\u0085", "wang\u202e"):  # a C1 control, a text-direction override in the path
        response = notifications.put(f"/directory/people/{hostile}", params={"tenant": "refinery"}, json={}, headers=keeper)
        refused(response, "path", "person")
    assert harness.raw_log() == []
    assert person({"name": "王 Li"}).status_code == 200
