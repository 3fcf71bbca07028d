"""The closed loop's clocks on a real broker, under a clock the test moves: SLA breaches,
an overdue deadline and its escalation ladder fire once each, across a restart of the
service and a rebuild of its store from the log."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter

import pytest

from hazardloop.web.auth import Role
from tests.clock import ManualClock
from tests.factories import report_body
from tests.waiting import wait_for

TICK = {"timer_interval": 0.05}


def fired(harness) -> Counter:
    """How many clock events each (type, detail) has in the log."""
    counted = Counter()
    for _, data in harness.raw_log("report"):
        event = json.loads(data)
        if event["type"] in ("SlaBreached", "RectificationOverdue", "EscalationRaised"):
            counted[(event["type"], event.get("clock") or event.get("step"))] += 1
    return counted


def quiet_ticks(harness, seconds: float = 0.5) -> Counter:
    """The clock events after letting the timekeeper run for a while: nothing new should come."""
    before = fired(harness)
    time.sleep(seconds)  # lets the service's own 50 ms timer loop run ~10 times
    after = fired(harness)
    assert after == before, "the timekeeper appended again"
    return after


def tables(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        return {
            name: sorted(db.execute(f"SELECT * FROM {name}").fetchall())
            for name in ("verification_cases", "verification_timers", "verification_policies")
        }


@pytest.fixture
def desk(harness):
    clock = ManualClock()
    intake = harness.start("intake")
    verification = harness.start("verification", clock=clock, **TICK)
    report_id = intake.post("/reports", json=report_body(), headers=harness.headers("emp-5")).json()["report_id"]
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).status_code == 200)
    return clock, verification, report_id, verifier


def test_sla_clocks_fire_once_each_when_the_steps_are_late(harness, desk):
    clock, verification, report_id, verifier = desk
    clock.advance(days=1, minutes=1)
    wait_for(lambda: fired(harness)[("SlaBreached", "accept")] == 1)
    clock.advance(days=2)
    wait_for(lambda: fired(harness)[("SlaBreached", "verify")] == 1)
    verification.post(f"/reports/{report_id}/feedback", json={"message": "Still being checked, sorry."}, headers=verifier).raise_for_status()
    clock.advance(days=10)
    counted = quiet_ticks(harness)
    assert counted == {("SlaBreached", "accept"): 1, ("SlaBreached", "verify"): 1}, "feedback was given: no feedback breach"
    case = wait_for(lambda: (c := verification.get(f"/reports/{report_id}", headers=verifier).json())["fed_back_at"] and c)
    assert case["sla_breaches"] == ["accept", "verify"]
    assert {t["kind"]: t["status"] for t in case["timers"]} == {"accept": "fired", "verify": "fired", "feedback": "stopped"}


def test_a_deadline_set_before_a_restart_fires_after_it_and_a_rebuild_appends_nothing(harness, desk):
    clock, verification, report_id, verifier = desk
    body = {"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}}
    verification.post(f"/reports/{report_id}/acceptance", json={}, headers=verifier).raise_for_status()
    assigned = verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier)
    assert assigned.status_code == 201
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).json()["stage"] == "rectifying")
    harness.stop(verification)

    clock.advance(days=7 + 3, minutes=1)  # past the deadline and the ladder's second rung, while the service is down
    verification = harness.start("verification", clock=clock, **TICK)
    wait_for(lambda: fired(harness)[("EscalationRaised", 1)] == 1)
    counted = quiet_ticks(harness)
    assert counted == {("RectificationOverdue", None): 1, ("EscalationRaised", 0): 1, ("EscalationRaised", 1): 1}
    overdue = wait_for(lambda: (o := verification.get("/overdue", params={"tenant": "refinery"}, headers=verifier).json()) and o[0]["escalation_step"] == 1 and o)
    assert [c["report_id"] for c in overdue] == [report_id]

    clock.advance(days=4)  # the third rung: group HQ
    wait_for(lambda: fired(harness)[("EscalationRaised", 2)] == 1)
    events = quiet_ticks(harness)
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).json()["escalation_step"] == 2)
    harness.stop(verification)
    live = tables(harness.tmp_path / "verification.db")

    (harness.tmp_path / "verification.db").unlink()  # the store is gone: rebuild it from the log
    verification = harness.start("verification", clock=clock, **TICK)
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).json().get("escalation_step") == 2)
    assert quiet_ticks(harness) == events, "the rebuild reproduced the clocks without firing any again"
    harness.stop(verification)
    assert tables(harness.tmp_path / "verification.db") == live


def test_work_under_review_holds_the_deadline_and_a_rejection_lets_it_fire(harness, desk):
    clock, verification, report_id, verifier = desk
    body = {"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}}
    verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier).raise_for_status()
    owner = harness.headers("maint-wang", roles=[Role.RECTIFIER])
    verification.post(f"/reports/{report_id}/rectification", json={"measures": "Rail fitted"}, headers=owner).raise_for_status()
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).json()["stage"] == "under_review")
    clock.advance(days=8)
    assert fired(harness)[("RectificationOverdue", None)] == 0 == quiet_ticks(harness)[("RectificationOverdue", None)]
    rejected = verification.post(f"/reports/{report_id}/review", json={"accept": False, "reason": "Rail not anchored"}, headers=verifier)
    assert rejected.status_code == 201
    wait_for(lambda: fired(harness)[("RectificationOverdue", None)] == 1)


def test_an_overdue_reporter_escalates_to_the_authorities_and_downloads_the_dossier(harness, desk):
    clock, verification, report_id, verifier = desk
    reporter = harness.headers("emp-5")
    body = {"authority": "County Emergency Management Bureau", "note": "Still not fixed."}
    early = verification.post(f"/reports/{report_id}/external-escalation", json=body, headers=reporter)
    assert early.status_code == 409 and early.json()["state"] == "filed"
    verification.post(
        f"/reports/{report_id}/verification",
        json={"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}},
        headers=verifier,
    ).raise_for_status()
    clock.advance(days=7, hours=1)
    wait_for(lambda: fired(harness)[("RectificationOverdue", None)] == 1)
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).json()["overdue_since"])
    stranger = verification.post(f"/reports/{report_id}/external-escalation", json=body, headers=harness.headers("emp-6"))
    assert stranger.status_code == 404
    escalated = verification.post(f"/reports/{report_id}/external-escalation", json=body, headers=reporter)
    assert escalated.status_code == 201 and escalated.json()["event"] == "ExternallyEscalated"
    dossier = verification.get(f"/reports/{report_id}/dossier", headers=reporter).json()
    assert dossier["chain_intact"] is True
    assert [e["type"] for e in dossier["entries"]][-1] == "ExternallyEscalated"
    assert "emp-5" not in json.dumps(dossier), "the dossier names the reporter only by pseudonym"
    page = verification.get(f"/reports/{report_id}/dossier.html", params={"lang": "en"}, headers=reporter)
    assert page.status_code == 200 and "County Emergency Management Bureau" in page.text and "Hash chain intact" in page.text
    assert verification.get(f"/reports/{report_id}/dossier", headers=harness.headers("emp-6")).status_code == 404
