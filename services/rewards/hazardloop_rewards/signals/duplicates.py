"""(c) Serial near-duplicates: one reporter filing the same place (or the same piece of
equipment) and category again and again, ``min_reports`` times within ``window_days``.

A hazard reported twice by two people is ordinary (the second is merged as a duplicate);
the same person filing it over and over, each time hoping for a reward, is the pattern.
"""

from __future__ import annotations

from collections.abc import Iterable

from hazardloop.events import NearDuplicatesRule, SignalRule
from hazardloop_rewards.signals.seen import Filing, Finding, gathered

SWEEP_EVERY = 10_000
"""Filings between two sweeps of keys whose last filing fell out of every window."""


class NearDuplicates:
    """Per reporter, place and category: their filings within the window (timestamp, report),
    oldest first. Kept in tuples of strings and numbers, which the garbage collector stops
    tracking: a rebuild's collections then never pass over these counters."""

    def __init__(self) -> None:
        self.recent: dict[tuple[str, str, str], tuple[tuple[float, str], ...]] = {}
        self._since_sweep = 0

    def observe(self, filing: Filing, rule: NearDuplicatesRule) -> Finding | None:
        at, window = filing.timestamp, rule.window_days * 86_400.0
        key = (filing.reporter, filing.place, filing.category)
        earlier = self.recent.get(key)
        if earlier is None:
            recent = ((at, filing.report_id),)
        else:
            recent = (*(seen for seen in earlier if seen[0] >= at - window), (at, filing.report_id))
        self.recent[key] = recent
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(at, window)
        if not rule.enabled or len(recent) < rule.min_reports:
            return None
        return Finding(SignalRule.NEAR_DUPLICATES, key, filing.reporter, tuple(report for _, report in recent),
                       {"reports": len(recent), "days": rule.window_days})  # fmt: skip

    def _sweep(self, now: float, window: float) -> None:
        self._since_sweep = 0
        for key in [key for key, recent in self.recent.items() if recent[-1][0] < now - window]:
            del self.recent[key]


def findings(history: Iterable[Filing], rule: NearDuplicatesRule = NearDuplicatesRule()) -> list[Finding]:
    state = NearDuplicates()
    return gathered(state.observe(filing, rule) for filing in history)
