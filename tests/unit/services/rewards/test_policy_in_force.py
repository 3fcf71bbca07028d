"""Which policy version the engine applies to a verification made at a given moment."""

from datetime import UTC, datetime, timedelta

from hazardloop.events import GENESIS_HASH, BaseAmounts, RewardPolicy, RewardPolicySet
from hazardloop_rewards.policy import in_force

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
