"""Event contracts: the envelope, every event of the log, the hash chain and upcasting.

Events are facts. They are frozen, carry no behaviour, and are never rewritten once
stored: an old ``schema_version`` is upcast on read, never edited in place.
"""

from __future__ import annotations

import hashlib
import re
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    model_validator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of an aggregate's first event."""

# Identifiers become NATS subject tokens: no dots, spaces or wildcards, ever.
Token = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
TenantId = Token
AggregateId = Token
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^p-[0-9a-f]{32}$")]
Fen = Annotated[int, Field(ge=0, le=100_000_000_00, strict=True)]
"""Money in integer fen (1 yuan = 100 fen); floats are rejected, never rounded."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed (tab and line breaks are)")
    return value


def _text(max_length: int, *, min_length: int = 0) -> Any:
    """Human-written text: trimmed, bounded, no control characters (databases refuse NUL)."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_printable),
    ]


PlaceName = _text(80, min_length=1)
EquipmentTag = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")]
"""A plant's equipment tag as painted on the equipment (``AT-2031``, ``P-101A``)."""
SpotName = _text(120, min_length=1)
LongText = _text(4000, min_length=1)
Note = _text(4000)


_NAMESPACE = uuid.UUID("6f1d3c2e-5b8a-4c1e-9a57-2d0f8e4b7a10")


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


