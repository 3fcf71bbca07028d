"""Intake's adapters kept in this process: the command handlers run on them without a broker.

The key vaults are the real ones, sealing and opening with real keys; only where their
data keys live differs (a dict instead of the broker's key-value bucket). The pseudonym
directory and the attachment store are dicts with the same answers.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, StaticPool, create_engine

from hazardloop.events import AttachmentRef, Event
from hazardloop.log.eventstore import AggregateStore
from hazardloop.privacy.identity import IdentityVault
from hazardloop.privacy.keyvault import KeyVault
from hazardloop.privacy.pseudonyms import random_pseudonym
from hazardloop.privacy.sealing import TextVault
from hazardloop.projections.writer import Writer
from hazardloop_intake.adapters import Connected, Intake
from hazardloop_intake.forms import FormLinks
from hazardloop_intake.projection import projection
from hazardloop_intake.receipts import ReceiptCodes
from hazardloop_intake.settings import IntakeSettings
from hazardloop_intake.store import metadata

MASTER = [b"m" * 32]


class KeysInProcess(KeyVault):
    """Data keys in a dict; erasing one forgets it, as purging the bucket does."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept: dict[tuple[str, str], bytes] = {}

    async def data_key(self, tenant: str, key_id: str, *, create: bool, new: bool = False) -> bytes | None:
        if create and (tenant, key_id) not in self.kept:
            self.kept[(tenant, key_id)] = AESGCM.generate_key(bit_length=256)
        return self.kept.get((tenant, key_id))

    async def shred(self, tenant: str, key_id: str) -> None:
        self.kept.pop((tenant, key_id), None)


class Texts(TextVault, KeysInProcess):
    def __init__(self) -> None:
        super().__init__(None, lambda tenant: MASTER, bucket="text-keys")


class Identities(IdentityVault, KeysInProcess):
    def __init__(self) -> None:
        super().__init__(None, lambda tenant: MASTER, bucket="reporter-keys")


class Directory:
    """Person to pseudonym, a random one on first use; erasable."""

    def __init__(self) -> None:
        self.people: dict[tuple[str, str], str] = {}

    async def assign(self, tenant: str, subject: str) -> str:
        return self.people.setdefault((tenant, subject), random_pseudonym())

    async def find(self, tenant: str, subject: str) -> str | None:
        return self.people.get((tenant, subject))

    async def find_all(self, tenants: list[str], subject: str) -> list[str]:
        return [found for tenant in tenants if (found := await self.find(tenant, subject)) is not None]

    async def forget(self, tenant: str, pseudonym: str) -> bool:
        people = [person for person, assigned in self.people.items() if person[0] == tenant and assigned == pseudonym]
        for person in people:
            del self.people[person]
        return bool(people)


class Attachments:
    """The uploads a report may cite, by subsidiary and digest."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], AttachmentRef] = {}

    def upload(self, tenant: str, digest: str) -> AttachmentRef:
        ref = AttachmentRef(digest=digest, content_type="image/jpeg", size=1024, kind="image")
        self.stored[(tenant, digest)] = ref
        return ref

    async def find(self, tenant: str, digest: str) -> AttachmentRef | None:
        return self.stored.get((tenant, digest))


def intake_in_process(store: AggregateStore) -> Intake:
    """Intake on ``store``, its own read model an in-memory SQLite database (one
    connection, shared by the threads its reads run in)."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(engine)
    settings = IntakeSettings()
    connected = Connected(store, Texts(), Directory(), Identities(), Attachments(), engine)
    return Intake(settings, ReceiptCodes(b"r" * 32), FormLinks(b"f" * 32, settings.form_base_url), connected)


def project(engine: Engine, *events: Event) -> None:
    """Let intake's projection take ``events`` in, as it does from the log (passing over
    those it keeps nothing of)."""
    handlers = projection(None).handlers  # type: ignore[arg-type]  # the store is not used
    with engine.begin() as connection:
        for event in events:
            if (handler := handlers.get(type(event))) is not None:
                db = Writer(connection)
                handler(event, db)
                db.flush()
