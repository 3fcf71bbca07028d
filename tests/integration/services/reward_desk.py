"""A rewards desk for the rewards HTTP tests: intake, verification and rewards on a real
broker, the people of the three approval steps, and helpers to file, verify, decide and
read back rewards and the reward aggregate's events."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

VERIFIER = "safety-li"
HEAD = "head-liu"
FINANCE = "fin-zhao"
HQ = "hq-wang"
LEADER = "leader-sun"


def confirmed(grade: str, **factors: bool) -> dict:
    return {"outcome": "confirmed_hazard", "grade": grade, "factors": factors}


def this_month() -> str:
    """The current month where the group is (the services' default time zone)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")


class RewardDesk:
    def __init__(self, harness) -> None:
        self.harness = harness
        self.intake = harness.start("intake")
        self.verification = harness.start("verification")
        self.api = harness.start("rewards")
        self.verifier = self.headers(VERIFIER, roles=[Role.VERIFIER])
        self.head = self.headers(HEAD, roles=[Role.MANAGER])
        self.finance = self.headers(FINANCE, roles=[Role.FINANCE])
        self.hq = self.headers(HQ, tenants=["*"], roles=[Role.MANAGER])
        self.leader = self.headers(LEADER, roles=[Role.LEADER])

    def headers(self, user: str, tenants=("refinery",), roles=(Role.REPORTER,)) -> dict[str, str]:
        return self.harness.headers(user, tenants=tenants, roles=roles)

    # --- intake and verification -------------------------------------------------------

    def file(self, reporter: str = "emp-1", **overrides) -> tuple[str, str | None]:
        """File through intake; (report id, receipt code of an anonymous report)."""
        filed = self.intake.post("/reports", json=report_body(**overrides), headers=self.headers(reporter))
        assert filed.status_code == 201, filed.text
        body = filed.json()
        wait_for(lambda: self.verification.get(f"/reports/{body['report_id']}", headers=self.verifier).status_code == 200)
        return body["report_id"], body.get("receipt_code")

    def verify(self, report_id: str, verdict: dict, verifier: dict | None = None) -> dict:
        """Verify, and wait until rewards shows the decision it made."""
        done = self.verification.post(f"/reports/{report_id}/verification", json=verdict, headers=verifier or self.verifier)
        assert done.status_code == 201, done.text
        return wait_for(lambda: (r := self.api.get(f"/rewards/{report_id}", headers=self.finance)).status_code == 200 and r.json())

    def proposed(self, verdict: dict, reporter: str = "emp-1", **overrides) -> str:
        report_id, _ = self.file(reporter, **overrides)
        assert self.verify(report_id, verdict)["status"] == "proposed"
        return report_id

    # --- rewards -----------------------------------------------------------------------

    def reward(self, report_id: str) -> dict:
        return self.api.get(f"/rewards/{report_id}", headers=self.finance).json()

    def wait_status(self, report_id: str, status: str) -> dict:
        return wait_for(lambda: (r := self.reward(report_id))["status"] == status and r)

    def approve(self, report_id: str, headers: dict | None = None, **body):
        return self.api.post(f"/rewards/{report_id}/approval", json={"approve": True} | body, headers=headers or self.head)

    def decline(self, report_id: str, reason: str, headers: dict | None = None):
        return self.api.post(f"/rewards/{report_id}/approval", json={"approve": False, "reason": reason}, headers=headers or self.head)

    def hq_decision(self, report_id: str, headers: dict | None = None, **body):
        return self.api.post(f"/rewards/{report_id}/hq-decision", json={"approve": True} | body, headers=headers or self.hq)

    def pay(self, report_id: str, reference: str = "PAY-1", headers: dict | None = None, **body):
        return self.api.post(
            f"/rewards/{report_id}/payment", json={"payment_reference": reference} | body, headers=headers or self.finance
        )

    def approved(self, report_id: str, **body) -> dict:
        response = self.approve(report_id, **body)
        assert response.status_code == 201, response.text
        return self.wait_status(report_id, "approved")

    def paid(self, report_id: str, reference: str, **approval) -> dict:
        self.approved(report_id, **approval)
        response = self.pay(report_id, reference)
        assert response.status_code == 201, response.text
        return self.wait_status(report_id, "granted")

    def set_policy(self, headers: dict | None = None, **policy):
        return self.api.put("/policy", params={"tenant": "refinery"}, json=policy, headers=headers or self.head)

    # --- the log -----------------------------------------------------------------------

    def raw(self, report_id: str | None = None, aggregate: str = "reward") -> list[bytes]:
        """Stored bytes of the reward (or budget) aggregate's events, of one report or all."""
        return [data for subject, data in self.harness.raw_log(aggregate) if report_id is None or subject.split(".")[3] == report_id]

    def events(self, report_id: str | None = None, aggregate: str = "reward") -> list[dict]:
        return [json.loads(data) for data in self.raw(report_id, aggregate)]

    def types(self, report_id: str | None = None, aggregate: str = "reward") -> list[str]:
        return [event["type"] for event in self.events(report_id, aggregate)]
