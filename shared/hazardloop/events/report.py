"""The report aggregate's first event, and what a report is made of."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from hazardloop.events.envelope import (
    AggregateId,
    EquipmentTag,
    Event,
    LongText,
    Note,
    PlaceName,
    Pseudonym,
    Sha256Hex,
    SpotName,
    Token,
    sealed,
)


class Category(StrEnum):
    """The four official categories of what to report."""

    UNSAFE_BEHAVIOUR = "unsafe_behaviour"
    UNSAFE_EQUIPMENT = "unsafe_equipment"
    UNSAFE_ENVIRONMENT = "unsafe_environment"
    MANAGEMENT_DEFECT = "management_defect"


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    HOTLINE = "hotline"
    VERBAL = "verbal"
    EMAIL = "email"


SUBTYPES: dict[Category, tuple[str, ...]] = {
    Category.UNSAFE_BEHAVIOUR: (
        "rule_violation",
        "ignored_safety_instruction",
        "no_protective_equipment",
        "ordered_rule_breaking",
        "unauthorised_procedure_change",
        "untrained_worker_assigned",
        "other",
    ),
    Category.UNSAFE_EQUIPMENT: (
        "missing_warning_sign",
        "safety_equipment_substandard",
        "safety_device_disabled_or_damaged",
        "monitoring_data_tampered",
        "other",
    ),
    Category.UNSAFE_ENVIRONMENT: (
        "no_permit_or_risk_assessment",
        "hazardous_work_without_measures",
        "other",
    ),
    Category.MANAGEMENT_DEFECT: (
        "major_hazard_unchecked",
        "no_responsibility_system",
        "no_training_plan",
        "no_emergency_plan_or_drill",
        "uncertified_special_operation",
        "unqualified_contractor",
        "illegal_subcontracting",
        "other",
    ),
}
"""Sub-types of each official category, from the national guidance on what to report."""


class Outcome(StrEnum):
    CONFIRMED_HAZARD = "confirmed_hazard"
    VALID_NOT_HAZARD = "valid_not_hazard"
    """A real safety issue that is not quite a hazard: still rewarded, a little."""
    NOT_CONFIRMED = "not_confirmed"
    DUPLICATE = "duplicate"
    """The same hazard as an earlier report: merged into it, each reporter's claim kept."""


class Grade(StrEnum):
    GENERAL = "general"
    """Fix immediately."""
    LARGER = "larger"
    """Fix within a set deadline."""
    MAJOR = "major"
    """Supervised rectification under a plan with the five fixed items."""


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class AttachmentRef(BaseModel):
    """A photo or video in the object store, named by the sha256 of its bytes.

    Events carry the reference, never the bytes: the log stays small and the digest
    proves which file the reporter sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    digest: Sha256Hex
    content_type: Annotated[str, StringConstraints(pattern=r"^(image|video)/[a-z0-9.+-]{1,40}$")]
    size: Annotated[int, Field(ge=1, strict=True)]
    kind: MediaKind
    thumbnail: Sha256Hex | None = None
    """Digest of a small JPEG preview (images only)."""


class Location(BaseModel):
    """Where the hazard is: names as they stood when it was reported, and the catalogue entry.

    ``place_id`` is the subsidiary's catalogued area or spot (absent on reports filed
    before the catalogue existed); the names are kept too, so a ledger printed years
    later shows the place as the reporter saw it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    site: PlaceName
    area: PlaceName
    spot: SpotName
    place_id: Token | None = None
    equipment_tag: EquipmentTag | None = None


class SealedIdentity(BaseModel):
    """A reporter's identity, encrypted before it enters the log.

    AES-256-GCM under the reporter's own data key (``key_id``), with the tenant and
    report id as associated data, so the ciphertext cannot be moved to another report.
    Erasing the data key leaves this unreadable for good (crypto-shredding).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: Literal["aes-256-gcm"] = "aes-256-gcm"
    key_id: Pseudonym
    nonce: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16}$")]
    ciphertext: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22,2000}$")]


class ReportFiled(Event):
    """An employee reported a hazard.

    The reporter appears as a pseudonym; a named reporter's identity travels only
    sealed. An anonymous report has no identity at all, only the digest of the receipt
    code its reporter was given.
    """

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ReportFiled"] = "ReportFiled"
    schema_version: Literal[2] = 2
    category: Category
    subtype: Token
    description: sealed(LongText, "What was seen.")
    location: Location
    observed_at: AwareDatetime
    reporter: Pseudonym
    anonymous: bool = False
    channel: Channel = Channel.WEB
    cause_analysis: sealed(Note, "The reporter's own cause analysis.") | None = None
    suggested_fix: sealed(Note, "The fix the reporter suggests.") | None = None
    emergency_action: sealed(Note, "Emergency action the reporter already took, if any.") | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    identity: SealedIdentity | None = None
    receipt_digest: Sha256Hex | None = None
    team: PlaceName | None = None
    """The reporter's workshop or shift team, as they gave it (named reports only): teams
    whose people report well are recognised too."""
    entered_by: Pseudonym | None = None
    """The safety officer who entered a hotline, verbal or e-mailed report."""
    possible_duplicate_of: AggregateId | None = None
    """An open report on the same spot or equipment and category, filed shortly before."""
    check_id: Annotated[AggregateId | None, Field(exclude_if=lambda value: value is None)] = None
    """The check elsewhere this report answers: the hazard was found here too. Left out
    when absent, so that reports filed before checks existed keep their hashes."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.subtype not in SUBTYPES[self.category]:
            raise ValueError(f"subtype {self.subtype!r} is not one of {self.category.value}'s")
        if self.anonymous and (self.identity is not None or self.receipt_digest is None):
            raise ValueError("an anonymous report carries a receipt digest and no identity")
        if self.anonymous and self.team is not None:
            raise ValueError("an anonymous report names no team: a small team could name the reporter")
        if not self.anonymous and self.receipt_digest is not None:
            raise ValueError("only anonymous reports carry a receipt digest")
        return self


class ShredReason(StrEnum):
    RETENTION = "retention"
    """The report closed longer ago than the retention period."""
    REPORTER_ERASURE = "reporter_erasure"
    """The reporter who filed it had their personal data erased."""


class ReportTextShredded(Event):
    """The report's text key was destroyed: every text sealed in its events is unreadable for
    good, in every replica and archive. Recorded before the key is destroyed."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ReportTextShredded"] = "ReportTextShredded"
    reason: ShredReason
