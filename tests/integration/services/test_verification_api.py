"""Verification over HTTP on a real broker: transitions, races, roles."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import nats
import pytest

from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from tests.factories import report_body, report_filed
from tests.waiting import wait_for


@pytest.fixture
def desk(harness):
    """Intake and verification running; a filed report visible in the queue."""
    intake, verification = harness.start("intake"), harness.start("verification")
    report_id = intake.post("/reports", json=report_body(), headers=harness.headers()).json()["report_id"]
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])
    wait_for(lambda: any(c["report_id"] == report_id for c in verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json()))
    return verification, report_id, verifier


def test_verify_then_rectify_moves_the_case_along(harness, desk):
    verification, report_id, verifier = desk
    body = {"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}}
    verified = verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier)
    assert verified.status_code == 201 and [e["event"] for e in verified.json()["events"]] == ["Verified", "RectificationAssigned"]
    rectified = verification.post(f"/reports/{report_id}/rectification", json={"measures": "Guard rail installed"}, headers=verifier)
    assert rectified.status_code == 201
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery", "stage": "under_review"}, headers=verifier).json())
    types = [json.loads(data)["type"] for _, data in harness.raw_log("report")]
    assert types == ["ReportFiled", "Verified", "RectificationAssigned", "Rectified"]
    chain = [json.loads(data) for _, data in harness.raw_log("report")]
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(chain, chain[1:]))


def test_two_racing_verifications_exactly_one_wins(harness, desk):
    verification, report_id, verifier = desk
    bodies = [{"outcome": "confirmed_hazard", "grade": g} for g in ("general", "major")] * 4

    def post(body):
        return verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier)

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(r.status_code for r in pool.map(post, bodies))
    assert codes == [201] + [409] * 7
    assert [json.loads(d)["type"] for _, d in harness.raw_log("report")].count("Verified") == 1


def test_invalid_transitions_are_409_naming_the_state(harness, desk):
    verification, report_id, verifier = desk
    early = verification.post(f"/reports/{report_id}/rectification", json={"measures": "x"}, headers=verifier)
    assert early.status_code == 409 and early.json()["state"] == "filed"
    verification.post(f"/reports/{report_id}/verification", json={"outcome": "not_confirmed"}, headers=verifier)
    twice = verification.post(f"/reports/{report_id}/verification", json={"outcome": "not_confirmed"}, headers=verifier)
    assert twice.status_code == 409 and twice.json()["state"] == "not_confirmed"


def test_roles_tenants_and_input_are_checked(harness, desk):
    verification, report_id, verifier = desk
    url = f"/reports/{report_id}/verification"
    assert verification.post(url, json={"outcome": "not_confirmed"}, headers=harness.headers()).status_code == 403
    other = harness.headers("li-mine", tenants=["mine"], roles=[Role.VERIFIER])
    assert verification.post(url, json={"outcome": "not_confirmed"}, headers=other).status_code == 404
    missing_grade = verification.post(url, json={"outcome": "confirmed_hazard"}, headers=verifier)
    assert missing_grade.status_code == 422 and "grade" in missing_grade.text
    assert verification.post("/reports/nope/verification", json={"outcome": "not_confirmed"}, headers=verifier).status_code == 404
    assert [json.loads(d)["type"] for _, d in harness.raw_log("report")] == ["ReportFiled"]


def test_a_report_filed_a_moment_ago_can_be_accepted_before_the_projection_has_it(harness):
    verification = harness.start("verification", nats_timeout=10.0)
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])
    backlog = [report_filed() for _ in range(1500)]
    just_filed = report_filed()

    async def file() -> None:
        connection = await nats.connect(harness.nats_url)
        store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
        await store.append_many([(event, 0) for event in [*backlog, just_filed]])
        await connection.close()

    asyncio.run(file())  # the projection has 1,500 reports to take in before this one
    accepted = verification.post(f"/reports/{just_filed.aggregate_id}/acceptance", json={}, headers=verifier)
    assert accepted.status_code == 201 and accepted.json()["event"] == "Accepted"
    unknown = verification.post(f"/reports/{uuid.uuid4()}/acceptance", json={}, headers=verifier)
    assert unknown.status_code == 404
    elsewhere = report_filed(tenant="mine")
    asyncio.run(append_one(harness, elsewhere))
    hidden = verification.post(f"/reports/{elsewhere.aggregate_id}/acceptance", json={}, headers=verifier)
    assert hidden.status_code == 404  # another subsidiary's report stays invisible, caught up or not


async def append_one(harness, event) -> None:
    connection = await nats.connect(harness.nats_url)
    await EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix)).append(event, expected_version=0)
    await connection.close()


def test_a_projection_that_cannot_catch_up_in_time_answers_409_with_retry_after(harness):
    verification = harness.start("verification")
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])
    verification.portal.call(verification.app.state.runtime.runner.stop)  # it takes nothing in any more
    just_filed = report_filed()
    asyncio.run(append_one(harness, just_filed))
    busy = verification.post(f"/reports/{just_filed.aggregate_id}/acceptance", json={}, headers=verifier)
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "2" and "try again" in busy.json()["detail"]
    assert [json.loads(data)["type"] for _, data in harness.raw_log("report")] == ["ReportFiled"]