class RiskColour(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


class RewardFactors(BaseModel):
    """The six axes along which the reward for a confirmed hazard differs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at_height: bool = False
    outside_patrol_area: bool = False
    """Outside the reporter's own routine patrol area."""
    high_risk: bool = False
    at_night: bool = False
    bad_weather: bool = False
    hard_to_handle: bool = False


class Audience(StrEnum):
    """Who an escalation step brings in."""

    OWNER = "owner"
    SAFETY_DEPARTMENT = "safety_department"
    SUBSIDIARY_LEADERSHIP = "subsidiary_leadership"
    GROUP_HQ = "group_hq"


class EscalationStep(BaseModel):
    """One rung of the ladder: so many days past the deadline, these people are told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_days: Annotated[int, Field(ge=0, le=365, strict=True)]
    notify: Annotated[tuple[Audience, ...], Field(min_length=1)]


PersonRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""A member of staff as their bearer token names them (their subject)."""


class RectificationPlan(BaseModel):
    """The five fixed items of a supervised rectification."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    responsible_person: PersonRef
    measures: LongText
    funds_fen: Fen
    deadline: AwareDatetime
    emergency_plan: LongText
    """What protects people in the meantime."""


class SlaClock(StrEnum):
    """The closed loop's clocks: accept the same day, verify within 3 days, feed back within 7."""

    ACCEPT = "accept"
    VERIFY = "verify"
    FEEDBACK = "feedback"


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


class Event(BaseModel):
    """The envelope every event carries; subclasses add the payload.

    ``hash`` is sha256 over the canonical JSON of every other field, and ``prev_hash``
    is the ``hash`` of the aggregate's previous event, so history cannot be edited,
    dropped or reordered without breaking the chain.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    aggregate_type: ClassVar[str]
    type: str
    schema_version: Literal[1] = 1
    """A class that changes its schema declares ``Literal[n] = n`` and registers an upcaster."""
    event_id: uuid.UUID
    occurred_at: AwareDatetime
    tenant: TenantId
    aggregate_id: AggregateId
    actor: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    prev_hash: Sha256Hex
    hash: Sha256Hex

    @classmethod
    def record(
        cls,
        *,
        prev_hash: str,
        tenant: str,
        aggregate_id: str,
        actor: str,
        event_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
        **payload: Any,
    ) -> Self:
        """Build a new event chained onto ``prev_hash``; the only way events are made."""
        event_id = event_id or uuid.uuid4()
        fields = {
            "type": cls.model_fields["type"].default,
            "schema_version": cls.model_fields["schema_version"].default,
            "event_id": event_id,
            "occurred_at": occurred_at or datetime.now(UTC),
            "tenant": tenant,
            "aggregate_id": aggregate_id,
            "actor": actor,
            "correlation_id": correlation_id or event_id,
            "causation_id": causation_id,
            "prev_hash": prev_hash,
            **payload,
        }
        unsealed = cls.model_validate({**fields, "hash": GENESIS_HASH})
        document = unsealed.model_dump(mode="json", exclude={"hash"})
        return unsealed.model_copy(update={"hash": chain_hash(document)})

    def caused(self) -> dict[str, Any]:
        """Envelope fields for an event that this one caused."""
        return {"correlation_id": self.correlation_id, "causation_id": self.event_id}

    def derived_id(self, purpose: str) -> uuid.UUID:
        """A stable id for the one event ``purpose`` produces in reaction to this one.

        A reaction retried after a crash produces the same id, so the broker drops it.
        """
        return uuid.uuid5(_NAMESPACE, f"{self.event_id}:{purpose}")


def stable_id(*parts: str) -> uuid.UUID:
    """A deterministic id from the given parts (for idempotent commands)."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts))


def canonical_json(document: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes a hash is taken over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(document: dict[str, Any]) -> str:
    """sha256 of an event's canonical JSON without its own ``hash`` field."""
    return hashlib.sha256(canonical_json({k: v for k, v in document.items() if k != "hash"})).hexdigest()


def hash_is_intact(document: dict[str, Any]) -> bool:
    """True when a stored event's ``hash`` matches its content."""
    return document.get("hash") == chain_hash(document)


# --- Report aggregate ---------------------------------------------------------------------


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
    description: LongText
    """What was seen."""
    location: Location
    observed_at: AwareDatetime
    reporter: Pseudonym
    anonymous: bool = False
    channel: Channel = Channel.WEB
    cause_analysis: Note | None = None
    suggested_fix: Note | None = None
    emergency_action: Note | None = None
    """Emergency action the reporter already took, if any."""
    attachments: tuple[AttachmentRef, ...] = ()
    identity: SealedIdentity | None = None
    receipt_digest: Sha256Hex | None = None
    entered_by: Pseudonym | None = None
    """The safety officer who entered a hotline, verbal or e-mailed report."""
    possible_duplicate_of: AggregateId | None = None
    """An open report on the same spot or equipment and category, filed shortly before."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.subtype not in SUBTYPES[self.category]:
            raise ValueError(f"subtype {self.subtype!r} is not one of {self.category.value}'s")
        if self.anonymous and (self.identity is not None or self.receipt_digest is None):
            raise ValueError("an anonymous report carries a receipt digest and no identity")
        if not self.anonymous and self.receipt_digest is not None:
            raise ValueError("only anonymous reports carry a receipt digest")
        return self


class Accepted(Event):
    """The safety department acknowledged the report: it is in hand."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Accepted"] = "Accepted"
    note: Note | None = None


class Verified(Event):
    """The safety department checked the report: the outcome and, for a hazard, its grading.

    A duplicate names the report it was merged into and which of the two was filed
    first, so the first reporter's claim survives the merge.
    """

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Verified"] = "Verified"
    schema_version: Literal[2] = 2
    outcome: Outcome
    grade: Grade | None = None
    risk_colour: RiskColour | None = None
    factors: RewardFactors | None = None
    within_routine_duties: bool = False
    """The finding lies within the reporter's own routine duties (rewarded less, or not)."""
    duplicate_of: AggregateId | None = None
    first_report_id: AggregateId | None = None
    """Of this report and the one it duplicates, the one filed first."""
    comment: Note | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        hazard = self.outcome == Outcome.CONFIRMED_HAZARD
        if hazard != (self.grade is not None) or hazard != (self.risk_colour is not None):
            raise ValueError("a confirmed hazard, and only one, carries a grade and a risk colour")
        if (self.outcome == Outcome.DUPLICATE) != (self.duplicate_of is not None and self.first_report_id is not None):
            raise ValueError("a duplicate, and only one, names the report it duplicates and the first filed")
        return self


class RectificationAssigned(Event):
    """An owner must remove the hazard by the deadline; a major hazard comes with its plan.

    The escalation ladder in force is copied in, so the timers this deadline starts
    are fixed by the log, whatever the policy becomes later.
    """

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationAssigned"] = "RectificationAssigned"
    owner: PersonRef
    deadline: AwareDatetime
    plan: RectificationPlan | None = None
    escalation: tuple[EscalationStep, ...] = ()


class ExtensionRequested(Event):
    """The rectification owner asked for more time, in writing."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionRequested"] = "ExtensionRequested"
    requested_deadline: AwareDatetime
    reason: LongText


class ExtensionGranted(Event):
    """A manager other than the requester approved the extension: the deadline moves."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionGranted"] = "ExtensionGranted"
    deadline: AwareDatetime
    comment: Note | None = None


class ExtensionRefused(Event):
    """A manager other than the requester refused the extension: the deadline stands."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExtensionRefused"] = "ExtensionRefused"
    reason: LongText


class Rectified(Event):
    """The hazard was removed: how, and the photos that show it."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Rectified"] = "Rectified"
    schema_version: Literal[2] = 2
    measures: LongText
    evidence: tuple[AttachmentRef, ...] = ()
    on_the_spot: bool = False
    """Fixed at verification, in the verifier's presence: the report closes at once."""


