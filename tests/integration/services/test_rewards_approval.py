"""Rewards over HTTP on a real broker: proposed by policy, approved by a department head
(group HQ above the cap), paid once by finance; four different people; bad input refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from hazardloop.web.auth import Role
from tests.integration.services.reward_desk import FINANCE, HEAD, VERIFIER, RewardDesk, confirmed


@pytest.fixture
def desk(harness) -> RewardDesk:
    return RewardDesk(harness)


def test_a_major_hazard_with_factors_is_proposed_line_by_line_approved_and_paid_once(desk):
    report_id, _ = desk.file()
    proposal = desk.verify(report_id, confirmed("major", at_height=True, high_risk=True, at_night=True))

    assert proposal["status"] == "proposed" and proposal["amount_fen"] == 396_000 and proposal["proposer"] == VERIFIER
    assert [(line["rule"], line["amount_fen"]) for line in proposal["breakdown"]] == [
        ("base", 200_000), ("at_height", 240_000), ("high_risk", 360_000), ("at_night", 396_000),
    ]  # fmt: skip
    assert desk.approve(report_id).json()["event"] == "RewardApproved"
    assert desk.wait_status(report_id, "approved")["approver"] == HEAD
    paid = desk.pay(report_id, "PAY-2026-001")
    assert paid.status_code == 201 and paid.json()["event"] == "RewardGranted"

    granted = desk.wait_status(report_id, "granted")
    assert (granted["amount_fen"], granted["payment_reference"], granted["payer"]) == (396_000, "PAY-2026-001", FINANCE)
    assert desk.types(report_id) == ["RewardProposed", "RewardApproved", "RewardGranted"]


def test_reporter_proposer_approver_and_payer_are_four_different_people(desk):
    report_id = desk.proposed(confirmed("general"), reporter="emp-7")
    before = desk.raw()

    verifier_as_head = desk.approve(report_id, desk.headers(VERIFIER, roles=[Role.VERIFIER, Role.MANAGER]))
    reporter_as_head = desk.approve(report_id, desk.headers("emp-7", roles=[Role.MANAGER]))
    assert (verifier_as_head.status_code, reporter_as_head.status_code) == (409, 409), (verifier_as_head.text, reporter_as_head.text)
    assert "proposer" in verifier_as_head.json()["detail"] and "reporter" in reporter_as_head.json()["detail"]
    assert desk.raw() == before

    desk.approved(report_id)
    before = desk.raw()
    head_as_finance = desk.pay(report_id, headers=desk.headers(HEAD, roles=[Role.MANAGER, Role.FINANCE]))
    reporter_as_finance = desk.pay(report_id, headers=desk.headers("emp-7", roles=[Role.FINANCE]))
    assert (head_as_finance.status_code, reporter_as_finance.status_code) == (409, 409)
    assert "approver" in head_as_finance.json()["detail"]
    assert desk.raw() == before
    assert desk.reward(report_id)["status"] == "approved"


def test_racing_approvers_approve_once_and_racing_clerks_pay_once(desk):
    report_id = desk.proposed(confirmed("larger"))
    heads = [desk.headers(f"head-{n}", roles=[Role.MANAGER]) for n in range(4)]
    with ThreadPoolExecutor(len(heads)) as pool:
        approvals = sorted(r.status_code for r in pool.map(lambda h: desk.approve(report_id, h), heads))
    assert approvals == [201, 409, 409, 409]
    desk.wait_status(report_id, "approved")

    clerks = [desk.headers(f"clerk-{n}", roles=[Role.FINANCE]) for n in range(6)]
    with ThreadPoolExecutor(len(clerks)) as pool:
        payments = list(pool.map(lambda c: desk.pay(report_id, f"PAY-{c['Authorization'][-6:]}", c), clerks))
    assert sorted(r.status_code for r in payments) == [201, 409, 409, 409, 409, 409]
    assert all(r.json().get("state") == "granted" for r in payments if r.status_code == 409)
    assert desk.types(report_id) == ["RewardProposed", "RewardApproved", "RewardGranted"]
    assert [e["type"] for e in desk.events(aggregate="budget")] == ["BudgetCommitted"]


@pytest.mark.parametrize("amount", [-1, 0, 1.5, "100", 10**12])
def test_an_amount_that_is_not_a_positive_whole_number_of_fen_is_refused(desk, amount):
    report_id = desk.proposed(confirmed("general"))
    refused = desk.approve(report_id, amount_fen=amount, reason="adjusted for the effort")
    assert refused.status_code == 422 and "amount_fen" in refused.json()["detail"][0]["loc"]
    assert desk.types(report_id) == ["RewardProposed"]


def test_bad_requests_and_steps_out_of_order_are_refused_naming_the_state(desk):
    report_id = desk.proposed(confirmed("general"))
    declined_id = desk.proposed(confirmed("general"))

    no_reason = desk.approve(report_id, amount_fen=20_000)
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    decline_without_reason = desk.api.post(f"/rewards/{report_id}/approval", json={"approve": False}, headers=desk.head)
    assert decline_without_reason.status_code == 422 and "reason" in decline_without_reason.text
    early = desk.pay(report_id)
    assert (early.status_code, early.json()["state"]) == (409, "proposed")
    assert desk.api.post("/rewards/no-such-report/approval", json={"approve": True}, headers=desk.head).status_code == 404
    other_subsidiary = desk.approve(report_id, desk.headers("head-mine", tenants=["mine"], roles=[Role.MANAGER]))
    assert other_subsidiary.status_code == 404
    assert desk.api.get(f"/rewards/{report_id}", headers=desk.headers("fin-mine", tenants=["mine"], roles=[Role.FINANCE])).status_code == 404
    assert desk.approve(report_id, desk.headers("emp-2")).status_code == 403
    assert desk.pay(report_id, headers=desk.head).status_code == 403
    assert desk.types(report_id) == ["RewardProposed"]

    desk.approved(report_id)
    twice = desk.approve(report_id, desk.headers("head-2", roles=[Role.MANAGER]))
    assert (twice.status_code, twice.json()["state"]) == (409, "approved")

    assert desk.decline(declined_id, "a drill, not a hazard").status_code == 201
    desk.wait_status(declined_id, "declined")
    paying_declined = desk.pay(declined_id)
    assert (paying_declined.status_code, paying_declined.json()["state"]) == (409, "declined")
    assert desk.types(report_id) == ["RewardProposed", "RewardApproved"]
    assert desk.types(declined_id) == ["RewardProposed", "RewardDeclined"]


def test_above_the_cap_group_hq_decides_and_not_the_head_who_referred_it(desk):
    report_id = desk.proposed(confirmed("major"))
    referred = desk.approve(report_id, amount_fen=3_000_000, reason="it averted a reactor fire")
    assert referred.status_code == 201 and referred.json()["event"] == "RewardReferred"
    view = desk.wait_status(report_id, "referred")
    assert (view["referred_for"], view["amount_fen"]) == ("above_cap", 3_000_000)
    assert desk.pay(report_id).json()["state"] == "referred"

    assert desk.hq_decision(report_id, desk.head).status_code == 403
    own_referral = desk.hq_decision(report_id, desk.headers(HEAD, tenants=["*"], roles=[Role.MANAGER]))
    assert own_referral.status_code == 409, own_referral.text
    assert desk.types(report_id) == ["RewardProposed", "RewardReferred"]

    assert desk.hq_decision(report_id, reason="exceptional: a fire averted").status_code == 201
    approved = desk.wait_status(report_id, "approved")
    assert (approved["approval_level"], approved["amount_fen"]) == ("group_hq", 3_000_000)
    assert desk.pay(report_id, "PAY-HQ-1").status_code == 201
    assert desk.wait_status(report_id, "granted")["amount_fen"] == 3_000_000
    assert desk.types(report_id) == ["RewardProposed", "RewardReferred", "RewardApproved", "RewardGranted"]
