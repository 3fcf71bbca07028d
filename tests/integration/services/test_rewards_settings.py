"""Rewards within the year's budget, by the policy in force when a report is verified, and
the duplicate rule: over HTTP on a real broker."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.web.auth import Role
from tests.integration.services.reward_desk import RewardDesk, confirmed
from tests.waiting import wait_for

NEW_BASE = {"valid_not_hazard": 3_000, "general": 15_000, "larger": 60_000, "major": 250_000}


@pytest.fixture
def desk(harness) -> RewardDesk:
    return RewardDesk(harness)


def test_an_approval_beyond_what_is_left_of_the_budget_goes_to_group_hq(desk):
    year = datetime.now(UTC).year
    where = {"tenant": "refinery", "year": year}
    for _ in range(2):
        put = desk.api.put("/budgets", params=where, json={"amount_fen": 60_000}, headers=desk.leader)
        assert put.status_code == 200 and put.json()["amount_fen"] == 60_000
    assert desk.types(aggregate="budget") == ["RewardBudgetSet"]

    first = desk.proposed(confirmed("larger"))  # 50,000 fen
    desk.approved(first)
    budget = wait_for(lambda: (b := desk.api.get("/budgets", params=where, headers=desk.leader).json())["committed_fen"] and b)
    assert (budget["amount_fen"], budget["committed_fen"], budget["remaining_fen"]) == (60_000, 50_000, 10_000)

    second = desk.proposed(confirmed("larger"))
    referred = desk.approve(second)
    assert referred.status_code == 201 and referred.json()["event"] == "RewardReferred"
    assert desk.wait_status(second, "referred")["referred_for"] == "over_budget"
    assert desk.pay(second).json()["state"] == "referred"

    assert desk.hq_decision(second, reason="a real hazard: pay it over budget").status_code == 201
    assert desk.wait_status(second, "approved")["approval_level"] == "group_hq"
    budget = wait_for(lambda: (b := desk.api.get("/budgets", params=where, headers=desk.leader).json())["committed_fen"] == 100_000 and b)
    assert budget["remaining_fen"] == -40_000
    commitments = [e for e in desk.events(aggregate="budget") if e["type"] == "BudgetCommitted"]
    assert [(e["report_id"], e["amount_fen"], e["over_budget"]) for e in commitments] == [(first, 50_000, False), (second, 50_000, True)]


def test_racing_approvals_cannot_both_spend_what_is_left(desk):
    where = {"tenant": "refinery", "year": datetime.now(UTC).year}
    assert desk.api.put("/budgets", params=where, json={"amount_fen": 60_000}, headers=desk.finance).status_code == 200
    rewards = [desk.proposed(confirmed("larger")) for _ in range(2)]  # 50,000 fen each
    heads = [desk.headers(f"head-{n}", roles=[Role.MANAGER]) for n in range(2)]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda pair: desk.approve(pair[0], pair[1]), zip(rewards, heads)))
    assert [r.status_code for r in outcomes] == [201, 201]
    assert sorted(r.json()["event"] for r in outcomes) == ["RewardApproved", "RewardReferred"]
    assert sorted(e["type"] for e in desk.events(aggregate="budget")) == ["BudgetCommitted", "RewardBudgetSet"]
    wait_for(lambda: desk.api.get("/budgets", params=where, headers=desk.finance).json()["remaining_fen"] == 10_000)


def test_a_new_policy_applies_to_reports_verified_from_when_it_takes_effect(desk):
    before = desk.proposed(confirmed("general"))
    assert desk.reward(before)["amount_fen"] == 10_000

    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    backdated = desk.set_policy(name="refinery-2027", base=NEW_BASE, effective_from=past)
    assert backdated.status_code == 422 and "effective_from" in backdated.json()["detail"][0]["loc"]
    assert desk.set_policy(desk.verifier, name="refinery-2027", base=NEW_BASE).status_code == 403
    assert desk.types(aggregate="policy") == []

    now = desk.set_policy(name="refinery-2027", base=NEW_BASE)
    assert now.status_code == 200 and now.json()["policy"]["base"] == NEW_BASE

    after = desk.proposed(confirmed("general"))
    assert (desk.reward(after)["amount_fen"], desk.reward(after)["policy"]) == (15_000, "refinery-2027")
    assert desk.reward(before)["amount_fen"] == 10_000
    in_force = wait_for(lambda: (p := desk.api.get("/policy", params={"tenant": "refinery"}, headers=desk.verifier).json())["effective_from"] and p)
    assert in_force["policy"]["name"] == "refinery-2027" and in_force["policy"]["base"] == NEW_BASE


def test_a_later_report_of_the_same_hazard_gets_the_duplicate_share(desk):
    first = desk.proposed(confirmed("larger"))  # 50,000 fen
    later, _ = desk.file("emp-2")
    declined = desk.verify(later, {"outcome": "duplicate", "duplicate_of": first})
    assert declined["status"] == "declined" and declined["amount_fen"] == 0
    assert "0%" in declined["reason"], declined["reason"]
    assert desk.types(later) == ["RewardDeclined"]

    assert desk.set_policy(duplicate_percent=20).status_code == 200
    third, _ = desk.file("emp-3")
    share = desk.verify(third, {"outcome": "duplicate", "duplicate_of": first})
    assert share["status"] == "proposed" and share["amount_fen"] == 10_000 == 50_000 * 20 // 100
    assert share["first_report_id"] == first and share["breakdown"][-1]["rule"] == "duplicate"
    assert desk.reward(first)["amount_fen"] == 50_000


def test_only_a_leader_or_finance_sets_a_budget(desk):
    where = {"tenant": "refinery", "year": datetime.now(UTC).year}
    assert desk.api.put("/budgets", params=where, json={"amount_fen": 1}, headers=desk.head).status_code == 403
    assert desk.api.put("/budgets", params=where, json={"amount_fen": -1}, headers=desk.finance).status_code == 422
    other = desk.headers("leader-mine", tenants=["mine"], roles=[Role.LEADER])
    assert desk.api.put("/budgets", params=where, json={"amount_fen": 1}, headers=other).status_code == 403
    assert desk.types(aggregate="budget") == []
