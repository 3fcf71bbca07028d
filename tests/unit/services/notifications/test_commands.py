"""Notifications' command handlers on the in-memory event log: what each records, that
repeating a command records nothing more, and what the loser of a race is told."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.errors import DomainError, NotFound
from hazardloop.events import (
    GENESIS_HASH,
    SEALING,
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    EndpointEntry,
    Event,
    NotificationSent,
    PersonEntry,
    SealedText,
)
from hazardloop.log.eventstore import History
from hazardloop.testing import InMemoryEventStore
from hazardloop_notifications import commands
from hazardloop_notifications.domain import DirectoryDocument, Outgoing, digest_due, entry_id, reminder_due

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
TENANT = "refinery"
WANG = PersonEntry(person="maint-wang", email="wang@refinery.example", roles=("safety_department",))
OPS = EndpointEntry(endpoint="ops", url="https://hooks.example/ops", roles=("safety_department",))


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


class Rivalled(InMemoryEventStore):
    """A log where, once, a rival's event lands between a command's reading an aggregate
    and its appending: the command read a history that is already out of date."""

    def __init__(self, rival: Callable[[History], Event]) -> None:
        super().__init__()
        self._rival: Callable[[History], Event] | None = rival

    async def load(self, tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        history = await super().load(tenant, aggregate_type, aggregate_id)
        if self._rival is not None:
            rival, self._rival = self._rival, None
            await self.append(rival(history), expected_version=history.version)
        return history


async def logged(store: InMemoryEventStore, aggregate_type: str, aggregate_id: str) -> list[Event]:
    return [stored.event for stored in (await store.load(TENANT, aggregate_type, aggregate_id)).events]


# --- the directory ---------------------------------------------------------------------------


async def test_an_entry_is_set_once_and_again_only_when_it_changes(store):
    assert await commands.set_entry(store, TENANT, WANG, actor="manager", now=NOW)
    assert not await commands.set_entry(store, TENANT, WANG, actor="manager", now=NOW)
    moved = WANG.model_copy(update={"email": "wang@elsewhere.example"})
    assert await commands.set_entry(store, TENANT, moved, actor="manager", now=NOW)
    first, second = await logged(store, "directory", entry_id("person", "maint-wang"))
    assert (first.entry, second.entry) == (WANG, moved) and second.prev_hash == first.hash
    assert (await commands.directory_entry(store, TENANT, "person", "maint-wang")).entry == moved


async def test_an_entry_is_removed_once_and_removing_what_is_not_there_is_not_found(store):
    await commands.set_entry(store, TENANT, OPS, actor="manager", now=NOW)
    assert await commands.remove_entry(store, TENANT, "endpoint", "ops", actor="manager", now=NOW)
    assert (await commands.directory_entry(store, TENANT, "endpoint", "ops")).entry is None
    with pytest.raises(NotFound):
        await commands.remove_entry(store, TENANT, "endpoint", "ops", actor="manager", now=NOW)
    with pytest.raises(NotFound):
        await commands.remove_entry(store, TENANT, "person", "nobody", actor="manager", now=NOW)
    assert not await commands.remove_entry(store, TENANT, "person", "nobody", actor="manager", now=NOW, missing_ok=True)


async def test_setting_an_entry_someone_set_the_same_meanwhile_records_nothing_more():
    def rival(history: History) -> Event:
        return DirectoryEntrySet.record(
            prev_hash=history.last_hash, tenant=TENANT, aggregate_id=entry_id("person", "maint-wang"), actor="other", occurred_at=NOW, entry=WANG
        )

    store = Rivalled(rival)
    assert not await commands.set_entry(store, TENANT, WANG, actor="manager", now=NOW)
    assert [e.actor for e in await logged(store, "directory", entry_id("person", "maint-wang"))] == ["other"]


async def test_of_two_removing_the_same_entry_the_second_hears_it_is_gone():
    def removed_meanwhile(history: History) -> Event:
        return DirectoryEntryRemoved.record(
            prev_hash=history.last_hash, tenant=TENANT, aggregate_id=entry_id("person", "maint-wang"), actor="other",
            occurred_at=NOW, kind="person", name="maint-wang",
        )

    store = Rivalled(removed_meanwhile)
    listed = DirectoryEntrySet.record(
        prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=entry_id("person", "maint-wang"), actor="manager", occurred_at=NOW, entry=WANG
    )
    await store.append(listed, expected_version=0)
    with pytest.raises(NotFound):
        await commands.remove_entry(store, TENANT, "person", "maint-wang", actor="manager", now=NOW)
    assert [e.actor for e in await logged(store, "directory", entry_id("person", "maint-wang"))] == ["manager", "other"]


async def test_a_directory_document_sets_what_it_lists_and_loading_it_again_adds_nothing(store):
    document = DirectoryDocument(people=[WANG], endpoints=[OPS])
    assert await commands.load_directory(store, TENANT, document, actor="file", now=NOW) == {
        "entries": 2, "changed": 2, "unchanged": 0, "removed": 0,
    }
    assert await commands.load_directory(store, TENANT, document, actor="file", now=NOW) == {
        "entries": 2, "changed": 0, "unchanged": 2, "removed": 0,
    }


async def test_a_pruning_document_removes_what_it_lacks_even_when_the_listing_lags(store):
    for entry in (WANG, OPS, PersonEntry(person="safety-li")):
        await commands.set_entry(store, TENANT, entry, actor="manager", now=NOW)
    await commands.remove_entry(store, TENANT, "person", "safety-li", actor="manager", now=NOW)
    listed = [("person", "maint-wang"), ("person", "safety-li"), ("endpoint", "ops")]  # the read model has not seen the removal
    pruning = DirectoryDocument(people=[WANG], prune=True)
    assert await commands.load_directory(store, TENANT, pruning, actor="file", now=NOW, listed=listed) == {
        "entries": 1, "changed": 0, "unchanged": 1, "removed": 1,
    }
    assert (await commands.directory_entry(store, TENANT, "endpoint", "ops")).entry is None
    assert (await commands.directory_entry(store, TENANT, "person", "maint-wang")).entry == WANG


# --- deliveries ------------------------------------------------------------------------------

SOURCE = str(uuid.uuid4())


def outgoing(key: str = "k-1", *, channel: str = "webhook", report_id: str | None = "r-1") -> Outgoing:
    return Outgoing(key=key, tenant=TENANT, kind="new_report", channel=channel, recipient="endpoint:ops", report_id=report_id, source_event_id=SOURCE)


class Texts:
    """Seals as the text vault does, under the report's key id (without any key: the
    sealing itself is the vault's business, tested with it)."""

    @contextlib.asynccontextmanager
    async def sealing(self, tenant: str, report_id: str):
        def seal(text: str) -> SealedText:
            tagged = text.encode() + bytes(16)  # as long as AES-GCM makes it
            return SealedText(key_id=report_id, nonce="n" * 16, ciphertext=base64.urlsafe_b64encode(tagged).decode().rstrip("="))

        token = SEALING.set(seal)
        try:
            yield
        finally:
            SEALING.reset(token)


