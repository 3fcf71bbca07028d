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
        self.routine: dict[str, list[str]] = defaultdict(list)

    def count(self, reward: Rewarded) -> None:
        self.rewards[reward.reporter] += 1
        if reward.routine:
            self.routine[reward.reporter].append(reward.report_id)

    def observe(self, reward: Rewarded, rule: RoutineDutyRule) -> Finding | None:
        self.count(reward)
        if not reward.routine or not rule.enabled:
            return None
        routine, total = self.routine[reward.reporter], self.rewards[reward.reporter]
        if len(routine) < rule.min_rewards or len(routine) * 100 < rule.min_share_percent * total:
            return None
        return Finding(SignalRule.ROUTINE_DUTY, (reward.reporter,), reward.reporter, tuple(routine),
                       {"routine": len(routine), "rewards": total})  # fmt: skip


def findings(history: Iterable[Rewarded], rule: RoutineDutyRule = RoutineDutyRule()) -> list[Finding]:
    state = RoutineDuties()
    return gathered(state.observe(reward, rule) for reward in history)
