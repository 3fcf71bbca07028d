"""What the rules see of the log: a filing and a reward proposal, hand-buildable in tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from hazardloop.events import ReportFiled, RewardProposed, SignalRule, stable_id


class Filing(NamedTuple):
    """A named tuple: made for every filing a rebuild applies, for a third of a dataclass's cost."""

    report_id: str
    reporter: str
    at: datetime
    place: str
    """Where, as one key: the equipment tag if given, else the catalogued place, else site / area / spot."""
    category: str
    site: str = ""
    area: str = ""
    ts: float | None = None
    """``at`` as a timestamp, when the caller has it already (the rules compare timestamps)."""

    @property
    def timestamp(self) -> float:
        return self.at.timestamp() if self.ts is None else self.ts


class Rewarded(NamedTuple):
    """A reward proposed by policy for a verified report (a named tuple, like ``Filing``)."""

    report_id: str
    reporter: str
    verifier: str
    amount_fen: int
    routine: bool = False
    """The verification found it within the reporter's own routine duties."""
    team: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's finding: what it is about, the reports that show it, and its figures."""

    rule: SignalRule
    subject: tuple[str, ...]
    reporter: str | None
    evidence: tuple[str, ...]
    figures: dict[str, Any] = field(default_factory=dict)

    def signal_id(self, tenant: str) -> str:
        """Stable: the same rule on the same subject is the same signal, replay after replay."""
        return signal_id(tenant, self.rule, *self.subject)


def signal_id(tenant: str, rule: SignalRule, *subject: str) -> str:
    return "sig-" + stable_id(tenant, "signal", rule.value, *subject).hex


def place_key(event: ReportFiled) -> str:
    location = event.location
    if location.equipment_tag:
        return "tag:" + location.equipment_tag.casefold()
    if location.place_id:
        return "place:" + location.place_id
    return f"name:{location.site.strip().casefold()} / {location.area.strip().casefold()} / {location.spot.strip().casefold()}"


def filing_of(event: ReportFiled, place: str | None = None) -> Filing:
    location, at = event.location, event.occurred_at
    return Filing(event.aggregate_id, event.reporter, at, place or place_key(event), event.category,  # a StrEnum: a str
                  location.site, location.area, at.timestamp())  # fmt: skip


def within_routine_duties(event: RewardProposed) -> bool:
    """The policy's own line says so: the verification found it within the reporter's duties."""
    for line in event.breakdown:
        if line.rule == "routine_duty":
            return True
    return False


def rewarded_of(event: RewardProposed, team: str | None) -> Rewarded:
    return Rewarded(event.report_id, event.reporter, event.proposer, event.amount_fen, within_routine_duties(event), team, event.occurred_at)


def gathered(found: Iterable[Finding | None]) -> list[Finding]:
    """The signals a run of findings raises: one per subject, its evidence every report any
    of its findings named (as the rewards projection merges them), its figures the latest."""
    signals: dict[tuple[SignalRule, tuple[str, ...]], Finding] = {}
    for finding in found:
        if finding is None:
            continue
        earlier = signals.get((finding.rule, finding.subject))
        evidence = set(finding.evidence) | set(earlier.evidence if earlier else ())
        signals[(finding.rule, finding.subject)] = replace(finding, evidence=tuple(sorted(evidence)))
    return list(signals.values())
