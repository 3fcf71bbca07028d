"""Fraud signals: each subsidiary's rule parameters, and reviewers' decisions on a signal.

Rewards derives a signal from the log (filings, proposals, the directory) each time it
replays; when a rule first fires, rewards records that it was raised (``SignalRaised``:
the rule, the reports and the rule's figures, no names), so the log can say how many
were raised and when. It also keeps what people decided: the parameters a manager set,
and a reviewer's dismissal (with its reason, sealed) or confirmation of one signal, named
by its stable id. A signal only informs the reviewer of a reward; it never decides
anything by itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StringConstraints

from hazardloop.events.envelope import AggregateId, Event, Note, Pseudonym, sealed

Count = Annotated[int, Field(ge=1, le=1000, strict=True)]
Days = Annotated[int, Field(ge=1, le=366, strict=True)]
Share = Annotated[int, Field(ge=1, le=100, strict=True)]
"""A share in percent."""
Ratio = Annotated[int, Field(ge=100, le=10_000, strict=True)]
"""How many times the expected figure, in percent (300: three times)."""
def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


ZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)]
SignalId = Annotated[str, StringConstraints(pattern=r"^sig-[0-9a-f]{32}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class SignalRule(StrEnum):
    """The six rules; each raises signals of its own kind."""

    ROUTINE_DUTY = "routine_duty"
    """Rewards mostly for findings within the reporter's own routine duties."""
    FREQUENT_PAIR = "frequent_pair"
    """One reporter's rewards proposed by one verifier far more often than chance."""
    NEAR_DUPLICATES = "near_duplicates"
    """One reporter filing the same place and category again and again."""
    PERIOD_END_BURST = "period_end_burst"
    """A reporter filing far more than usual just before a reward period closes."""
    UNUSUAL_PLACE = "unusual_place"
    """Reports for places the reporter's directory entry says they never work in."""
    TEAM_CONCENTRATION = "team_concentration"
    """A team's rewards going mostly to a few of its people."""


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True


class RoutineDutyRule(_Rule):
    min_rewards: Count = 3
    """Routine-duty rewards the reporter has before it is a signal."""
    min_share_percent: Share = 50
    """...and their share of the reporter's rewards."""


class FrequentPairRule(_Rule):
    min_pairs: Count = 5
    """Rewards of the pair before it is a signal."""
    min_ratio_percent: Ratio = 400
    """...and how far above chance: the pair's count against reporter total × verifier total / all rewards."""


class NearDuplicatesRule(_Rule):
    window_days: Days = 14
    min_reports: Annotated[int, Field(ge=2, le=1000, strict=True)] = 3
    """Reports by one reporter of one place (or equipment) and category within the window."""


class PeriodEndBurstRule(_Rule):
    period: Literal["month", "year"] = "month"
    """The reward period: a month (payroll's) or the budget year."""
    time_zone: ZoneName = "Asia/Shanghai"
    """Where the period's days begin and end: the group's time zone (kept with the rule, so
    every replay of the log draws the same boundaries)."""
    last_days: Days = 5
    """The days before the period closes that count as "just before"."""
    usual_days: Days = 90
    """The reporter's usual rate is their filings over this many days before the last days."""
    min_reports: Count = 4
    min_ratio_percent: Ratio = 300
    """Filings in the last days against what the usual rate gives for as many days."""


class UnusualPlaceRule(_Rule):
    min_reports: Count = 3
    """Reports outside the places the reporter's directory entry lists (only for people with places listed)."""


class TeamConcentrationRule(_Rule):
    top: Annotated[int, Field(ge=1, le=20, strict=True)] = 2
    """How many people count as "a few"."""
    max_share_percent: Share = 70
    """A signal when the top people's share of the team's rewards (their number) exceeds this."""
    min_reporters: Annotated[int, Field(ge=2, le=1000, strict=True)] = 5
    """Only in teams with at least this many rewarded people..."""
    min_rewards: Count = 10
    """...and this many rewards."""


class SignalRules(BaseModel):
    """A subsidiary's fraud-signal parameters; the defaults until a manager sets them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    routine_duty: RoutineDutyRule = RoutineDutyRule()
    frequent_pair: FrequentPairRule = FrequentPairRule()
    near_duplicates: NearDuplicatesRule = NearDuplicatesRule()
    period_end_burst: PeriodEndBurstRule = PeriodEndBurstRule()
    unusual_place: UnusualPlaceRule = UnusualPlaceRule()
    team_concentration: TeamConcentrationRule = TeamConcentrationRule()


class SignalRulesSet(Event):
    """A subsidiary's fraud-signal parameters (aggregate ``signal_rules``, id ``signals``),
    applied from the next event on."""

    aggregate_type: ClassVar[str] = "signal_rules"
    type: Literal["SignalRulesSet"] = "SignalRulesSet"
    rules: SignalRules


Evidence = Annotated[tuple[AggregateId, ...], Field(min_length=1, max_length=500)]
"""The reports a signal names (at most 500)."""
FigureName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")]
Figure = Annotated[StrictInt | StrictFloat, Field(ge=0)]


class SignalRaised(Event):
    """A rule fired for the first time on its subject (aggregate ``signal``, id the signal's):
    recorded once by rewards, after the rule fired, so the log counts the signals raised.

    It carries no names and no free text: the reporter only as a pseudonym (none for a
    team's signal), the reports by id, the rule's figures as numbers."""

    aggregate_type: ClassVar[str] = "signal"
    type: Literal["SignalRaised"] = "SignalRaised"
    rule: SignalRule
    reporter: Pseudonym | None = None
    """The reporter the signal is about, as a pseudonym; none for a team's signal."""
    evidence: Evidence
    """The reports the signal named when it was recorded (the first 500 by id, if more)."""
    figures: Annotated[dict[FigureName, Figure], Field(max_length=20)] = Field(default_factory=dict)
    """The rule's figures then, numbers only (how many reports, the expected count, a share
    in percent); names the rule works with (a verifier, a team, places) are left out."""
    raised_at: AwareDatetime
    """When the rule fired: the time of the event in the log that made it fire (the
    envelope's ``occurred_at`` is when rewards recorded it)."""


class SignalDismissed(Event):
    """A reviewer found a signal unfounded, with a reason (aggregate ``signal``, id the
    signal's). It covers the evidence named: a further matching report opens it again."""

    aggregate_type: ClassVar[str] = "signal"
    type: Literal["SignalDismissed"] = "SignalDismissed"
    rule: SignalRule
    evidence: Annotated[tuple[AggregateId, ...], Field(min_length=1, max_length=500)]
    """The reports the signal named when it was dismissed."""
    reason: sealed(Reason, "Why the reviewer found the signal unfounded.")


class SignalConfirmed(Event):
    """A reviewer found a signal founded: it stays on the rewards it names, for whoever decides them."""

    aggregate_type: ClassVar[str] = "signal"
    type: Literal["SignalConfirmed"] = "SignalConfirmed"
    rule: SignalRule
    evidence: Annotated[tuple[AggregateId, ...], Field(min_length=1, max_length=500)]
    note: sealed(Note, "What the reviewer found.") | None = None
