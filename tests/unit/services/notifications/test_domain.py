"""Notifications' pure rules: a directory document, entries' ids, the clocks' events."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hazardloop.events import PersonEntry
from hazardloop.log.eventstore import token
from hazardloop_notifications.domain import (
    DirectoryDocument,
    digest_due,
    digest_slot,
    entry_id,
    message_read,
    reminder_due,
)

NOW = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LISTED = [("person", "maint-wang"), ("person", "safety-li"), ("endpoint", "ops")]


def document(prune: bool) -> DirectoryDocument:
    return DirectoryDocument.model_validate({"people": [{"person": "maint-wang"}], "endpoints": [], "prune": prune})


def test_a_document_that_prunes_removes_exactly_what_it_does_not_list():
    assert document(prune=True).not_listed(LISTED) == [("person", "safety-li"), ("endpoint", "ops")]
    assert document(prune=False).not_listed(LISTED) == []  # without prune, a document only adds


def test_a_person_and_an_endpoint_of_the_same_name_are_two_entries():
    pruning = DirectoryDocument(people=[PersonEntry(person="ops")], prune=True)
    assert pruning.not_listed([("person", "ops"), ("endpoint", "ops")]) == [("endpoint", "ops")]
    assert entry_id("person", "ops") != entry_id("endpoint", "ops")


def test_every_name_gives_an_entry_id_the_log_can_file_it_under():
    assert entry_id("person", "maint-wang") == "person-maint-wang"  # readable where it can be
    for name in ("Wang Wei", "王伟", "a.b", "x*", "UPPER", "n" * 128):
        assert token(entry_id("person", name)) and len(entry_id("person", name)) <= 64
    assert entry_id("person", "Wang Wei") != entry_id("person", "Wang  Wei")


def test_the_digest_falls_due_at_its_time_each_day_and_a_missed_day_is_not_sent_late():
    at = time(8, 0)
    before = datetime(2026, 11, 3, 7, 59, tzinfo=SHANGHAI)
    assert digest_slot(before, at, SHANGHAI) == datetime(2026, 11, 2, 8, 0, tzinfo=SHANGHAI)
    assert digest_slot(before + timedelta(minutes=1), at, SHANGHAI) == datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)
    three_days_later = before + timedelta(days=3)
    assert digest_slot(three_days_later, at, SHANGHAI).date().isoformat() == "2026-11-05"


def test_a_digest_covers_the_day_before_its_slot_once_per_subsidiary_and_day():
    slot = datetime(2026, 11, 3, 8, 0, tzinfo=SHANGHAI)
    digest = digest_due("refinery", slot, now=NOW)
    assert (digest.day, digest.since, digest.aggregate_id) == ("2026-11-03", slot - timedelta(days=1), "d-2026-11-03")
    assert digest_due("refinery", slot, now=NOW + timedelta(hours=1)).event_id == digest.event_id
    assert digest_due("chemicals", slot, now=NOW).event_id != digest.event_id


def test_a_reminder_fires_once_per_deadline_and_lead():
    deadline = NOW + timedelta(days=2)

    def reminder(hours: int, deadline: datetime = deadline, now: datetime = NOW):
        return reminder_due("refinery", "r-1", owner="maint-wang", deadline=deadline, hours_before=hours, now=now)

    first = reminder(48)
    assert reminder(48, now=NOW + timedelta(minutes=5)).event_id == first.event_id  # found due again: the same
    assert reminder(24).event_id != first.event_id
    assert reminder(48, deadline=deadline + timedelta(days=3)).event_id != first.event_id  # an extension's deadline


def test_a_message_is_read_once_in_each_box():
    read = message_read("refinery", "@maint-wang", "m-1", reader="maint-wang", now=NOW)
    again = message_read("refinery", "@maint-wang", "m-1", reader="maint-wang", now=NOW + timedelta(hours=1))
    assert (again.event_id, again.aggregate_id) == (read.event_id, read.aggregate_id)
    assert message_read("refinery", "r-1", "m-1", reader="anonymous", now=NOW).aggregate_id != read.aggregate_id
