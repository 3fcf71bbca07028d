"""Filing a report: the command, its guards, and the event it records.

Pure: the caller looks up the place, seals the identity and finds possible duplicates;
this module only decides whether the report is acceptable and what the event says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from hazardloop.web.edge import Command, Instant
from hazardloop.errors import Invalid
from hazardloop.events import (
    GENESIS_HASH,
    SUBTYPES,
    AttachmentRef,
    Category,
    Channel,
    EquipmentTag,
    Location,
    LongText,
    Note,
    PlaceKind,
    PlaceName,
    ReportFiled,
    SealedIdentity,
    Sha256Hex,
    SpotName,
    TenantId,
    Token,
)
from hazardloop.privacy.identity import Identity

CLOCK_SKEW = timedelta(minutes=5)
OLDEST_OBSERVATION = timedelta(days=366)
ENTERED_BY_STAFF = frozenset({Channel.HOTLINE, Channel.VERBAL, Channel.EMAIL})
"""Channels whose reports a safety officer enters on the reporter's behalf."""


class FileReport(Command):
    """What a reporter (or a safety officer, for them) sends.

    ``reporter`` is who reported. A reporter filing for themselves may add their name
    and phone to the identity their token proves; a safety officer entering a hotline,
    verbal or e-mailed report names the employee. An anonymous report names nobody.
    """

    tenant: TenantId
    category: Category
    subtype: Token = "other"
    description: LongText
    place_id: Token = Field(description="The catalogued area or spot.")
    spot_detail: SpotName | None = Field(None, description="Where exactly; required when the place is an area.")
    equipment_tag: EquipmentTag | None = None
    observed_at: Instant
    cause_analysis: Note | None = None
    suggested_fix: Note | None = None
    emergency_action: Note | None = None
    team: PlaceName | None = Field(None, description="Your workshop or shift team (named reports only).")
    channel: Channel = Channel.API
    anonymous: bool = False
    reporter: Identity | None = None
    attachments: Annotated[list[Sha256Hex], Field(max_length=12)] = []

    # Field validators, not one model validator, so that each refusal names its field.
    @field_validator("subtype")
    @classmethod
    def _subtype_of_category(cls, subtype: str, info: ValidationInfo) -> str:
        category = info.data.get("category")
        if category is not None and subtype not in SUBTYPES[category]:
            raise ValueError(f"subtype must be one of {category.value}'s: {', '.join(SUBTYPES[category])}")
        return subtype

    @field_validator("reporter")
    @classmethod
    def _nobody_when_anonymous(cls, reporter: Identity | None, info: ValidationInfo) -> Identity | None:
        if reporter is not None and info.data.get("anonymous"):
            raise ValueError("an anonymous report names no reporter")
        return reporter

    @field_validator("attachments")
    @classmethod
    def _each_once(cls, attachments: list[str]) -> list[str]:
        if len(set(attachments)) != len(attachments):
            raise ValueError("an attachment is listed twice")
        return attachments


@dataclass(frozen=True, slots=True)
class Place:
    """A catalogued place with the names of the places above it."""

    place_id: str
    kind: PlaceKind
    site: str
    area: str | None
    spot: str | None
    equipment_tag: str | None
    retired: bool

    @property
    def takes_reports(self) -> bool:
        """Reports name an area or a spot still in use, never a whole site."""
        return not self.retired and self.kind != PlaceKind.SITE


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who the report will be attributed to, as the log may record it."""

    pseudonym: str
    identity: SealedIdentity | None
    receipt_digest: str | None
    entered_by: str | None


def locate(command: FileReport, place: Place | None) -> Location:
    """The report's location from the catalogue; a place that cannot take reports is refused."""
    if place is None:
        raise Invalid(f"no place {command.place_id!r} in {command.tenant}'s catalogue", field="place_id")
    if place.retired:
        raise Invalid(f"place {command.place_id!r} is retired and takes no new reports", field="place_id")
    if place.kind == PlaceKind.SITE:
        raise Invalid("choose an area or spot within the site", field="place_id")
    if place.kind == PlaceKind.AREA and command.spot_detail is None:
        raise Invalid("say where in the area: the spot or equipment", field="spot_detail")
    spot = place.spot if command.spot_detail is None else command.spot_detail
    if place.kind == PlaceKind.SPOT and command.spot_detail is not None:
        spot = f"{place.spot}: {command.spot_detail}"[:120]
    return Location(
        site=place.site,
        area=place.area,
        spot=spot,
        place_id=place.place_id,
        equipment_tag=command.equipment_tag or place.equipment_tag,
    )


def file_report(
    command: FileReport,
    *,
    report_id: str,
    event_id: uuid.UUID,
    location: Location,
    reporter: Reporter,
    attachments: list[AttachmentRef],
    possible_duplicate_of: str | None,
    now: datetime,
) -> ReportFiled:
    if command.observed_at > now + CLOCK_SKEW:
        raise Invalid("the hazard cannot have been observed in the future", field="observed_at")
    if command.observed_at < now - OLDEST_OBSERVATION:
        raise Invalid("observations older than a year are not taken as new reports", field="observed_at")
    return ReportFiled.record(
        prev_hash=GENESIS_HASH,
        tenant=command.tenant,
        aggregate_id=report_id,
        actor=f"reporter:{reporter.entered_by or reporter.pseudonym}",
        event_id=event_id,
        occurred_at=now,
        category=command.category,
        subtype=command.subtype,
        description=command.description,
        location=location,
        observed_at=command.observed_at,
        reporter=reporter.pseudonym,
        anonymous=command.anonymous,
        channel=command.channel,
        cause_analysis=command.cause_analysis,
        suggested_fix=command.suggested_fix,
        emergency_action=command.emergency_action,
        team=None if command.anonymous else command.team,
        attachments=tuple(attachments),
        identity=reporter.identity,
        receipt_digest=reporter.receipt_digest,
        entered_by=reporter.entered_by,
        possible_duplicate_of=possible_duplicate_of,
    )


def same_report(stored: ReportFiled, command: FileReport, *, description: str | None) -> bool:
    """Whether a stored filing is the one this command describes (an idempotent retry);
    ``description`` is the stored one, opened."""
    return (
        stored.tenant == command.tenant
        and stored.category == command.category
        and stored.subtype == command.subtype
        and description == command.description
        and stored.location.place_id == command.place_id
        and stored.observed_at == command.observed_at
        and stored.anonymous == command.anonymous
        and [a.digest for a in stored.attachments] == command.attachments
    )
