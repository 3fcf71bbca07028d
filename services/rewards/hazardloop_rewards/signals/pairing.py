"""(b) A reporter and a verifier paired far more often than chance.

If verifiers were assigned regardless of reporter, a pair's expected count would be the
reporter's rewards × the verifier's proposals / all rewards of the subsidiary (the
independence estimate of a contingency table). A signal needs at least ``min_pairs``
rewards of the pair and a count at least ``min_ratio_percent`` of that expectation.
Where one verifier proposes everything, the expectation is the reporter's whole count
and nothing is flagged: there is no choice of verifier to abuse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from hazardloop.events import FrequentPairRule, SignalRule
from hazardloop_rewards.signals.seen import Finding, Rewarded, gathered


class Pairs:
    """Counters of one subsidiary: all rewards, per reporter, per verifier, per pair."""

    def __init__(self) -> None:
        self.total = 0
        self.by_reporter: dict[str, int] = defaultdict(int)
        self.by_verifier: dict[str, int] = defaultdict(int)
        self.pairs: dict[tuple[str, str], tuple[str, ...]] = defaultdict(tuple)
        """Tuples of strings, which the garbage collector stops tracking."""
        self.flagged: set[tuple[str, str]] = set()
        """Pairs a signal fired on: each further finding names only its new report."""

    def count(self, reward: Rewarded) -> None:
        self.total += 1
        self.by_reporter[reward.reporter] += 1
        self.by_verifier[reward.verifier] += 1
        self.pairs[(reward.reporter, reward.verifier)] += (reward.report_id,)

    def observe(self, reward: Rewarded, rule: FrequentPairRule) -> Finding | None:
        self.count(reward)
        if not rule.enabled:
            return None
        pair = self.pairs[(reward.reporter, reward.verifier)]
        expected = self.by_reporter[reward.reporter] * self.by_verifier[reward.verifier] / self.total
        if len(pair) < rule.min_pairs or len(pair) * 100 < rule.min_ratio_percent * expected:
            return None
        key = (reward.reporter, reward.verifier)
        evidence = (reward.report_id,) if key in self.flagged else pair
        self.flagged.add(key)
        return Finding(
            SignalRule.FREQUENT_PAIR, key, reward.reporter, evidence,
            {"pair": len(pair), "expected": round(expected, 2), "verifier": reward.verifier},
        )  # fmt: skip


def findings(history: Iterable[Rewarded], rule: FrequentPairRule = FrequentPairRule()) -> list[Finding]:
    state = Pairs()
    return gathered(state.observe(reward, rule) for reward in history)
