"""The demo's budget, on a real rewards service: set on the first run, never over a user's."""

from __future__ import annotations

from datetime import UTC, datetime

from hazardloop.tools.demo import TENANT, seed_budget
from hazardloop.web.auth import Role
from tests.waiting import wait_for


def test_a_second_demo_run_keeps_the_budget_a_user_changed(harness):
    rewards = harness.start("rewards")
    leader = harness.auth.issue("deputy-director-sun", [TENANT], [Role.LEADER])
    headers = {"Authorization": f"Bearer {leader}"}
    year = {"tenant": TENANT, "year": datetime.now(UTC).year}

    def budget() -> int | None:
        return rewards.get("/budgets", params=year, headers=headers).json()["amount_fen"]

    seed_budget(rewards, "", leader)
    wait_for(lambda: budget() == 10_000_000)
    assert rewards.put("/budgets", params=year, json={"amount_fen": 4_500_000}, headers=headers).status_code == 200
    wait_for(lambda: budget() == 4_500_000)
    seed_budget(rewards, "", leader)
    assert budget() == 4_500_000
    assert [subject.rsplit(".", 1)[1] for subject, _ in harness.raw_log("budget")] == ["RewardBudgetSet", "RewardBudgetSet"]
