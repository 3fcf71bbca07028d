"""The last sequence stored by a moment, by the broker's lookup by time: the cut a
point-in-time view replays the log to."""

from __future__ import annotations

from datetime import timedelta

from hazardloop.audit.source import sequence_as_of
from hazardloop.log.reader import sequence_stored_by
from tests.factories import report_filed


async def test_a_message_stored_at_the_moment_counts_and_one_stored_just_after_does_not(store, nc):
    for _ in range(4):
        await store.append(report_filed(), expected_version=0)
    js = nc.jetstream()
    stored = [(await js.get_msg(store.stream, sequence)).time for sequence in range(1, 5)]
    for sequence, at in enumerate(stored, start=1):
        assert await sequence_stored_by(nc, store.stream, at) == sequence
        assert await sequence_stored_by(nc, store.stream, at - timedelta(microseconds=1)) == sequence - 1
        # the audit's own cut (a binary search over stored times) agrees
        assert await sequence_as_of(nc, store.stream, at) == sequence


async def test_before_the_first_message_nothing_and_after_the_last_everything(store, nc):
    await store.append(report_filed(), expected_version=0)
    first = (await nc.jetstream().get_msg(store.stream, 1)).time
    assert await sequence_stored_by(nc, store.stream, first - timedelta(days=365)) == 0
    assert await sequence_stored_by(nc, store.stream, first + timedelta(days=1)) == 1
