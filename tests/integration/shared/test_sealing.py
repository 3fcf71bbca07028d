"""Sealed free text on a real nats-server: sealed as events are made, opened only with the
report's live text key, erased for good when the key is destroyed."""

import os
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import pytest

from hazardloop.events import GENESIS_HASH, Accepted, SealedText, decode_event, encode_event, hash_is_intact
from hazardloop.privacy.sealing import ERASED, TextVault, forget, holds_sealed, text_token, withheld

WORDS = "Zhang San told me to skip the permit"


@dataclass(frozen=True)
class Paged:
    """A page's rows as a page module hands them to its template."""

    rows: list[dict]


@pytest.fixture
def master_keys() -> dict[str, list[bytes]]:
    return {"refinery": [os.urandom(32)], "mine": [os.urandom(32)]}


@pytest.fixture
async def vault(nc: nats.NATS, stream_names: tuple[str, str], master_keys: dict[str, list[bytes]]) -> TextVault:
    vault = TextVault(nc.jetstream(timeout=2), master_keys.__getitem__, bucket=f"{stream_names[0]}-text-keys", cached_keys=2)
    await vault.ensure()
    return vault


def accepted(report_id: str, note: str | None) -> Accepted:
    return Accepted.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id=report_id, actor="safety-li", occurred_at=datetime.now(UTC), note=note
    )


async def test_text_given_to_an_event_made_while_sealing_is_in_the_log_only_as_ciphertext(vault: TextVault):
    async with vault.sealing("refinery", "report-1"):
        event = accepted("report-1", WORDS)
    stored = encode_event(event)
    assert isinstance(event.note, SealedText) and event.note.key_id == "report-1"
    assert b"Zhang" not in stored and b"permit" not in stored
    assert hash_is_intact(event.model_dump(mode="json"))  # the chain covers the ciphertext
    again = decode_event(stored)
    assert again == event and await vault.open("refinery", again.note) == WORDS
    assert accepted("report-1", WORDS).note == WORDS  # outside sealing (a test, an old event): as given


async def test_projections_keep_a_token_that_opens_with_the_key_and_erases_with_it(vault: TextVault, nc: nats.NATS):
    async with vault.sealing("refinery", "report-2"):
        event = accepted("report-2", WORDS)
    token = text_token("refinery", event.note)
    assert WORDS not in token
    assert await vault.reveal({"rows": [{"note": token, "place": "bay 3"}]}) == {"rows": [{"note": WORDS, "place": "bay 3"}]}
    page, plain = Paged(rows=[{"note": token}]), Paged(rows=[{"note": "plain"}])
    assert await vault.reveal([page, plain]) == [Paged(rows=[{"note": WORDS}]), plain] and page.rows[0]["note"] == token
    assert holds_sealed(page) and not holds_sealed(plain)
    assert withheld(token, "(sealed)") == "(sealed)" and withheld("plain", "(sealed)") == "plain"

    await vault.shred("refinery", "report-2")
    await vault.shred("refinery", "report-2")  # idempotent
    assert await vault.reveal([token, ERASED, "plain"], erased="（内容已删除）") == ["（内容已删除）", "（内容已删除）", "plain"]
    assert forget({"reason": token, "other": "x"}, "report-2") == {"reason": ERASED, "other": "x"}
    assert forget(token, "report-9") == token

    async with vault.sealing("refinery", "report-2"):  # a text written after the erasure gets a new key
        later = accepted("report-2", "a later note")
    assert await vault.reveal([token, text_token("refinery", later.note)]) == ["(erased)", "a later note"]


async def test_a_ciphertext_moved_to_another_report_or_tenant_does_not_open(vault: TextVault):
    async with vault.sealing("refinery", "report-3"):
        event = accepted("report-3", WORDS)
    async with vault.sealing("refinery", "report-4"):
        pass
    moved = event.note.model_copy(update={"key_id": "report-4"})
    assert await vault.open("refinery", moved) == "(erased)"
    assert await vault.open("mine", event.note) == "(erased)"


async def test_keys_are_cached_per_report_and_bounded(vault: TextVault, nc: nats.NATS, stream_names):
    tokens = []
    for n in range(3):
        async with vault.sealing("refinery", f"cached-{n}"):
            tokens.append(text_token("refinery", accepted(f"cached-{n}", f"text {n}").note))
    assert await vault.reveal(tokens) == ["text 0", "text 1", "text 2"]
    assert len(vault._cache) == 2  # noqa: SLF001 - the bound is the point

    other = TextVault(nc.jetstream(timeout=2), lambda _: [os.urandom(32)], bucket=f"{stream_names[0]}-text-keys")
    with pytest.raises(Exception, match="no master key"):
        await other.reveal(tokens[:1])


async def test_a_new_reports_key_is_made_once_whichever_process_makes_it_and_a_retry_keeps_it(
    vault: TextVault, nc: nats.NATS, stream_names: tuple[str, str], master_keys: dict[str, list[bytes]]
):
    """Filing makes the key without looking first; a key already there (a retried filing,
    another process filing the same report) is used, never replaced."""
    other = TextVault(nc.jetstream(timeout=2), master_keys.__getitem__, bucket=f"{stream_names[0]}-text-keys")
    await other.ensure()
    async with vault.sealing("refinery", "filed-1", new_report=True):
        first = accepted("filed-1", "first filing")
    async with other.sealing("refinery", "filed-1", new_report=True):  # its cache is empty: the bucket answers
        retried = accepted("filed-1", "the retry")
    assert await other.reveal([text_token("refinery", first.note)]) == ["first filing"]
    assert await vault.reveal([text_token("refinery", retried.note)]) == ["the retry"]


async def test_a_report_filed_anew_after_its_key_was_destroyed_gets_a_new_key(vault: TextVault):
    async with vault.sealing("refinery", "filed-2", new_report=True):
        before = accepted("filed-2", WORDS)
    await vault.shred("refinery", "filed-2")
    async with vault.sealing("refinery", "filed-2", new_report=True):
        after = accepted("filed-2", "a later text")
    assert await vault.reveal([text_token("refinery", before.note), text_token("refinery", after.note)]) == ["(erased)", "a later text"]
