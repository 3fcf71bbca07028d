"""What intake's handlers work with: the event log, the key vaults, the attachment store, its own store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nats.js import JetStreamContext
from sqlalchemy import Engine

from hazardloop.errors import Invalid
from hazardloop.events import AttachmentRef
from hazardloop.log.eventstore import AggregateStore, EventStoreUnavailable
from hazardloop.media.attachments import AttachmentStore
from hazardloop.privacy.identity import IdentityVault
from hazardloop.privacy.pseudonyms import PseudonymDirectory
from hazardloop.privacy.sealing import TextVault
from hazardloop.runtime.service import Runtime
from hazardloop_intake.forms import FormLinks
from hazardloop_intake.receipts import ReceiptCodes
from hazardloop_intake.settings import IntakeSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Connected:
    """The adapters that exist once the service has connected to the broker."""

    store: AggregateStore
    texts: TextVault
    directory: PseudonymDirectory
    vault: IdentityVault
    attachments: AttachmentStore
    engine: Engine
    """Intake's own store (its read model)."""


@dataclass
class Intake:
    """Intake's adapters: the settings' keys now, the broker-bound ones once connected."""

    settings: IntakeSettings
    receipts: ReceiptCodes
    links: FormLinks
    connected: Connected | None = None

    async def connect(self, runtime: Runtime, js: JetStreamContext) -> None:
        """Set up the key and attachment buckets, and take the runtime's log, text vault and
        directory along (the service's startup hook)."""
        settings = self.settings
        vault = IdentityVault(js, settings.keys.master_keys, bucket=settings.bucket("reporter-keys"), replicas=settings.stream_replicas)
        attachments = AttachmentStore(
            js, bucket=settings.bucket("attachments"), limits=settings.attachment_limits, replicas=settings.stream_replicas
        )
        await vault.ensure()
        await attachments.ensure()
        self.connected = Connected(runtime.event_store(), runtime.texts, runtime.pseudonyms(), vault, attachments, runtime.engine)

    def _parts(self) -> Connected:
        if self.connected is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self.connected

    @property
    def store(self) -> AggregateStore:
        return self._parts().store

    def directory(self) -> PseudonymDirectory:
        return self._parts().directory

    @property
    def texts(self) -> TextVault:
        return self._parts().texts

    def vault(self) -> IdentityVault:
        return self._parts().vault

    def attachments(self) -> AttachmentStore:
        return self._parts().attachments

    async def attachment(self, tenant: str, digest: str, *, field: str) -> AttachmentRef:
        """A stored attachment of this subsidiary, or a 422 naming the field that points nowhere."""
        found = await self.attachments().find(tenant, digest)
        if found is None:
            raise Invalid(f"no uploaded attachment {digest[:12]}... in {tenant}; upload it first", field=field)
        return found

    def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read of intake's own store (call it through ``asyncio.to_thread``)."""
        with self._parts().engine.connect() as db:
            return query(db, *args, **kwargs)
