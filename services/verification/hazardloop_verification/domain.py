"""The report case as verification sees it: a pure aggregate rebuilt from its history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from hazardloop.errors import DomainError, NotFound
from hazardloop.events import LongText, Note, GENESIS_HASH, Event, Grade, Outcome, Rectified, ReportFiled, Verified
from hazardloop.eventstore import History


class Stage(StrEnum):
    FILED = "filed"
    VERIFIED = "verified"
    CLOSED_UNCONFIRMED = "not_confirmed"
    RECTIFIED = "rectified"


class Verify(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Outcome
    grade: Grade | None = None
    comment: Note | None = None

    @model_validator(mode="after")
    def _grade_only_for_hazards(self) -> Verify:
        if self.outcome == Outcome.CONFIRMED_HAZARD and self.grade is None:
            raise ValueError("grade is required when the hazard is confirmed")
        if self.outcome != Outcome.CONFIRMED_HAZARD and self.grade is not None:
            raise ValueError("grade applies only to a confirmed hazard")
        return self


class Rectify(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    measures: LongText


class AlreadyVerified(DomainError):
    pass


class NotRectifiable(DomainError):
    pass


@dataclass
class ReportCase:
    tenant: str
    report_id: str
    stage: Stage
    outcome: Outcome | None
    last_hash: str

    @classmethod
    def from_history(cls, tenant: str, report_id: str, history: History) -> ReportCase:
        if not history.events or not isinstance(history.events[0].event, ReportFiled):
            raise NotFound(f"no report {report_id!r} in {tenant!r}")
        case = cls(tenant, report_id, Stage.FILED, None, GENESIS_HASH)
        case._replay(stored.event for stored in history.events)
        return case

    def _replay(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, Verified):
                self.outcome = event.outcome
                self.stage = Stage.VERIFIED if event.outcome != Outcome.NOT_CONFIRMED else Stage.CLOSED_UNCONFIRMED
            elif isinstance(event, Rectified):
                self.stage = Stage.RECTIFIED
            self.last_hash = event.hash

    def verify(self, command: Verify, *, actor: str, now: datetime) -> Verified:
        if self.stage != Stage.FILED:
            raise AlreadyVerified(f"report {self.report_id} was already verified", state=self.stage.value)
        return Verified.record(
            prev_hash=self.last_hash,
            tenant=self.tenant,
            aggregate_id=self.report_id,
            actor=actor,
            occurred_at=now,
            **command.model_dump(),
        )

    def rectify(self, command: Rectify, *, actor: str, now: datetime) -> Rectified:
        if self.stage == Stage.FILED:
            raise NotRectifiable(f"report {self.report_id} must be verified before rectification", state=self.stage.value)
        if self.outcome != Outcome.CONFIRMED_HAZARD:
            raise NotRectifiable(f"report {self.report_id} is not a confirmed hazard", state=self.stage.value)
        if self.stage == Stage.RECTIFIED:
            raise NotRectifiable(f"report {self.report_id} was already rectified", state=self.stage.value)
        return Rectified.record(
            prev_hash=self.last_hash,
            tenant=self.tenant,
            aggregate_id=self.report_id,
            actor=actor,
            occurred_at=now,
            measures=command.measures,
        )
