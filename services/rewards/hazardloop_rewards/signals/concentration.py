"""(f) A team's rewards concentrated on a few of its people.

Per team (as reporters give it when filing): the rewards proposed for each of its people.
A signal when the ``top`` people's share of the team's rewards exceeds
``max_share_percent``, in a team of at least ``min_reporters`` rewarded people and
``min_rewards`` rewards (in a small team a few people are most of it anyway). Its
evidence is the top people's rewarded reports; the figures give their share of the
amounts too. Counted in rewards, not amounts: one major hazard is worth twenty general
ones, and an honest team with a major find or two would otherwise look concentrated.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hazardloop.events import SignalRule, TeamConcentrationRule
from hazardloop_rewards.signals.seen import Finding, Rewarded, gathered


@dataclass
class Team:
    total_fen: int = 0
    rewards: int = 0
    amounts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reports: dict[str, tuple[str, ...]] = field(default_factory=lambda: defaultdict(tuple))
    top: tuple[str, ...] = ()
    """The ``top_of`` people by rewards (then amount, then pseudonym), kept as each reward comes."""
    top_of: int = 0
    flagged: tuple[str, ...] = ()
    """The top people when a signal last fired on the team."""

    def rank(self, reporter: str) -> tuple[int, int, str]:
        return (-len(self.reports[reporter]), -self.amounts[reporter], reporter)

    def moved(self, reporter: str, k: int) -> None:
        """Only ``reporter`` moved up: the others keep their order, so they stay in or out of the top."""
        if k != self.top_of:
            self.top, self.top_of = tuple(heapq.nsmallest(k, self.reports, key=self.rank)), k
        elif reporter in self.top or len(self.top) < k:
            self.top = tuple(sorted({*self.top, reporter}, key=self.rank))
        elif self.rank(reporter) < self.rank(self.top[-1]):
            self.top = tuple(sorted((*self.top[:-1], reporter), key=self.rank))


class Concentration:
    def __init__(self) -> None:
        self.teams: dict[str, Team] = defaultdict(Team)

    def count(self, reward: Rewarded) -> Team | None:
        if reward.team is None:
            return None
        team = self.teams[reward.team.casefold()]
        team.total_fen += reward.amount_fen
        team.rewards += 1
        team.amounts[reward.reporter] += reward.amount_fen
        team.reports[reward.reporter] += (reward.report_id,)
        return team

    def observe(self, reward: Rewarded, rule: TeamConcentrationRule) -> Finding | None:
        team = self.count(reward)
        if team is None:
            return None
        team.moved(reward.reporter, rule.top)
        # the share only grows with a reward to one of the top people: only then can a signal be due
        if not rule.enabled or reward.reporter not in team.top or len(team.amounts) < rule.min_reporters or team.rewards < rule.min_rewards:
            return None
        counts, top = team.reports, team.top
        share = sum(len(counts[reporter]) for reporter in top) * 100 / team.rewards
        if share <= rule.max_share_percent:
            return None
        amounts = sum(team.amounts[reporter] for reporter in top) * 100 / team.total_fen if team.total_fen else 0
        if team.flagged == top:  # the same people as when it last fired: only this report is new
            evidence: tuple[str, ...] = (reward.report_id,)
        else:
            evidence, team.flagged = tuple(report for reporter in top for report in counts[reporter]), top
        figures = {"team": reward.team, "top": list(top), "share_percent": round(share, 1), "amount_share_percent": round(amounts, 1), "people": len(counts)}
        return Finding(SignalRule.TEAM_CONCENTRATION, (reward.team.casefold(),), None, evidence, figures)


def findings(history: Iterable[Rewarded], rule: TeamConcentrationRule = TeamConcentrationRule()) -> list[Finding]:
    state = Concentration()
    return gathered(state.observe(reward, rule) for reward in history)
