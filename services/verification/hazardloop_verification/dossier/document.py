"""A report's dossier as data: its full timeline read from the log, with the proof checked.

It is read from the log itself, not from a read model, and shows the reporter only by
pseudonym: sealed identities, receipt digests and the reporter's team never leave the
service. Each entry carries its hash and the previous one's, and the seals over the
report's entries are checked against the log, so the document proves itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nats.js import JetStreamContext
from pydantic import BaseModel

from hazardloop.events import Language
from hazardloop.log.eventstore import EventStore, StoredEvent
from hazardloop.media.attachments import AttachmentStore
from hazardloop.privacy.sealing import ERASED_API, TextVault, as_tokens
from hazardloop.timing.clock import Clock
from hazardloop.web.labels import label
from hazardloop_verification.dossier.page import DossierPage, dossier_page
from hazardloop_verification.dossier.proof import SealProof, chain_intact, seals_over

WITHHELD = frozenset(
    {"identity", "receipt_digest", "team", "prev_hash", "hash", "tenant", "aggregate_id", "schema_version", "correlation_id", "causation_id"}
)
"""Never in a dossier's details: who the reporter is (sealed identity, receipt, team) and the envelope."""


class DossierEntry(BaseModel):
    sequence: int
    type: str
    occurred_at: datetime
    actor: str
    event_id: str
    hash: str
    prev_hash: str = ""
    """The hash of the report's previous entry (zeros for the first): the chain, for anyone to re-check."""
    intact: bool = True
    """This entry matches its own hash and follows the previous one."""
    details: dict[str, Any]


class Dossier(BaseModel):
    report_id: str
    tenant: str
    generated_at: datetime
    chain_intact: bool
    """Every event's ``prev_hash`` is the hash of the one before it."""
    entries: list[DossierEntry]
    seals: list[SealProof] = []
    """The seals over the report's entries, each checked against the log (none before the first seal)."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A report's history as the log holds it, and what checking it found."""

    events: tuple[StoredEvent, ...]
    intact: list[bool]
    seals: list[SealProof]


@dataclass(frozen=True)
class Dossiers:
    """Reads reports' dossiers from the log: the events, the seals over them, the photos."""

    store: EventStore
    js: JetStreamContext
    """The broker, for reading a sealed range of the log back."""
    texts: TextVault
    attachments: AttachmentStore
    clock: Clock
    zone: ZoneInfo
    """Where the printed page's times are local."""

    async def _checked(self, tenant: str, report_id: str) -> Checked:
        events = (await self.store.load(tenant, "report", report_id)).events
        return Checked(events, chain_intact(events), await seals_over(self.store, self.js, events))

    async def document(self, tenant: str, report_id: str) -> Dossier:
        """The report's timeline as data, its texts opened once the chain was checked over their ciphertext."""
        checked = await self._checked(tenant, report_id)
        entries = []
        for stored, whole in zip(checked.events, checked.intact, strict=True):
            event = stored.event
            document = event.model_dump(mode="json", exclude=set(WITHHELD) | {"type", "event_id", "occurred_at", "actor"})
            entries.append(
                DossierEntry(
                    sequence=stored.sequence,
                    type=event.type,
                    occurred_at=event.occurred_at,
                    actor=event.actor,
                    event_id=str(event.event_id),
                    hash=event.hash,
                    prev_hash=event.prev_hash,
                    intact=whole,
                    details={k: v for k, v in document.items() if v not in (None, [], {})},
                )
            )
        dossier = Dossier(
            report_id=report_id,
            tenant=tenant,
            generated_at=self.clock.now(),
            chain_intact=all(checked.intact),
            entries=entries,
            seals=checked.seals,
        )
        return Dossier.model_validate(await self.texts.reveal(as_tokens(tenant, dossier.model_dump()), erased=ERASED_API))

    async def page(self, tenant: str, report_id: str, language: Language) -> DossierPage:
        """The report's timeline as a document for the authorities, in ``language``."""
        checked = await self._checked(tenant, report_id)
        opened = await self.texts.open_events(tenant, [s.event for s in checked.events], erased=label("erased_text", language))
        events = [dataclasses.replace(s, event=e) for s, e in zip(checked.events, opened, strict=True)]  # chains checked above
        return await dossier_page(
            report_id=report_id,
            tenant=tenant,
            events=events,
            intact=checked.intact,
            seals=checked.seals,
            attachments=self.attachments,
            language=language,
            zone=self.zone,
            now=self.clock.now(),
        )
