"""A safety desk for verification's HTTP tests: intake and verification (on a clock the test
moves) on a real broker, with helpers to file, act on and read back reports."""

from __future__ import annotations

import json
from datetime import datetime

from hazardloop.web.auth import Role
from tests.clock import ManualClock
from tests.factories import report_body
from tests.media import jpeg
from tests.waiting import wait_for


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


class Desk:
    def __init__(self, harness) -> None:
        self.harness = harness
        self.clock = ManualClock()
        self.intake = harness.start("intake")
        self.api = harness.start("verification", clock=self.clock, timer_interval=0.05)
        self.verifier = self.headers("safety-li", roles=[Role.VERIFIER])
        self.manager = self.headers("mgr-zhao", roles=[Role.MANAGER])
        self.hq = self.headers("hq-audit", tenants=["*"], roles=[Role.AUDITOR])

    def headers(self, user: str, tenants=("refinery",), roles=(Role.REPORTER,)) -> dict[str, str]:
        return self.harness.headers(user, tenants=tenants, roles=roles)

    def file(self, tenant: str = "refinery", reporter: str = "emp-1", **overrides) -> str:
        """File through intake and wait until verification has the case."""
        filed = self.intake.post("/reports", json=report_body(tenant, **overrides), headers=self.headers(reporter, tenants=[tenant]))
        assert filed.status_code == 201, filed.text
        report_id = filed.json()["report_id"]
        wait_for(lambda: self.api.get(f"/reports/{report_id}", headers=self.hq).status_code == 200)
        return report_id

    def upload(self, headers: dict[str, str], tenant: str = "refinery", size=(64, 48)) -> str:
        uploaded = self.intake.post("/attachments", params={"tenant": tenant}, content=jpeg(size), headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        return uploaded.json()["digest"]

    def post(self, report_id: str, step: str, body: dict, headers: dict[str, str]):
        return self.api.post(f"/reports/{report_id}/{step}", json=body, headers=headers)

    def ok(self, report_id: str, step: str, body: dict, headers: dict[str, str]) -> dict:
        response = self.post(report_id, step, body, headers)
        assert response.status_code == 201, response.text
        return response.json()

    def case(self, report_id: str) -> dict:
        return self.api.get(f"/reports/{report_id}", headers=self.hq).json()

    def wait_case(self, report_id: str, check) -> dict:
        return wait_for(lambda: check(case := self.case(report_id)) and case)

    def events(self, report_id: str) -> list[dict]:
        """The report's stored events, in log order."""
        documents = [json.loads(data) for _, data in self.harness.raw_log("report")]
        return [d for d in documents if d["aggregate_id"] == report_id]

    def types(self, report_id: str) -> list[str]:
        return [event["type"] for event in self.events(report_id)]

    def last(self, report_id: str, kind: str) -> dict:
        return [event for event in self.events(report_id) if event["type"] == kind][-1]

    def assign(self, report_id: str, owner: str = "maint-wang", grade: str = "larger") -> dict:
        """Verify a confirmed hazard and name its owner; returns the case once rectifying."""
        body = {"outcome": "confirmed_hazard", "grade": grade, "rectification": {"owner": owner}}
        self.ok(report_id, "verification", body, self.verifier)
        return self.wait_case(report_id, lambda c: c["stage"] == "rectifying")