async def test_a_delivery_is_recorded_sent_once(store):
    assert await commands.record_sent(store, outgoing(), attempts=2, now=NOW)
    assert not await commands.record_sent(store, outgoing(), attempts=3, now=NOW + timedelta(minutes=1))
    [sent] = await logged(store, "delivery", "k-1")
    assert isinstance(sent, NotificationSent) and sent.attempts == 2 and str(sent.causation_id) == SOURCE
    assert (await commands.delivery(store, TENANT, "k-1")).state == "sent"


async def test_a_delivery_is_dead_lettered_once_and_never_after_it_was_sent(store):
    assert await commands.dead_letter(store, outgoing(), attempts=3, error="HTTP 503: down", now=NOW)
    assert not await commands.dead_letter(store, outgoing(), attempts=3, error="HTTP 503: down", now=NOW)
    [failed] = await logged(store, "delivery", "k-1")
    assert (failed.type, failed.attempts, failed.error) == ("NotificationFailed", 3, "HTTP 503: down")
    await commands.record_sent(store, outgoing("k-2"), attempts=1, now=NOW)
    assert not await commands.dead_letter(store, outgoing("k-2"), attempts=3, error="late", now=NOW)


async def test_a_message_sent_while_another_sender_dead_lettered_it_is_still_recorded_sent():
    store = Rivalled(lambda history: outgoing().failed(prev_hash=history.last_hash, round=0, attempts=3, error="gave up", now=NOW))
    assert await commands.record_sent(store, outgoing(), attempts=1, now=NOW)
    assert [e.type for e in await logged(store, "delivery", "k-1")] == ["NotificationFailed", "NotificationSent"]


