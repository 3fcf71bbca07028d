"""Checks elsewhere on a real broker: headquarters raises a check on a verified major hazard,
each subsidiary answers its own task (not present, or found by filing a linked report at
intake), a late one goes overdue and escalates under a clock the test moves; bad input is
refused naming the field with nothing appended, and the store rebuilds identically."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.integration.services.conftest import TENANTS
from tests.integration.services.desk import Desk
from tests.waiting import wait_for

WHAT = {"look_for": "Gas detectors at the alarm panel switched off or bypassed", "equipment": "AT-*"}


def check_events(harness) -> list[dict]:
    documents = [json.loads(data) for subject, data in harness.raw_log() if subject.split(".")[2] in ("check", "checktask")]
    return documents


def tables(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        names = ("verification_checks", "verification_check_tasks", "verification_check_timers")
        return {name: sorted(db.execute(f"SELECT * FROM {name}").fetchall()) for name in names}


@pytest.fixture
def desk(harness) -> Desk:
    return Desk(harness)


@pytest.fixture
def hq(desk: Desk) -> dict[str, str]:
    return desk.headers("hq-safety", tenants=["*"], roles=[Role.VERIFIER, Role.MANAGER])


def officer(desk: Desk, tenant: str) -> dict[str, str]:
    return desk.headers(f"{tenant}-safety", tenants=[tenant], roles=[Role.VERIFIER])


def major(desk: Desk) -> str:
    report_id = desk.file()
    desk.ok(report_id, "verification", {"outcome": "confirmed_hazard", "grade": "major"}, desk.verifier)
    desk.wait_case(report_id, lambda c: c["stage"] == "verified")
    return report_id


def refused(desk: Desk, response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def test_a_check_reaches_every_subsidiary_and_headquarters_sees_each_answer(harness, desk, hq):
    report_id = major(desk)
    raised = desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine", "steelmill"]}, headers=hq)
    assert raised.status_code == 201, raised.text
    check_id = raised.json()["check_id"]
    assert [(e["event"], e["tenant"]) for e in raised.json()["events"]] == [
        ("CheckRaised", "refinery"), ("CheckTaskOpened", "mine"), ("CheckTaskOpened", "steelmill")
    ]
    tasks = wait_for(lambda: desk.api.get("/check-tasks", params={"tenant": "mine"}, headers=officer(desk, "mine")).json())
    assert [(t["check_id"], t["look_for"], t["equipment"], t["report_id"]) for t in tasks] == [(check_id, WHAT["look_for"], "AT-*", report_id)]
    stamp = datetime.fromisoformat(tasks[0]["deadline"]) - datetime.fromisoformat(tasks[0]["opened_at"])
    assert stamp == timedelta(days=15), "a major hazard's rectification deadline"

    # The mine checked: not present. Saying it twice is refused, and so is the steel mill answering for the mine.
    answer = {"answer": "not_present", "note": "All 14 AT detectors checked live"}
    assert desk.api.post(f"/checks/{check_id}/tasks/mine/answer", json=answer, headers=officer(desk, "mine")).status_code == 201
    assert refused(desk, desk.api.post(f"/checks/{check_id}/tasks/mine/answer", json=answer, headers=officer(desk, "mine")), 409)
    refused(desk, desk.api.post(f"/checks/{check_id}/tasks/mine/answer", json=answer, headers=officer(desk, "steelmill")), 403)

    # The steel mill found it: its officer files a report of its own, linked to the check.
    steel = officer(desk, "steelmill")
    filed = desk.intake.post("/reports", json=report_body("steelmill", check_id=check_id), headers=steel)
    assert filed.status_code == 201, filed.text
    found_id = filed.json()["report_id"]
    check = wait_for(lambda: (c := desk.api.get(f"/checks/{check_id}", headers=hq).json()) and all(t["answer"] for t in c["tasks"]) and c)
    answers = {t["tenant"]: (t["answer"], t["found_report_id"], t["note"]) for t in check["tasks"]}
    assert answers == {"mine": ("not_present", None, answer["note"]), "steelmill": ("found", found_id, None)}
    assert check["missing"] == [] and check["look_for"] == WHAT["look_for"]

    # A subsidiary sees its own task of the check, nothing of the others'.
    mine_view = desk.api.get(f"/checks/{check_id}", headers=officer(desk, "mine")).json()
    assert [t["tenant"] for t in mine_view["tasks"]] == ["mine"] and mine_view["subsidiaries"] == ["mine"]

    closed = desk.api.post(f"/checks/{check_id}/closure", json={}, headers=hq)
    assert closed.status_code == 201, closed.text
    assert check_events(harness)[-1]["type"] == "CheckClosed"


def test_bad_checks_are_refused_naming_the_field_and_nothing_is_appended(harness, desk, hq):
    report_id = major(desk)
    general = desk.file()
    desk.ok(general, "verification", {"outcome": "confirmed_hazard", "grade": "general"}, desk.verifier)
    unverified = desk.file()
    desk.wait_case(general, lambda c: c["stage"] == "verified")

    unknown = refused(desk, desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine", "atlantis"]}, headers=hq), 422)
    assert unknown["detail"][0]["loc"] == ["body", "subsidiaries", 1]
    empty = refused(desk, desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": []}, headers=hq), 422)
    assert empty["detail"][0]["loc"][-1] == "subsidiaries"
    assert "grade" in refused(desk, desk.api.post(f"/reports/{general}/checks", json=WHAT | {"all_subsidiaries": True}, headers=hq), 409)["detail"]
    refused(desk, desk.api.post(f"/reports/{unverified}/checks", json=WHAT | {"all_subsidiaries": True}, headers=hq), 409)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert refused(desk, desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine"], "due": past}, headers=hq), 422)
    # A subsidiary's own safety officer cannot address the others, nor a reporter raise anything.
    local = refused(desk, desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine"]}, headers=desk.verifier), 403)
    assert "subsidiaries.0" in local["detail"]
    refused(desk, desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine"]}, headers=desk.headers("emp-1")), 403)
    # A found report linked to a check that does not exist: intake refuses it, naming the link.
    linked = desk.intake.post("/reports", json=report_body("mine", check_id="no-such-check"), headers=officer(desk, "mine"))
    assert refused(desk, linked, 422)["detail"][0]["loc"][-1] == "check_id"
    assert check_events(harness) == []


def test_a_late_subsidiary_goes_overdue_and_escalates_and_the_store_rebuilds_identically(harness, desk, hq):
    report_id = major(desk)
    key = {"Idempotency-Key": "check-late-0001"}
    body = WHAT | {"all_subsidiaries": True}
    raised = desk.api.post(f"/reports/{report_id}/checks", json=body, headers=hq | key)
    assert raised.status_code == 201
    again = desk.api.post(f"/reports/{report_id}/checks", json=body, headers=hq | key)
    assert again.status_code == 200 and again.json()["check_id"] == raised.json()["check_id"] and again.json()["events"] == []
    check_id = raised.json()["check_id"]
    wait_for(lambda: len(desk.api.get(f"/checks/{check_id}", headers=hq).json().get("tasks", [])) == len(TENANTS))
    for tenant in ("refinery", "mine"):
        desk.api.post(f"/checks/{check_id}/tasks/{tenant}/answer", json={"answer": "not_present"}, headers=officer(desk, tenant)).raise_for_status()
    waiting = refused(desk, desk.api.post(f"/checks/{check_id}/closure", json={}, headers=hq), 409)
    assert "steelmill" in waiting["detail"]

    desk.clock.advance(days=15 + 3, minutes=1)  # past the deadline and the ladder's second rung
    late = wait_for(lambda: (t := {x["tenant"]: x for x in desk.api.get(f"/checks/{check_id}", headers=hq).json()["tasks"]})["steelmill"]["escalation_step"] == 1 and t)
    assert late["steelmill"]["overdue_since"] and late["mine"]["overdue_since"] is None
    fired = [(e["type"], e["tenant"], e.get("step")) for e in check_events(harness) if e["type"] in ("CheckTaskOverdue", "CheckEscalationRaised")]
    assert fired == [("CheckTaskOverdue", "steelmill", None), ("CheckEscalationRaised", "steelmill", 0), ("CheckEscalationRaised", "steelmill", 1)]
    desk.api.post(f"/checks/{check_id}/closure", json={"note": "Steel mill escalated"}, headers=hq).raise_for_status()
    after = refused(desk, desk.api.post(f"/checks/{check_id}/tasks/steelmill/answer", json={"answer": "not_present"}, headers=officer(desk, "steelmill")), 409)
    assert "closed" in after["detail"]
    wait_for(lambda: desk.api.get(f"/checks/{check_id}", headers=hq).json()["closed_at"])

    harness.stop(desk.api)
    live = tables(harness.tmp_path / "verification.db")
    (harness.tmp_path / "verification.db").unlink()
    rebuilt = harness.start("verification", clock=desk.clock, timer_interval=0.05)
    wait_for(lambda: rebuilt.get(f"/checks/{check_id}", headers=hq).status_code == 200 and rebuilt.get(f"/checks/{check_id}", headers=hq).json()["closed_at"])
    harness.stop(rebuilt)
    assert tables(harness.tmp_path / "verification.db") == live
    assert len([e for e in check_events(harness) if e["type"] == "CheckEscalationRaised"]) == 2, "the rebuild fired nothing again"


def test_a_found_report_filed_while_verification_is_down_answers_the_check_when_it_is_back(harness, desk, hq):
    report_id = major(desk)
    raised = desk.api.post(f"/reports/{report_id}/checks", json=WHAT | {"subsidiaries": ["mine"]}, headers=hq)
    check_id = raised.json()["check_id"]
    wait_for(lambda: desk.api.get(f"/checks/{check_id}", headers=hq).json().get("tasks"))
    harness.stop(desk.api)  # verification is unreachable; intake still takes the mine's report, checked against the log
    filed = desk.intake.post("/reports", json=report_body("mine", check_id=check_id), headers=officer(desk, "mine"))
    assert filed.status_code == 201, filed.text
    back = harness.start("verification", clock=desk.clock, timer_interval=0.05)
    task = wait_for(lambda: (t := back.get(f"/checks/{check_id}", headers=hq).json()["tasks"][0])["answer"] and t)
    assert (task["answer"], task["found_report_id"]) == ("found", filed.json()["report_id"])
    assert [e["type"] for e in check_events(harness)].count("CheckAnswered") == 1
