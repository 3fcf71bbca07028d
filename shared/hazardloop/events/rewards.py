"""The reward aggregate: one per report, its id the report's id."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from hazardloop.events.envelope import AggregateId, Event, Fen, Pseudonym
from hazardloop.events.report import Grade, Outcome


class RewardGranted(Event):
    """A reward was decided for a report, in fen, by the named policy."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardGranted"] = "RewardGranted"
    report_id: AggregateId
    reporter: Pseudonym
    amount_fen: Fen
    outcome: Outcome
    grade: Grade | None = None
    policy: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class RewardDeclined(Event):
    """No reward is due for a report (for example, it was not confirmed)."""

    aggregate_type: ClassVar[str] = "reward"
    type: Literal["RewardDeclined"] = "RewardDeclined"
    report_id: AggregateId
    reporter: Pseudonym
    reason: Annotated[str, StringConstraints(min_length=1, max_length=400)]
