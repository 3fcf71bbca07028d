"""Disclosures through the real services: finance opens a reporter's identity only while their
reward stands granted through payroll, and the reporter sees every look at it."""

from __future__ import annotations

import pytest

from hazardloop.web.auth import Role
from tests.integration.services.reward_desk import RewardDesk, confirmed
from tests.waiting import wait_for

REPORTER = "emp-61"
OFFICER = {"roles": [Role.CONFIDENTIALITY_OFFICER]}


@pytest.fixture
def desk(harness):
    return RewardDesk(harness)


def disclose(desk: RewardDesk, report_id: str, headers: dict, purpose: str = "reward payout"):
    return desk.intake.post(f"/reports/{report_id}/identity", json={"tenant": "refinery", "purpose": purpose}, headers=headers)


def test_finance_opens_an_identity_only_to_pay_a_payroll_reward_and_the_reporter_sees_who_looked(desk, harness):
    declined = desk.proposed(confirmed("general"), reporter=REPORTER)
    assert desk.decline(declined, "already in the maintenance plan").status_code == 201
    desk.wait_status(declined, "declined")
    revoked = desk.proposed(confirmed("general"), reporter=REPORTER)
    desk.paid(revoked, "PAY-61")
    assert desk.api.post(f"/rewards/{revoked}/revocation", json={"reason": "proven fraud"}, headers=desk.head).status_code == 201
    desk.wait_status(revoked, "revoked")
    approved = desk.proposed(confirmed("general"), reporter=REPORTER)
    desk.approved(approved)
    paid = desk.proposed(confirmed("general"), reporter=REPORTER)
    desk.paid(paid, "PAY-62")

    for report_id, state in ((declined, "declined"), (revoked, "revoked"), (approved, "approved")):
        refused = disclose(desk, report_id, desk.finance)
        assert (refused.status_code, refused.json()["state"]) == (403, state), refused.text
    assert harness.raw_log("reporter") == []  # a refusal records nothing
    opened = disclose(desk, paid, desk.finance, "payroll: pay the reward with November's wages")
    assert opened.status_code == 200 and opened.json()["identity"]["employee_number"] == REPORTER
    officer = harness.headers("co-chen", **OFFICER)
    assert disclose(desk, declined, officer, "retaliation complaint by the reporter").status_code == 200

    mine = wait_for(lambda: len(d := desk.intake.get("/my/disclosures", headers=desk.headers(REPORTER)).json()) == 2 and d)
    assert [(d["report_id"], d["who"], d["role"], d["purpose"]) for d in mine] == [
        (declined, "co-chen", "confidentiality_officer", "retaliation complaint by the reporter"),
        (paid, "fin-zhao", "finance", "payroll: pay the reward with November's wages"),
    ]
    assert all(d["tenant"] == "refinery" and d["occurred_at"] for d in mine)
    assert desk.intake.get("/my/disclosures", headers=desk.headers("emp-62")).json() == []  # nobody else's
    assert desk.intake.get("/my/disclosures").status_code == 401

    pseudonym = desk.events(paid)[0]["reporter"]
    erased = desk.intake.post(f"/reporters/{pseudonym}/erasure", json={"tenant": "refinery", "reason": "left the company"}, headers=officer)
    assert erased.status_code == 200, erased.text
    assert desk.intake.get("/my/disclosures", headers=desk.headers(REPORTER)).json() == []  # nothing links them any more
