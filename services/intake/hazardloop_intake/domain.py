"""Intake's rules: filing a report, the catalogue of places, erasing what a reporter gave.

Pure: the command handlers load the aggregates and look up what the rules need (the
place, the sealed identity, possible duplicates); the rules decide what the log records.
A decision that finds its command already recorded (a retry) decides nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

from pydantic import Field, ValidationInfo, field_validator

from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    GENESIS_HASH,
    PARENT_KIND,
    SUBTYPES,
    AttachmentRef,
    Category,
    Channel,
    CheckAnswered,
    CheckClosed,
    CheckTaskOpened,
    EquipmentTag,
    Event,
    Location,
    LongText,
    Note,
    PlaceCatalogued,
    PlaceKind,
    PlaceName,
    PlaceRetired,
    ReporterKeyShredded,
    ReportFiled,
    ReportTextShredded,
    SealedIdentity,
    Sha256Hex,
    ShredReason,
    SpotName,
    TenantId,
    Token,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.privacy.identity import Identity
from hazardloop.web.edge import Command, Instant

E = TypeVar("E", bound=Event)


# --- filing a report ----------------------------------------------------------------------

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
    check_id: Token | None = Field(None, description="The check elsewhere this report answers: the hazard was found here too.")

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


@dataclass(frozen=True, slots=True)
class Filer:
    """Who is filing: the token's subject (None: nobody signed in, so only anonymously) and
    whether they are safety staff."""

    subject: str | None
    staff: bool = False


def named_reporter(command: FileReport, filer: Filer) -> tuple[str, Identity, str | None]:
    """(who reported, identity to seal, the officer who entered it) for a named report."""
    if command.channel in ENTERED_BY_STAFF:
        if not filer.staff:
            raise Invalid(f"{command.channel.value} reports are entered by a safety officer", field="channel")
        if command.reporter is None:
            raise Invalid("name the employee who reported", field="reporter")
        return command.reporter.employee_number, command.reporter, filer.subject
    if filer.subject is None:  # nobody signed in: a typed employee number proves nothing
        raise Invalid("sign in to report in your own name, or report anonymously", field="who")
    if command.reporter is not None and command.reporter.employee_number != filer.subject:
        raise Invalid("you can only report in your own name here", field="reporter.employee_number")
    return filer.subject, command.reporter or Identity(employee_number=filer.subject), None


def new_idempotency_key() -> str:
    """A key for a request that came without one, handed back so that its retry reuses it:
    128 random bits, since an anonymous report's receipt code is only as secret as its key."""
    return uuid.uuid4().hex


ANONYMOUS = "anonymous"
"""The namespace of anonymous filings' Idempotency-Keys: nothing about who sent them."""


def report_id_for(tenant: str, namespace: str, idempotency_key: str) -> str:
    """The report an Idempotency-Key files: the same key and filer, the same report.

    ``namespace`` is the pseudonym of whoever files a named report (the officer's, for one
    they enter), ``ANONYMOUS`` otherwise: never a person's name or number, so that the id
    says nothing about who filed it, even to someone who guesses the key.
    """
    return str(stable_id("report", tenant, namespace, idempotency_key))


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


def answerable_check(command: FileReport, filer: Filer, task: History, check: History | None) -> None:
    """A report may answer a check addressed to its subsidiary, filed by one of its safety
    officers, while the task awaits an answer and the check is open."""
    if not filer.staff or command.anonymous:
        raise Invalid("a report answering a check is filed in their own name by a safety officer", field="check_id")
    if not task.events or not isinstance(task.events[0].event, CheckTaskOpened):
        raise Invalid(f"no check {command.check_id!r} is addressed to {command.tenant}", field="check_id")
    if any(isinstance(stored.event, CheckAnswered) for stored in task.events):
        raise DomainError(f"{command.tenant} already answered check {command.check_id}", state="answered")
    if check is not None and any(isinstance(stored.event, CheckClosed) for stored in check.events):
        raise DomainError(f"check {command.check_id} is closed", state="closed")


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
        check_id=command.check_id,
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


def filing_of(history: History) -> ReportFiled | None:
    """The report's filing, None if the log holds no such report."""
    first = history.events[0].event if history.events else None
    return first if isinstance(first, ReportFiled) else None


def first_filing(history: History, filing: ReportFiled) -> list[Event]:
    """The filing to append, or nothing when its report already exists: the report id comes
    from the Idempotency-Key, so an existing one is this key's earlier filing."""
    return [] if history.events else [filing]


def repeated_filing(stored: ReportFiled | None, command: FileReport, *, description: str | None) -> ReportFiled:
    """The filing a retry finds; one that is not this command's is a reused Idempotency-Key.
    ``description`` is the stored one, opened."""
    if stored is None or not same_report(stored, command, description=description):
        raise Invalid("this Idempotency-Key was already used for a different report", field="Idempotency-Key")
    return stored


# --- the catalogue of places: sites, their areas, and spots or equipment in them ------------


