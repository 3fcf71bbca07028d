"""(a) Within own routine duties: a reporter whose rewards are mostly for findings the
verification said were within their own routine duties (their patrol, their checks).

The policy already pays such a finding less; the signal is for the pattern: at least
``min_rewards`` of them, making up at least ``min_share_percent`` of the reporter's rewards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from hazardloop.events import RoutineDutyRule, SignalRule
from hazardloop_rewards.signals.seen import Finding, Rewarded, gathered


class RoutineDuties:
    """Per reporter: how many rewards, and which were within routine duties."""

    def __init__(self) -> None:
        self.rewards: dict[str, int] = defaultdict(int)
        self.routine: dict[str, tuple[str, ...]] = defaultdict(tuple)
        """Tuples of strings, which the garbage collector stops tracking."""
        self.flagged: set[str] = set()
        """Reporters a signal fired on: each further finding names only its new report."""

    def count(self, reward: Rewarded) -> None:
        self.rewards[reward.reporter] += 1
        if reward.routine:
            self.routine[reward.reporter] += (reward.report_id,)

    def observe(self, reward: Rewarded, rule: RoutineDutyRule) -> Finding | None:
        self.count(reward)
        if not reward.routine or not rule.enabled:
            return None
        routine, total = self.routine[reward.reporter], self.rewards[reward.reporter]
        if len(routine) < rule.min_rewards or len(routine) * 100 < rule.min_share_percent * total:
            return None
        evidence = (reward.report_id,) if reward.reporter in self.flagged else routine
        self.flagged.add(reward.reporter)
        return Finding(SignalRule.ROUTINE_DUTY, (reward.reporter,), reward.reporter, evidence,
                       {"routine": len(routine), "rewards": total})  # fmt: skip


def findings(history: Iterable[Rewarded], rule: RoutineDutyRule = RoutineDutyRule()) -> list[Finding]:
    state = RoutineDuties()
    return gathered(state.observe(reward, rule) for reward in history)
