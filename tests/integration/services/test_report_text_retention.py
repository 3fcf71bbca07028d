"""Retention on a real broker, under a clock the test moves: the free text of reports closed
longer ago than the retention period is erased once each, recorded first, and stays erased
through a rebuild; open reports and recent ones keep theirs."""

from __future__ import annotations

import json
import time

from hazardloop.web.auth import Role
from tests.clock import ManualClock
from tests.factories import report_body
from tests.waiting import wait_for

RETENTION = {"retention_years": 2, "retention_interval": 0.05}


def shreddings(harness) -> list[dict]:
    return [e for _, data in harness.raw_log("report") if (e := json.loads(data))["type"] == "ReportTextShredded"]


def test_closed_reports_past_the_retention_period_lose_their_text_once_and_for_good(harness):
    clock = ManualClock()
    intake = harness.start("intake", clock=clock, **RETENTION)
    verification = harness.start("verification")
    reporter, verifier = harness.headers("emp-40"), harness.headers("safety-li", roles=[Role.VERIFIER])

    def filed(description: str) -> str:
        answer = intake.post("/reports", json=report_body(description=description), headers=reporter)
        assert answer.status_code == 201, answer.text
        return answer.json()["report_id"]

    closed, still_open = filed("Closed report: Chen Xiaoyu left the guard off"), filed("Open report: the guard is off again")
    wait_for(lambda: verification.get(f"/reports/{closed}", headers=verifier).status_code == 200)
    verdict = verification.post(f"/reports/{closed}/verification", json={"outcome": "not_confirmed", "comment": "Chen says no"},
                                headers=verifier)
    assert verdict.status_code == 201, verdict.text
    wait_for(lambda: intake.get(f"/reports/{closed}", headers=verifier).json()["status"] == "not_confirmed")

    clock.advance(days=365)  # a year on: still within the period
    time.sleep(0.3)  # lets the 50 ms sweep look several times
    assert shreddings(harness) == []
    assert intake.get(f"/reports/{closed}", headers=verifier).json()["description"] == "Closed report: Chen Xiaoyu left the guard off"

    clock.advance(days=370)  # past two years since it closed (2028 has a 29 February)
    [shredded] = wait_for(lambda: shreddings(harness))
    assert shredded["aggregate_id"] == closed and shredded["reason"] == "retention" and shredded["actor"] == "policy:retention"
    report = wait_for(lambda: (r := intake.get(f"/reports/{closed}", headers=verifier).json())["description"] == "(erased)" and r)
    assert report["status"] == "not_confirmed"
    wait_for(lambda: verification.get(f"/reports/{closed}", headers=verifier).json()["description"] == "(erased)")
    assert intake.get(f"/reports/{still_open}", headers=verifier).json()["description"] == "Open report: the guard is off again"
    time.sleep(0.3)
    assert len(shreddings(harness)) == 1, "the sweep erased the same report again"

    harness.stop(intake)  # a rebuild from the log finds the text erased, the ciphertext still there
    rebuilt = harness.start("intake", database_url=f"sqlite:///{harness.tmp_path / 'intake-rebuilt.db'}")
    wait_for(lambda: rebuilt.get(f"/reports/{closed}", headers=verifier).status_code == 200)
    assert rebuilt.get(f"/reports/{closed}", headers=verifier).json()["description"] == "(erased)"
    assert rebuilt.get(f"/reports/{still_open}", headers=verifier).json()["description"] == "Open report: the guard is off again"
