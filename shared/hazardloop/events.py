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


class Grade(StrEnum):
    GENERAL = "general"
    LARGER = "larger"
    MAJOR = "major"


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


class Verified(Event):
    """The safety department checked the report and graded it."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Verified"] = "Verified"
    outcome: Outcome
    grade: Grade | None = None
    comment: Note | None = None


class Rectified(Event):
    """The hazard was removed; ``measures`` says how."""

    aggregate_type: ClassVar[str] = "report"
    type: Literal["Rectified"] = "Rectified"
    measures: LongText


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


EVENT_TYPES: tuple[type[Event], ...] = (
    ReportFiled,
    Verified,
    Rectified,
    RewardGranted,
    RewardDeclined,
    PlaceCatalogued,
    PlaceRetired,
    IdentityDisclosed,
    ReporterKeyShredded,
)
AnyEvent = Annotated[
    ReportFiled
    | Verified
    | Rectified
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
