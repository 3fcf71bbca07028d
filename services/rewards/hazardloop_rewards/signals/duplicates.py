"""(c) Serial near-duplicates: one reporter filing the same place (or the same piece of
equipment) and category again and again, ``min_reports`` times within ``window_days``.

A hazard reported twice by two people is ordinary (the second is merged as a duplicate);
the same person filing it over and over, each time hoping for a reward, is the pattern.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import timedelta

from hazardloop.events import NearDuplicatesRule, SignalRule
from hazardloop_rewards.signals.seen import Filing, Finding, gathered

SWEEP_EVERY = 10_000
"""Filings between two sweeps of keys whose last filing fell out of every window."""


class NearDuplicates:
    """Per reporter, place and category: their filings within the window, oldest first."""

    def __init__(self) -> None:
        self.recent: dict[tuple[str, str, str], deque[tuple[object, str]]] = {}
        self._since_sweep = 0

    def observe(self, filing: Filing, rule: NearDuplicatesRule) -> Finding | None:
        window = timedelta(days=rule.window_days)
        key = (filing.reporter, filing.place, filing.category)
        recent = self.recent.get(key)
        if recent is None:
            recent = self.recent[key] = deque()
        while recent and recent[0][0] < filing.at - window:
            recent.popleft()
        recent.append((filing.at, filing.report_id))
        self._sweep(filing, window)
        if not rule.enabled or len(recent) < rule.min_reports:
            return None
        return Finding(SignalRule.NEAR_DUPLICATES, key, filing.reporter, tuple(report for _, report in recent),
                       {"reports": len(recent), "days": rule.window_days})  # fmt: skip

    def _sweep(self, filing: Filing, window: timedelta) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        stale = [key for key, recent in self.recent.items() if recent[-1][0] < filing.at - window]
        for key in stale:
            del self.recent[key]


def findings(history: Iterable[Filing], rule: NearDuplicatesRule = NearDuplicatesRule()) -> list[Finding]:
    state = NearDuplicates()
    return gathered(state.observe(filing, rule) for filing in history)
