"""The envelope every event carries, the hash chain, and the field types events share.

Events are facts. They are frozen, carry no behaviour, and are never rewritten once
stored: an old ``schema_version`` is upcast on read, never edited in place.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
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


class SealedText(BaseModel):
    """Free text that may be personal, encrypted before it enters the log.

    AES-256-GCM under the text key of one report (``key_id``), with the tenant and report
    as associated data. The hash chain covers the ciphertext, so chains verify without
    keys and after the key is gone; destroying the report's text key
    (``ReportTextShredded``) erases the text from every replica and archive without
    rewriting the log. Subscribers holding the subsidiary's master key open it with the
    key from the text-keys bucket.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: Literal["aes-256-gcm"] = "aes-256-gcm"
    key_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    """The report whose text key sealed it."""
    nonce: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16}$")]
    ciphertext: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22,24000}$")]


SEALING: ContextVar[Callable[[str], SealedText] | None] = ContextVar("hazardloop_sealing", default=None)
"""Set while a producer decides on one report (``hazardloop.privacy.sealing.TextVault.sealing``):
text given to a sealed field is then sealed as the event is made, so the hash covers
the ciphertext. Unset (decoding, tests of contracts), text stays as given."""


def sealed(text: Any, what: str) -> Any:
    """A field of free text that may be personal: sealed in the log (``SealedText``).

    Events recorded before sealing carry the text itself: the log is never rewritten, so
    they keep it (documented in docs/sealed-text.md)."""
    plain = TypeAdapter(text)

    def seal_in_context(value: Any) -> Any:
        if isinstance(value, str):
            value = plain.validate_python(value)
            seal = SEALING.get()
            if seal is not None and value:
                return seal(value)
        return value

    return Annotated[
        SealedText | text,
        BeforeValidator(seal_in_context),
        Field(description=f"{what} Sealed (SealedText); plain text only in events recorded before text was sealed."),
    ]


PersonRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""A member of staff as their bearer token names them (their subject)."""


STABLE_ID_NAMESPACE = uuid.UUID("6f1d3c2e-5b8a-4c1e-9a57-2d0f8e4b7a10")
"""The namespace of every name-based id the services derive (``stable_id``)."""


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
        return uuid.uuid5(STABLE_ID_NAMESPACE, f"{self.event_id}:{purpose}")


def stable_id(*parts: str) -> uuid.UUID:
    """A deterministic id from the given parts (for idempotent commands)."""
    return uuid.uuid5(STABLE_ID_NAMESPACE, "\x1f".join(parts))


def canonical_json(document: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes a hash is taken over."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(document: dict[str, Any]) -> str:
    """sha256 of an event's canonical JSON without its own ``hash`` field."""
    return hashlib.sha256(canonical_json({k: v for k, v in document.items() if k != "hash"})).hexdigest()


def hash_is_intact(document: dict[str, Any]) -> bool:
    """True when a stored event's ``hash`` matches its content."""
    return document.get("hash") == chain_hash(document)
