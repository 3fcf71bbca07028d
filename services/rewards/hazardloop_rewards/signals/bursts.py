"""(d) Bursts just before a reward period closes.

The period is the month (payroll's) or the budget year, in the rule's time zone (the
group's). A reporter's filings in the period's ``last_days`` are compared with what
their usual rate gives for as many days: their filings over the ``usual_days`` before
those last days. A signal needs at least ``min_reports`` filings in the last days and
more than ``min_ratio_percent`` of the usual rate's figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from hazardloop.events import PeriodEndBurstRule, SignalRule
from hazardloop_rewards.signals.seen import Filing, Finding, gathered

SWEEP_EVERY = 10_000


DAY = 86_400.0


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
    """Per reporter: their filings over the usual days and the last days (timestamp, report), oldest first."""

    def __init__(self) -> None:
        self.filed: dict[str, tuple[tuple[float, str], ...]] = {}
        """Tuples of strings and numbers, which the garbage collector stops tracking."""
        self._since_sweep = 0
        self._last_period: tuple[tuple[str, str], float, str, float] | None = None

    def observe(self, filing: Filing, rule: PeriodEndBurstRule) -> Finding | None:
        at = filing.timestamp
        horizon = (rule.usual_days + rule.last_days) * DAY
        earlier = self.filed.get(filing.reporter, ())
        if earlier and earlier[0][0] < at - horizon:
            earlier = tuple(seen for seen in earlier if seen[0] >= at - horizon)
        filed = self.filed[filing.reporter] = (*earlier, (at, filing.report_id))
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self._sweep(at, horizon)
        if not rule.enabled:
            return None
        label, closes = self._period(at, rule)
        last_from = closes - rule.last_days * DAY
        if at < last_from:
            return None
        usual_from = last_from - rule.usual_days * DAY
        last = [report for when, report in filed if when >= last_from]
        if len(last) < rule.min_reports:
            return None
        usual = sum(1 for when, _ in filed if usual_from <= when < last_from)
        expected = usual * rule.last_days / rule.usual_days
        if len(last) * 100 <= rule.min_ratio_percent * expected:
            return None
        return Finding(SignalRule.PERIOD_END_BURST, (filing.reporter, label), filing.reporter, tuple(last),
                       {"period": label, "last_days": rule.last_days, "reports": len(last), "expected": round(expected, 2)})  # fmt: skip

    def _period(self, at: float, rule: PeriodEndBurstRule) -> tuple[str, float]:
        """The period of ``at``: filings come in time order, so mostly the one found last (kept
        with the time it was found for: from then to its close, it is the same)."""
        kept = self._last_period
        if kept is not None and kept[0] == (rule.period, rule.time_zone) and kept[1] <= at < kept[3]:
            return kept[2], kept[3]
        label, closes = period_of(datetime.fromtimestamp(at, UTC), rule.period, rule.time_zone)
        self._last_period = ((rule.period, rule.time_zone), at, label, closes.timestamp())
        return label, closes.timestamp()

    def _sweep(self, now: float, horizon: float) -> None:
        self._since_sweep = 0
        for reporter in [r for r, filed in self.filed.items() if filed[-1][0] < now - horizon]:
            del self.filed[reporter]


def findings(history: Iterable[Filing], rule: PeriodEndBurstRule = PeriodEndBurstRule()) -> list[Finding]:
    state = Bursts()
    return gathered(state.observe(filing, rule) for filing in history)
