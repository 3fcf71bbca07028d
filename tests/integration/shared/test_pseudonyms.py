"""The pseudonym directory on a real nats-server: random pseudonyms, one per person, erasable without a trace."""

import asyncio
import re

import nats
import pytest
from nats.js.errors import NotFoundError

from hazardloop.privacy.pseudonyms import PseudonymDirectory


@pytest.fixture
async def directory(nc: nats.NATS, stream_names: tuple[str, str]) -> PseudonymDirectory:
    directory = PseudonymDirectory(nc.jetstream(timeout=2), b"k" * 32, bucket=f"{stream_names[0]}-reporters")
    await directory.ensure()
    return directory


async def bucket_messages(nc: nats.NATS, bucket: str) -> list[bytes]:
    """Every message the bucket's stream still holds: subject and value."""
    js = nc.jetstream(timeout=2)
    state = (await js.stream_info(f"KV_{bucket}")).state
    held = []
    for sequence in range(max(state.first_seq, 1), state.last_seq + 1):
        try:
            message = await js.get_msg(f"KV_{bucket}", sequence)
        except NotFoundError:
            continue
        held.append(message.subject.encode() + b" " + (message.data or b""))
    return held


async def test_a_person_gets_one_random_pseudonym_even_when_first_reports_race(directory: PseudonymDirectory):
    assert await directory.find("refinery", "E-1") is None
    assigned = await asyncio.gather(*(directory.assign("refinery", "E-1") for _ in range(8)))
    assert len(set(assigned)) == 1 and re.fullmatch(r"p-[0-9a-f]{32}", assigned[0])
    assert await directory.find("refinery", "E-1") == assigned[0]
    assert await directory.assign("mine", "E-1") != assigned[0]  # another subsidiary, another pseudonym
    assert await directory.find_all(["refinery", "mine", "steelmill"], "E-1") == [assigned[0], await directory.find("mine", "E-1")]


async def test_forgetting_a_pseudonym_leaves_nothing_of_the_person_in_the_bucket(nc, directory, stream_names):
    kept = await directory.assign("refinery", "E-2")
    erased = await directory.assign("refinery", "E-1")
    blind = directory.blind_index("refinery", "E-1").encode()
    assert any(blind in message for message in await bucket_messages(nc, f"{stream_names[0]}-reporters"))
    assert await directory.forget("refinery", erased) is True
    assert await directory.forget("refinery", erased) is False  # a retry finds nothing left to do
    held = await bucket_messages(nc, f"{stream_names[0]}-reporters")
    assert not any(blind in message or erased.encode() in message for message in held), held  # no marker either
    assert await directory.find("refinery", "E-1") is None and await directory.find("refinery", "E-2") == kept
    again = await directory.assign("refinery", "E-1")
    assert again != erased  # a new start, unlinked to the erased one


async def test_the_holder_of_a_pseudonym_is_found_only_among_people_named_and_not_after_erasure(directory: PseudonymDirectory):
    pseudonym = await directory.assign("refinery", "E-7")
    await directory.assign("refinery", "E-8")
    assert await directory.holder("refinery", pseudonym, ["E-8", "E-7", "E-9"]) == "E-7"
    assert await directory.holder("refinery", pseudonym, ["E-8", "E-9"]) is None
    assert await directory.holder("mine", pseudonym, ["E-7"]) is None  # another subsidiary's directory
    assert await directory.forget("refinery", pseudonym)
    assert await directory.holder("refinery", pseudonym, ["E-7"]) is None
