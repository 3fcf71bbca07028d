"""What intake's handlers work with: the event log, the key vault, the attachment store, its own store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nats.js import JetStreamContext

from hazardloop.media.attachments import AttachmentStore
from hazardloop.errors import Invalid
from hazardloop.events import AttachmentRef
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable
from hazardloop.privacy.identity import IdentityVault
from hazardloop.privacy.pseudonyms import PseudonymDirectory
from hazardloop.privacy.sealing import TextVault
from hazardloop.runtime.service import Runtime
from hazardloop_intake.forms import FormLinks
from hazardloop_intake.receipts import ReceiptCodes
from hazardloop_intake.settings import IntakeSettings

T = TypeVar("T")


@dataclass
class Intake:
    """Intake's adapters. The broker-bound ones exist once the service has connected."""

    settings: IntakeSettings
    receipts: ReceiptCodes
    links: FormLinks
    _runtime: Runtime | None = field(default=None, repr=False)
    _vault: IdentityVault | None = field(default=None, repr=False)
    _attachments: AttachmentStore | None = field(default=None, repr=False)

    async def connect(self, runtime: Runtime, js: JetStreamContext) -> None:
        """Set up the key and attachment buckets (the service's startup hook)."""
        settings = self.settings
        vault = IdentityVault(js, settings.keys.master_keys, bucket=settings.bucket("reporter-keys"), replicas=settings.stream_replicas)
        attachments = AttachmentStore(
            js, bucket=settings.bucket("attachments"), limits=settings.attachment_limits, replicas=settings.stream_replicas
        )
        await vault.ensure()
        await attachments.ensure()
        self._runtime, self._vault, self._attachments = runtime, vault, attachments

    def _connected(self) -> Runtime:
        if self._runtime is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self._runtime

    @property
    def store(self) -> EventStore:
        return self._connected().event_store()

    def directory(self) -> PseudonymDirectory:
        return self._connected().pseudonyms()

    @property
    def texts(self) -> TextVault:
        return self._connected().texts

    def vault(self) -> IdentityVault:
        self._connected()
        return self._vault

    def attachments(self) -> AttachmentStore:
        self._connected()
        return self._attachments

    async def attachment(self, tenant: str, digest: str, *, field: str) -> AttachmentRef:
        """A stored attachment of this subsidiary, or a 422 naming the field that points nowhere."""
        found = await self.attachments().find(tenant, digest)
        if found is None:
            raise Invalid(f"no uploaded attachment {digest[:12]}... in {tenant}; upload it first", field=field)
        return found

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read of intake's own store (call it through ``asyncio.to_thread``)."""
        with self._connected().engine.connect() as db:
            return query(db, *args, **kwargs)
