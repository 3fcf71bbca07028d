"""Rewards recover from what real operations do: an approval retried after its budget
commitment landed, a future policy corrected before it takes effect, a malformed period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import nats
import pytest

from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from hazardloop_rewards.domain import Budget, budget_id
from tests.integration.services.reward_desk import HEAD, RewardDesk, confirmed, this_month
from tests.waiting import wait_for


@pytest.fixture
def desk(harness) -> RewardDesk:
    return RewardDesk(harness)


def commit_ahead(harness, report_id: str, amount_fen: int, year: int) -> None:
    """What an approval leaves behind when it dies between its two appends: the budget
    commitment in the log, the approval not."""

    async def commit() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
            history = await store.load("refinery", "budget", budget_id(year))
            budget = Budget.from_history("refinery", year, history)
            await store.append(budget.commit(report_id, amount_fen, actor=HEAD, now=datetime.now(UTC)), expected_version=history.version)
        finally:
            await connection.close()

    asyncio.run(commit())


def test_an_approval_retried_after_its_budget_commitment_landed_is_approved_not_referred(desk):
    year = datetime.now(UTC).year
    where = {"tenant": "refinery", "year": year}
    assert desk.api.put("/budgets", params=where, json={"amount_fen": 60_000}, headers=desk.leader).status_code == 200
    report_id = desk.proposed(confirmed("larger"))  # 50,000 fen
    commit_ahead(desk.harness, report_id, 50_000, year)

    retried = desk.approve(report_id)
    assert retried.status_code == 201 and retried.json()["event"] == "RewardApproved", retried.text
    assert desk.wait_status(report_id, "approved")["amount_fen"] == 50_000
    assert desk.types(aggregate="budget") == ["RewardBudgetSet", "BudgetCommitted"]
    budget = wait_for(lambda: (b := desk.api.get("/budgets", params=where, headers=desk.leader).json())["committed_fen"] and b)
    assert (budget["committed_fen"], budget["remaining_fen"]) == (50_000, 10_000)


def test_a_future_policy_corrected_before_it_takes_effect_shows_the_correction(desk):
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    first = desk.set_policy(name="next-year", base={"general": 15_000}, effective_from=when)
    corrected = desk.set_policy(name="next-year", base={"general": 20_000}, effective_from=when)
    assert (first.status_code, corrected.status_code) == (200, 200)

    def upcoming():
        shown = desk.api.get("/policy", params={"tenant": "refinery"}, headers=desk.head).json()
        return shown["upcoming"] and shown["upcoming"][-1]["policy"]["base"]["general"] == 20_000 and shown

    shown = wait_for(upcoming, timeout=10)
    assert len(shown["upcoming"]) == 1 and shown["effective_from"] is None
    assert desk.reward(desk.proposed(confirmed("general")))["amount_fen"] == 10_000  # in force now: the defaults


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "0000", "9999"])
def test_a_period_that_is_no_month_or_year_is_refused(desk, period):
    where = {"tenant": "refinery", "period": period}
    for path, who in (("/leaderboard", desk.head), ("/notices", desk.head), ("/payroll", desk.finance)):
        assert desk.api.get(path, params=where, headers=who).status_code == 422, path
    assert desk.api.get("/payroll", params=where | {"period": this_month()}, headers=desk.finance).status_code == 200


def test_a_commitment_left_by_an_approval_that_never_landed_is_given_back_when_the_reward_is_declined(desk):
    year = datetime.now(UTC).year
    assert desk.api.put("/budgets", params={"tenant": "refinery", "year": year}, json={"amount_fen": 100_000}, headers=desk.leader).status_code == 200
    report_id = desk.proposed(confirmed("larger"))
    commit_ahead(desk.harness, report_id, 50_000, year)  # an approval died after taking its amount
    assert desk.decline(report_id, "Not credible on review").status_code == 201
    assert desk.types(aggregate="budget")[-1] == "BudgetReleased"
    desk.wait_status(report_id, "declined")
    assert desk.approve(report_id, headers=desk.headers("head-2", roles=[Role.MANAGER])).status_code == 409
    assert desk.types(aggregate="budget").count("BudgetReleased") == 1
    budget = wait_for(lambda: (b := desk.api.get("/budgets", params={"tenant": "refinery", "year": year}, headers=desk.finance).json())["committed_fen"] == 0 and b)
    assert budget["remaining_fen"] == 100_000