class RectificationAccepted(Event):
    """A verifier checked the rectification and closed the report."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationAccepted"] = "RectificationAccepted"
    comment: Note | None = None


class RectificationRejected(Event):
    """A verifier found the rectification wanting: back to the owner, the clock still running."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationRejected"] = "RectificationRejected"
    reason: LongText


class ReporterFedBack(Event):
    """The safety department told the reporter where their report stands."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ReporterFedBack"] = "ReporterFedBack"
    message: LongText


class SlaBreached(Event):
    """A step of the closed loop was not taken in time."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["SlaBreached"] = "SlaBreached"
    clock: SlaClock
    due_at: AwareDatetime


class RectificationOverdue(Event):
    """The rectification deadline passed with the hazard still there."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["RectificationOverdue"] = "RectificationOverdue"
    deadline: AwareDatetime
    owner: PersonRef


class EscalationRaised(Event):
    """A rung of the escalation ladder was reached for an overdue rectification."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["EscalationRaised"] = "EscalationRaised"
    step: Annotated[int, Field(ge=0, strict=True)]
    deadline: AwareDatetime
    due_at: AwareDatetime
    notify: tuple[Audience, ...]


class ExternallyEscalated(Event):
    """The reporter took their overdue report to the authorities; the system never hides it."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["ExternallyEscalated"] = "ExternallyEscalated"
    authority: PlaceName
    note: Note | None = None


# --- Place aggregate (the subsidiary's catalogue of sites, areas and spots) ---------------


class PlaceKind(StrEnum):
    SITE = "site"
    AREA = "area"
    """A unit, plant or area within a site."""
    SPOT = "spot"
    """A spot or a piece of equipment within an area."""


PARENT_KIND = {PlaceKind.SITE: None, PlaceKind.AREA: PlaceKind.SITE, PlaceKind.SPOT: PlaceKind.AREA}


class PlaceCatalogued(Event):
    """A place was added to the subsidiary's catalogue, so reports can name it."""

    aggregate_type: ClassVar[str] = "place"
    type: Literal["PlaceCatalogued"] = "PlaceCatalogued"
    kind: PlaceKind
    parent_id: Token | None = None
    name: PlaceName
    name_en: PlaceName | None = None
    equipment_tag: EquipmentTag | None = None


class PlaceRetired(Event):
    """A place no longer takes new reports (its history stays)."""

    aggregate_type: ClassVar[str] = "place"
    type: Literal["PlaceRetired"] = "PlaceRetired"
    reason: Annotated[str, StringConstraints(min_length=1, max_length=400)]


# --- Reporter aggregate (id: the pseudonym): who saw an identity, and its erasure ---------


class IdentityDisclosed(Event):
    """Someone entitled to it decrypted a reporter's identity; recorded before they see it."""

    aggregate_type: ClassVar[str] = "reporter"
    type: Literal["IdentityDisclosed"] = "IdentityDisclosed"
    report_id: AggregateId
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]
    role: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class ReporterKeyShredded(Event):
    """The reporter's data key was erased: their sealed identities are unreadable for good."""

    aggregate_type: ClassVar[str] = "reporter"
    type: Literal["ReporterKeyShredded"] = "ReporterKeyShredded"
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]


# --- Reward aggregate (one per report; its id is the report's id) --------------------------


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


# --- Casework policy (one aggregate per subsidiary, id ``casework``) ------------------------


class DeadlineDays(BaseModel):
    """Default rectification deadline per grade, in days from the assignment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    general: Annotated[int, Field(ge=0, le=365, strict=True)] = 1
    larger: Annotated[int, Field(ge=1, le=365, strict=True)] = 7
    major: Annotated[int, Field(ge=1, le=730, strict=True)] = 15


DEFAULT_LADDER = (
    EscalationStep(after_days=0, notify=(Audience.OWNER, Audience.SAFETY_DEPARTMENT)),
    EscalationStep(after_days=3, notify=(Audience.SUBSIDIARY_LEADERSHIP,)),
    EscalationStep(after_days=7, notify=(Audience.GROUP_HQ,)),
)


class CaseworkPolicy(BaseModel):
    """A subsidiary's clocks, default deadlines and escalation ladder."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Shanghai"
    """Where "the same day" is reckoned."""
    accept_within_hours: Annotated[int, Field(ge=1, le=168, strict=True)] | None = None
    """None: by the end of the day the report was filed (local time)."""
    verify_within_days: Annotated[int, Field(ge=1, le=60, strict=True)] = 3
    feedback_within_days: Annotated[int, Field(ge=1, le=60, strict=True)] = 7
    deadline_days: DeadlineDays = DeadlineDays()
    escalation: Annotated[tuple[EscalationStep, ...], Field(max_length=10)] = DEFAULT_LADDER
    recurrence_window_days: Annotated[int, Field(ge=0, le=3650, strict=True)] = 90
    """A new report on the same spot and category this soon after a closure is a recurrence."""

    @model_validator(mode="after")
    def _known_zone_and_rising_ladder(self) -> Self:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        days = [step.after_days for step in self.escalation]
        if days != sorted(set(days)):
            raise ValueError("escalation steps must come in strictly increasing after_days")
        return self


