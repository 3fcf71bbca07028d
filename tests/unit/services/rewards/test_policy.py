"""The policy engine, table by table: each factor, the cap, the duty rule, the duplicate rule;
and which version of the policy applies at a given moment."""

from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.events import (
    GENESIS_HASH,
    BaseAmounts,
    FactorRule,
    FactorRules,
    RewardFactors,
    RewardPolicy,
    RewardPolicySet,
)
from hazardloop_rewards.policy import FACTORS, Precedence, in_force, percent, reward_amount

POLICY = RewardPolicy()  # base 20 / 100 / 500 / 2,000 yuan; cap 5,000 yuan; duty 50 %; duplicates 0 %


def amount(policy=POLICY, outcome="confirmed_hazard", grade="larger", duty=False, precedence=Precedence.ONLY, **factors):
    return reward_amount(
        policy,
        outcome=outcome,
        grade=grade if outcome == "confirmed_hazard" else None,
        factors=RewardFactors(**factors),
        within_routine_duties=duty,
        precedence=precedence,
    )


@pytest.mark.parametrize(
    ("outcome", "grade", "fen"),
    [("valid_not_hazard", None, 2_000), ("confirmed_hazard", "general", 10_000), ("confirmed_hazard", "larger", 50_000),
     ("confirmed_hazard", "major", 200_000)],
)  # fmt: skip
def test_small_hazard_small_reward_big_hazard_big_reward(outcome, grade, fen):
    total, lines = amount(outcome=outcome, grade=grade)
    assert total == fen and [line.rule for line in lines] == ["base"]


@pytest.mark.parametrize(
    ("factor", "fen"),
    [("at_height", 60_000), ("outside_patrol_area", 55_000), ("high_risk", 75_000), ("at_night", 55_000),
     ("bad_weather", 55_000), ("hard_to_handle", 60_000)],
)  # fmt: skip
def test_each_factor_multiplies_the_base(factor, fen):
    total, lines = amount(**{factor: True})
    assert total == fen and [line.rule for line in lines] == ["base", factor]
    assert lines[-1].amount_fen == total


def test_factors_compound_in_a_fixed_order_and_the_breakdown_adds_up():
    total, lines = amount(grade="general", at_height=True, high_risk=True, at_night=True)
    assert [line.rule for line in lines] == ["base", "at_height", "high_risk", "at_night"]
    assert [line.amount_fen for line in lines] == [10_000, 12_000, 18_000, 19_800]
    assert total == 19_800


def test_a_factor_may_add_points_as_a_bonus():
    policy = RewardPolicy(factors=FactorRules(at_night=FactorRule(multiplier_percent=100, bonus_fen=5_000)))
    assert amount(policy, grade="general", at_night=True)[0] == 15_000


def test_rounding_is_half_up_to_the_fen():
    assert percent(5, 110) == 6 and percent(4, 110) == 4 and percent(15, 50) == 8
    policy = RewardPolicy(base=BaseAmounts(general=1_005))
    assert amount(policy, grade="general", at_night=True)[0] == 1_106  # 1,105.5 rounds up


def test_the_cap_limits_the_proposal_and_says_so():
    total, lines = amount(grade="major", **{name: True for name in FACTORS})
    assert total == POLICY.cap_fen and lines[-1].rule == "cap"


@pytest.mark.parametrize(("duty_percent", "fen"), [(50, 25_000), (0, 0), (100, 50_000)])
def test_findings_within_routine_duties_get_the_policys_share(duty_percent, fen):
    policy = RewardPolicy(routine_duty_percent=duty_percent)
    total, lines = amount(policy, duty=True)
    assert total == fen and lines[-1].rule == "routine_duty"


@pytest.mark.parametrize(
    ("precedence", "duplicate_percent", "fen"),
    [(Precedence.FIRST, 0, 50_000), (Precedence.LATER, 0, 0), (Precedence.LATER, 20, 10_000), (Precedence.ONLY, 20, 50_000)],
)
def test_the_first_reporter_of_a_hazard_gets_it_all_later_ones_the_policys_share(precedence, duplicate_percent, fen):
    policy = RewardPolicy(duplicate_percent=duplicate_percent)
    assert amount(policy, precedence=precedence)[0] == fen


def test_nothing_is_due_for_an_unconfirmed_report():
    with pytest.raises(ValueError, match="not_confirmed"):
        amount(outcome="not_confirmed")


def test_policy_amounts_are_whole_fen_never_floats():
    with pytest.raises(ValueError):
        RewardPolicy(cap_fen=100.5)
    with pytest.raises(ValueError):
        BaseAmounts(general=-1)


NEW_YEAR = datetime(2027, 1, 1, tzinfo=UTC)


def version(name: str, effective_from: datetime, general: int = 10_000) -> RewardPolicySet:
    return RewardPolicySet.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="rewards", actor="mgr",
        policy=RewardPolicy(name=name, base=BaseAmounts(general=general)), effective_from=effective_from,
    )  # fmt: skip


def test_the_latest_version_effective_at_the_moment_applies():
    history = [version("2026", NEW_YEAR - timedelta(days=365)), version("2027", NEW_YEAR), version("2028", NEW_YEAR + timedelta(days=365))]
    assert in_force(history, NEW_YEAR - timedelta(seconds=1)).policy.name == "2026"
    assert in_force(history, NEW_YEAR).policy.name == "2027"
    assert in_force(history, NEW_YEAR - timedelta(days=366)) is None


def test_a_version_set_again_for_the_same_moment_replaces_the_earlier_one():
    history = [version("2027", NEW_YEAR, general=15_000), version("2027", NEW_YEAR, general=20_000)]
    assert in_force(history, NEW_YEAR + timedelta(days=1)).policy.base.general == 20_000
