"""(d) Bursts just before a reward period closes.

The period is the month (payroll's) or the budget year, in the rule's time zone (the
group's). A reporter's filings in the period's ``last_days`` are compared with what
their usual rate gives for as many days: their filings over the ``usual_days`` before
those last days. A signal needs at least ``min_reports`` filings in the last days and
more than ``min_ratio_percent`` of the usual rate's figure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from hazardloop.events import PeriodEndBurstRule, SignalRule
from hazardloop_rewards.signals.seen import Filing, Finding, gathered

SWEEP_EVERY = 10_000


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def period_of(at: datetime, period: str, zone: str) -> tuple[str, datetime]:
    """The reward period ``at`` falls in, as a label (``2026-11``, ``2026``), and when it closes."""
    local = at.astimezone(_zone(zone))
    if period == "year":
        return f"{local.year}", datetime(local.year + 1, 1, 1, tzinfo=local.tzinfo)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return f"{local.year}-{local.month:02d}", datetime(year, month, 1, tzinfo=local.tzinfo)


class Bursts:
    """Per reporter: their filings over the usual days and the last days, oldest first."""

    def __init__(self) -> None:
        self.filed: dict[str, deque[tuple[datetime, str]]] = {}
        self._since_sweep = 0

    def observe(self, filing: Filing, rule: PeriodEndBurstRule) -> Finding | None:
        horizon = timedelta(days=rule.usual_days + rule.last_days)
        filed = self.filed.get(filing.reporter)
        if filed is None:
            filed = self.filed[filing.reporter] = deque()
        while filed and filed[0][0] < filing.at - horizon:
            filed.popleft()
        filed.append((filing.at, filing.report_id))
        self._sweep(filing.at, horizon)
        if not rule.enabled:
            return None
        label, closes = period_of(filing.at, rule.period, rule.time_zone)
        last_from = closes - timedelta(days=rule.last_days)
        if filing.at < last_from:
            return None
        usual_from = last_from - timedelta(days=rule.usual_days)
        last = [report for at, report in filed if at >= last_from]
        usual = sum(1 for at, _ in filed if usual_from <= at < last_from)
        expected = usual * rule.last_days / rule.usual_days
        if len(last) < rule.min_reports or len(last) * 100 <= rule.min_ratio_percent * expected:
            return None
        return Finding(SignalRule.PERIOD_END_BURST, (filing.reporter, label), filing.reporter, tuple(last),
                       {"period": label, "last_days": rule.last_days, "reports": len(last), "expected": round(expected, 2)})  # fmt: skip

    def _sweep(self, now: datetime, horizon: timedelta) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        for reporter in [r for r, filed in self.filed.items() if filed[-1][0] < now - horizon]:
            del self.filed[reporter]


def findings(history: Iterable[Filing], rule: PeriodEndBurstRule = PeriodEndBurstRule()) -> list[Finding]:
    state = Bursts()
    return gathered(state.observe(filing, rule) for filing in history)
