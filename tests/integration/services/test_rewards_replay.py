"""Rebuilding the rewards projection never loses a decision, and never makes a second one."""

from __future__ import annotations

from sqlalchemy import select

from hazardloop.projections import ProjectionRunner
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.definition import Delivery
from hazardloop.projections.replay import rebuild
from hazardloop_rewards.projection import projection
from hazardloop_rewards.store import rewards
from tests.factories import report_filed, verified


async def reward_subjects(store) -> list[str]:
    subjects = []
    for sequence in range(1, await store.last_sequence() + 1):
        message = await store._js.get_msg(store.stream, sequence)
        if ".reward." in message.subject:
            subjects.append(message.subject)
    return subjects


async def test_an_in_place_rebuild_reacts_to_what_the_old_store_never_reached(store, nc, tmp_path):
    engine = create_store_engine(f"sqlite:///{tmp_path / 'rewards.db'}")

    def runner() -> ProjectionRunner:
        return ProjectionRunner(projection(store), engine, store)

    decided, undecided = report_filed(), report_filed()
    await store.append(decided, expected_version=0)
    await store.append(undecided, expected_version=0)
    first = verified(decided)
    await store.append(first, expected_version=1)
    live = runner()
    live.create_schema()
    await live.process([Delivery(3, "s", first)])  # decides (sequence 4), then the service stops
    await store.append(verified(undecided), expected_version=2)  # arrives while it is down

    await rebuild(runner(), nc)
    assert len(await reward_subjects(store)) == 2  # the missed decision made, the old one not repeated
    await rebuild(runner(), nc)
    assert len(await reward_subjects(store)) == 2
    with engine.connect() as db:
        assert len(db.execute(select(rewards)).all()) == 2
