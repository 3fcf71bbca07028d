"""Filing a report: the command, its guards, and the event it records."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from hazardloop.errors import Invalid
from hazardloop.events import LongText, Note, GENESIS_HASH, Category, Channel, Location, ReportFiled, TenantId

CLOCK_SKEW = timedelta(minutes=5)


class FileReport(BaseModel):
    """What a reporter sends. The reporter's identity comes from their token, never the body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: TenantId
    category: Category
    description: LongText
    location: Location
    observed_at: AwareDatetime
    anonymous: bool = False
    channel: Channel = Channel.WEB
    suggested_fix: Note | None = None
    emergency_action: Note | None = None


def file_report(command: FileReport, *, report_id: str, reporter: str, event_id, now: datetime) -> ReportFiled:
    if command.observed_at > now + CLOCK_SKEW:
        raise Invalid("the hazard cannot have been observed in the future", field="observed_at")
    return ReportFiled.record(
        prev_hash=GENESIS_HASH,
        tenant=command.tenant,
        aggregate_id=report_id,
        actor=f"reporter:{reporter}",
        event_id=event_id,
        occurred_at=now,
        reporter=reporter,
        **command.model_dump(exclude={"tenant"}),
    )


def same_report(stored: ReportFiled, command: FileReport) -> bool:
    """Whether a stored filing is the one this command describes (idempotent retry)."""
    fields = command.model_dump(exclude={"tenant"})
    return stored.tenant == command.tenant and stored.model_dump(include=set(fields)) == fields
