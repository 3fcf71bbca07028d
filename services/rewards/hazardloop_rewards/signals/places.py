"""(e) Reports for places the reporter's directory entry says they never work in.

Only for people whose directory entry lists their work places: a report counts when
neither its site nor its area is one of them (names compared without case or outer
spaces). A signal needs ``min_reports`` such reports.

Reports carry a pseudonym, the directory a person: the link is the pseudonym directory's
(``PseudonymDirectory.holder``), read when a reward is shown, never kept in a store.
"""

from __future__ import annotations

from collections.abc import Iterable

from hazardloop.events import SignalRule, UnusualPlaceRule
from hazardloop_rewards.signals.seen import Filing, Finding


def _name(value: str) -> str:
    return value.strip().casefold()


def outside(filing: Filing, work_places: Iterable[str]) -> bool:
    places = {_name(place) for place in work_places}
    return bool(places) and _name(filing.site) not in places and _name(filing.area) not in places


def finding(reporter: str, filings: Iterable[Filing], work_places: Iterable[str], rule: UnusualPlaceRule = UnusualPlaceRule()) -> Finding | None:
    """The signal on one reporter's filings, given their work places; None when none is due."""
    work_places = tuple(work_places)
    if not rule.enabled or not work_places:
        return None
    elsewhere = sorted(f.report_id for f in filings if f.reporter == reporter and outside(f, work_places))
    if len(elsewhere) < rule.min_reports:
        return None
    return Finding(SignalRule.UNUSUAL_PLACE, (reporter,), reporter, tuple(elsewhere),
                   {"reports": len(elsewhere), "work_places": list(work_places)})  # fmt: skip