class CataloguePlace(Command):
    tenant: TenantId
    place_id: Token
    kind: PlaceKind
    parent_id: Token | None = Field(None, validate_default=True)
    name: PlaceName
    name_en: PlaceName | None = None
    equipment_tag: EquipmentTag | None = None

    @field_validator("parent_id")
    @classmethod
    def _parent_fits_kind(cls, parent_id: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == PlaceKind.SITE and parent_id is not None:
            raise ValueError("a site is the top of the catalogue and has no parent")
        if kind is not None and kind != PlaceKind.SITE and parent_id is None:
            raise ValueError(f"a {kind.value} needs its parent {PARENT_KIND[kind].value}")
        return parent_id

    @field_validator("equipment_tag")
    @classmethod
    def _tag_on_spots(cls, tag: str | None, info: ValidationInfo) -> str | None:
        if tag is not None and info.data.get("kind") != PlaceKind.SPOT:
            raise ValueError("only a spot carries an equipment tag")
        return tag


def catalogue_place(command: CataloguePlace, *, parent: Place | None, actor: str, event_id, now: datetime) -> PlaceCatalogued:
    expected = PARENT_KIND[command.kind]
    if expected is not None:
        if parent is None:
            raise Invalid(f"no place {command.parent_id!r} in {command.tenant}'s catalogue", field="parent_id")
        if parent.kind != expected:
            raise Invalid(f"a {command.kind.value} belongs in a {expected.value}, not a {parent.kind.value}", field="parent_id")
        if parent.retired:
            raise Invalid(f"place {command.parent_id!r} is retired", field="parent_id")
    return PlaceCatalogued.record(
        prev_hash=GENESIS_HASH,
        tenant=command.tenant,
        aggregate_id=command.place_id,
        actor=actor,
        event_id=event_id,
        occurred_at=now,
        **command.model_dump(exclude={"tenant", "place_id"}),
    )


def same_place(stored: PlaceCatalogued, command: CataloguePlace) -> bool:
    return stored.model_dump(include=set(command.model_dump(exclude={"tenant", "place_id"}))) == command.model_dump(
        exclude={"tenant", "place_id"}
    )


def place_in(history: History) -> Place | None:
    """A place as its own events have it (named by itself alone), None if never catalogued."""
    created = history.events[0].event if history.events else None
    if not isinstance(created, PlaceCatalogued):
        return None
    retired = recorded(history, PlaceRetired) is not None
    return Place(created.aggregate_id, created.kind, created.name, None, None, created.equipment_tag, retired)


def catalogue(history: History, command: CataloguePlace, *, parent: Place | None, actor: str, now: datetime) -> list[Event]:
    """The place to record; nothing when this very place is recorded already (a repeated
    request), a conflict when its id is already another place's."""
    if history.events:
        stored = history.events[0].event
        if not isinstance(stored, PlaceCatalogued) or not same_place(stored, command):
            raise DomainError(f"place id {command.place_id!r} is already used for another place", state="catalogued")
        return []
    event_id = stable_id(command.tenant, command.place_id, "catalogued")
    return [catalogue_place(command, parent=parent, actor=actor, event_id=event_id, now=now)]


def retire(history: History, *, tenant: str, place_id: str, reason: str, actor: str, now: datetime) -> list[Event]:
    """A place stops taking new reports, once."""
    if not history.events:
        raise NotFound(f"no place {place_id!r} in {tenant}'s catalogue")
    if recorded(history, PlaceRetired) is not None:
        raise DomainError(f"place {place_id!r} is already retired", state="retired")
    return [
        PlaceRetired.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=place_id, actor=actor, occurred_at=now, reason=reason
        )
    ]


# --- erasure: a reporter's identity key, a report's text key --------------------------------


def recorded(history: History, kind: type[E]) -> E | None:
    """The aggregate's first event of ``kind``, None if it has none."""
    return next((stored.event for stored in history.events if isinstance(stored.event, kind)), None)


def shred_reporter_key(history: History, *, tenant: str, reporter: str, reason: str, actor: str, now: datetime) -> list[Event]:
    """The reporter's erasure, recorded once: a repeat (finishing an interrupted one) records nothing."""
    if recorded(history, ReporterKeyShredded) is not None:
        return []
    return [
        ReporterKeyShredded.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=reporter, actor=actor, occurred_at=now, reason=reason,
            event_id=stable_id(tenant, reporter, "shredded"),
        )
    ]


def shred_report_text(
    history: History, *, tenant: str, report_id: str, reason: ShredReason, actor: str, now: datetime
) -> list[Event]:
    """The destruction of a report's text key, recorded once, whatever the reason."""
    if recorded(history, ReportTextShredded) is not None:
        return []
    return [
        ReportTextShredded.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=report_id, actor=actor, occurred_at=now, reason=reason,
            event_id=stable_id(tenant, report_id, "text-shredded"),
        )
    ]
