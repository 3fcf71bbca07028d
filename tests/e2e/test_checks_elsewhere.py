"""A check elsewhere across three subsidiaries, every service a real process on a real
nats-server and the real clock: the mine finds the hazard and files it, the refinery's other
units say it is not present, the steel mill does not answer in time and is escalated to its
leadership. Each subsidiary's safety department hears of its task in its inbox; headquarters
sees every answer; a replayed log rebuilds verification's store identically."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import httpx

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.test_audit import audit, settle
from tests.factories import report_body
from tests.waiting import wait_for

DUE_IN = timedelta(seconds=8)
"""Long enough for two subsidiaries to answer, short enough to watch the third go overdue."""


def officer(system, tenant: str) -> dict[str, str]:
    return system.headers(f"{tenant}-safety", roles=[Role.VERIFIER], tenants=[tenant])


def inbox(system, who: str, tenant: str) -> list[dict]:
    answer = httpx.get(f"{system.url('notifications')}/inbox", params={"lang": "en"}, headers=system.headers(who, tenants=[tenant]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def check_tables(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        names = ("verification_checks", "verification_check_tasks", "verification_check_timers")
        return {name: sorted(db.execute(f"SELECT * FROM {name}").fetchall()) for name in names}


def test_one_finds_it_one_has_not_got_it_one_is_late_and_escalated(system):
    system.env["HAZARDLOOP_TIMER_INTERVAL"] = "0.2"
    system.start(*SERVICES)
    intake, verification, notifications = (system.url(s) for s in ("intake", "verification", "notifications"))
    hq = system.headers("hq-safety-he", roles=[Role.VERIFIER, Role.MANAGER], tenants=["*"])

    # Who hears what: each subsidiary's safety department, and the steel mill's leadership.
    for tenant, person, roles in (
        ("refinery", "refinery-safety", ["safety_department"]), ("mine", "mine-safety", ["safety_department"]),
        ("steelmill", "steelmill-safety", ["safety_department"]), ("steelmill", "steelmill-director", ["subsidiary_leadership"]),
    ):
        listed = httpx.put(f"{notifications}/directory/people/{person}", params={"tenant": tenant}, headers=hq,
                           json={"name": person, "roles": roles, "language": "en"})
        assert listed.status_code == 200, listed.text
    ladder = {"escalation": [{"after_days": 0, "notify": ["subsidiary_leadership"]}]}  # at the deadline, straight to leadership
    assert httpx.put(f"{verification}/policy", params={"tenant": "steelmill"}, json=ladder, headers=hq).status_code == 200

    # A major hazard verified at the refinery, raised as a check to the whole group.
    filed = httpx.post(f"{intake}/reports", json=report_body(description="Gas detector alarm bypassed at unit 2"), headers=system.headers("emp-1"))
    report_id = filed.json()["report_id"]
    wait_for(lambda: httpx.get(f"{verification}/reports/{report_id}", headers=hq).status_code == 200)
    verified = httpx.post(f"{verification}/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": "major"},
                          headers=officer(system, "refinery"))
    assert verified.status_code == 201, verified.text
    wait_for(lambda: httpx.get(f"{verification}/reports/{report_id}", headers=hq).json()["stage"] == "verified")
    due = datetime.now(UTC) + DUE_IN
    raised = httpx.post(f"{verification}/reports/{report_id}/checks", headers=hq, json={
        "look_for": "Gas detector alarms bypassed at the panel", "equipment": "AT-*", "all_subsidiaries": True, "due": due.isoformat(),
    })
    assert raised.status_code == 201, raised.text
    check_id = raised.json()["check_id"]
    assert sorted(e["tenant"] for e in raised.json()["events"] if e["event"] == "CheckTaskOpened") == ["mine", "refinery", "steelmill"]

    # The mine finds it and files its own report, linked; the refinery's other units have not got it.
    found = httpx.post(f"{intake}/reports", json=report_body("mine", check_id=check_id, description="AT-7 alarm bypassed in shaft 1"),
                       headers=officer(system, "mine"))
    assert found.status_code == 201, found.text
    wait_for(lambda: httpx.get(f"{verification}/check-tasks", params={"tenant": "refinery"}, headers=officer(system, "refinery")).json())
    answered = httpx.post(f"{verification}/checks/{check_id}/tasks/refinery/answer", json={"answer": "not_present"},
                          headers=officer(system, "refinery"))
    assert answered.status_code == 201, answered.text

    # The steel mill says nothing: overdue at the deadline, escalated to its leadership.
    def tasks() -> dict[str, dict]:
        return {t["tenant"]: t for t in httpx.get(f"{verification}/checks/{check_id}", headers=hq).json()["tasks"]}

    late = wait_for(lambda: (t := tasks())["steelmill"]["escalation_step"] == 0 and t, timeout=60)
    assert (late["mine"]["answer"], late["mine"]["found_report_id"]) == ("found", found.json()["report_id"])
    assert late["refinery"]["answer"] == "not_present" and late["refinery"]["overdue_since"] is None
    assert late["steelmill"]["answer"] is None and late["steelmill"]["overdue_since"]
    overview = httpx.get(f"{verification}/checks", headers=hq).json()
    assert [c["check_id"] for c in overview] == [check_id] and overview[0]["missing"] == []

    # Each safety department heard of its task; the steel mill's also of its lateness, its leadership of the escalation.
    for tenant in ("refinery", "mine", "steelmill"):
        wait_for(lambda tenant=tenant: any(m["kind"] == "check_task" for m in inbox(system, f"{tenant}-safety", tenant)))
    message = next(m for m in inbox(system, "mine-safety", "mine") if m["kind"] == "check_task")
    assert "Gas detector alarms bypassed at the panel" in message["text"] and "AT-*" in message["text"]
    assert "Gas detector alarm bypassed at unit 2" not in message["text"], "the original report's words stay with the refinery"
    wait_for(lambda: any(m["kind"] == "check_overdue" for m in inbox(system, "steelmill-safety", "steelmill")))
    escalation = wait_for(lambda: [m for m in inbox(system, "steelmill-director", "steelmill") if m["kind"] == "check_escalation"])
    assert "level 1" in escalation[0]["subject"]
    assert not any(m["kind"] == "check_overdue" for m in inbox(system, "mine-safety", "mine")), "who answered is not chased"

    # The check closes: none forgotten. The log rebuilds verification's store as it was.
    closed = httpx.post(f"{verification}/checks/{check_id}/closure", json={}, headers=hq)
    assert closed.status_code == 201, closed.text
    wait_for(lambda: httpx.get(f"{verification}/checks/{check_id}", headers=hq).json()["closed_at"])
    system.stop("verification")
    store = system.state / "verification.db"
    live = check_tables(store)
    for suffix in ("", "-wal", "-shm"):
        (system.state / f"verification.db{suffix}").unlink(missing_ok=True)
    system.start("verification")
    wait_for(lambda: httpx.get(f"{verification}/checks/{check_id}", headers=hq).json().get("closed_at"), timeout=60)
    system.stop("verification")
    assert check_tables(store) == live

    # Every service's store equals a replay of the log, checks and their messages included;
    # the audit finds every addressed subsidiary accounted for.
    system.start("verification")
    settle(system)
    system.stop()
    replayed = audit(system, "replay")
    assert replayed.returncode == 0 and replayed.stdout.count("identical") == len(SERVICES), replayed.stdout + replayed.stderr
    reconciled = audit(system, "reconcile")
    assert "check task missing" not in reconciled.stdout and "check overdue" not in reconciled.stdout, reconciled.stdout