class CaseworkPolicySet(Event):
    """A subsidiary's casework policy changed; it applies to what happens from now on."""

    aggregate_type: ClassVar[str] = "policy"
    type: Literal["CaseworkPolicySet"] = "CaseworkPolicySet"
    policy: CaseworkPolicy


EVENT_TYPES: tuple[type[Event], ...] = (
    ReportFiled,
    Accepted,
    Verified,
    RectificationAssigned,
    ExtensionRequested,
    ExtensionGranted,
    ExtensionRefused,
    Rectified,
    RectificationAccepted,
    RectificationRejected,
    ReporterFedBack,
    SlaBreached,
    RectificationOverdue,
    EscalationRaised,
    ExternallyEscalated,
    CaseworkPolicySet,
    RewardGranted,
    RewardDeclined,
    PlaceCatalogued,
    PlaceRetired,
    IdentityDisclosed,
    ReporterKeyShredded,
)
AnyEvent = Annotated[
    ReportFiled
    | Accepted
    | Verified
    | RectificationAssigned
    | ExtensionRequested
    | ExtensionGranted
    | ExtensionRefused
    | Rectified
    | RectificationAccepted
    | RectificationRejected
    | ReporterFedBack
    | SlaBreached
    | RectificationOverdue
    | EscalationRaised
    | ExternallyEscalated
    | CaseworkPolicySet
    | RewardGranted
    | RewardDeclined
    | PlaceCatalogued
    | PlaceRetired
    | IdentityDisclosed
    | ReporterKeyShredded,
    Field(discriminator="type"),
]
_ANY_EVENT: TypeAdapter[Event] = TypeAdapter(AnyEvent)

# --- Upcasting -----------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(type, schema_version) -> a function that lifts a stored document one version up."""

def _report_filed_v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no sub-types: an old report's sub-type is ``other``."""
    return {**document, "schema_version": 2, "subtype": "other"}


UPCASTERS[("ReportFiled", 1)] = _report_filed_v1_to_v2

_COLOUR_OF_GRADE = {"general": "yellow", "larger": "orange", "major": "red"}


def _verified_v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 graded without a risk colour or factors: the grade's own colour, no factors."""
    grade = document.get("grade")
    extra = {"risk_colour": _COLOUR_OF_GRADE[grade], "factors": {}} if grade else {}
    return {**document, "schema_version": 2, **extra}


def _rectified_v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no evidence and no on-the-spot flag."""
    return {**document, "schema_version": 2}


UPCASTERS[("Verified", 1)] = _verified_v1_to_v2
UPCASTERS[("Rectified", 1)] = _rectified_v1_to_v2

_CURRENT_VERSION = {cls.model_fields["type"].default: cls.model_fields["schema_version"].default for cls in EVENT_TYPES}


def upcast(document: dict[str, Any]) -> dict[str, Any]:
    """Lift an old stored document to the current schema, one version at a time."""
    kind = document.get("type")
    while (step := UPCASTERS.get((kind, document.get("schema_version", 1)))) is not None:
        document = step(document)
    return document


def decode_event(data: bytes) -> Event:
    """Parse stored bytes into the current event model (upcasting old versions).

    Current documents validate straight from bytes; ``schema_version`` is a literal,
    so an old document can never pass as current and always takes the upcast path.
    """
    try:
        return _ANY_EVENT.validate_json(data)
    except ValidationError:
        document = json.loads(data)
        if document.get("schema_version", 1) == _CURRENT_VERSION.get(document.get("type")):
            raise
    return _ANY_EVENT.validate_python(upcast(document))


def encode_event(event: Event) -> bytes:
    return event.model_dump_json().encode()


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every event, keyed by event type, for subscribers."""
    return {cls.model_fields["type"].default: cls.model_json_schema(mode="serialization") for cls in EVENT_TYPES}