async def test_only_a_dead_lettered_delivery_is_retried_and_each_retry_starts_a_round(store):
    with pytest.raises(DomainError) as pending:
        await commands.retry_delivery(store, Texts(), TENANT, "k-1", report_id="r-1", actor="ops-1", now=NOW)
    assert (pending.value.status_code, pending.value.state) == (409, "pending")

    await commands.dead_letter(store, outgoing(), attempts=3, error="down", now=NOW)
    retried = await commands.retry_delivery(store, Texts(), TENANT, "k-1", report_id="r-1", actor="ops-1", now=NOW, comment="fixed")
    assert isinstance(retried.comment, SealedText) and retried.comment.key_id == "r-1"  # sealed under the message's report
    with pytest.raises(DomainError) as again:
        await commands.retry_delivery(store, Texts(), TENANT, "k-1", report_id="r-1", actor="ops-1", now=NOW)
    assert again.value.state == "pending"

    assert await commands.dead_letter(store, outgoing(), attempts=3, error="down again", now=NOW)  # a new round
    await commands.retry_delivery(store, Texts(), TENANT, "k-1", report_id="r-1", actor="ops-1", now=NOW)
    assert await commands.record_sent(store, outgoing(), attempts=1, now=NOW)
    types = [e.type for e in await logged(store, "delivery", "k-1")]
    assert types == ["NotificationFailed", "NotificationRetried", "NotificationFailed", "NotificationRetried", "NotificationSent"]
    with pytest.raises(DomainError) as sent:
        await commands.retry_delivery(store, Texts(), TENANT, "k-1", report_id="r-1", actor="ops-1", now=NOW)
    assert sent.value.state == "sent"


async def test_a_retried_message_about_no_report_keeps_its_comment_unsealed(store):
    digest = outgoing("k-9", report_id=None)
    await commands.dead_letter(store, digest, attempts=3, error="down", now=NOW)
    retried = await commands.retry_delivery(store, Texts(), TENANT, "k-9", report_id=None, actor="ops-1", now=NOW, comment="fixed")
    assert retried.comment == "fixed"


async def test_inbox_messages_are_recorded_delivered_once(store):
    messages = [outgoing(f"k-{n}", channel="inbox") for n in range(3)]
    assert await commands.record_inbox_deliveries(store, messages, now=NOW) == 3
    await commands.record_inbox_deliveries(store, messages, now=NOW + timedelta(seconds=5))  # a restart before it noted them
    for message in messages:
        [sent] = await logged(store, "delivery", message.key)
        assert sent.type == "NotificationSent" and sent.attempts == 1


# --- reading and the clocks ------------------------------------------------------------------


async def test_a_message_is_marked_read_once(store):
    unread = [commands.Unread(TENANT, "@maint-wang", "m-1", "maint-wang"), commands.Unread(TENANT, "r-1", "m-1", "anonymous")]
    assert await commands.mark_read(store, unread, now=NOW) == 2
    assert await commands.mark_read(store, unread[:1], now=NOW + timedelta(minutes=1)) == 0
    assert await commands.mark_read(store, [], now=NOW) == 0


async def test_reminders_and_digests_fire_once_however_often_they_are_found_due(store):
    deadline = NOW + timedelta(days=2)
    due = [
        reminder_due(TENANT, "r-1", owner="maint-wang", deadline=deadline, hours_before=48, now=NOW),
        digest_due(TENANT, NOW, now=NOW),
    ]
    assert await commands.fire(store, due) == 2
    await commands.fire(store, due)
    reminder, digest = due
    assert len(await logged(store, "reminder", reminder.aggregate_id)) == 1
    assert len(await logged(store, "digest", digest.aggregate_id)) == 1
