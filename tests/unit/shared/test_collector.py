"""The collector settings a rebuild runs under are its own: the process gets its own back."""

from __future__ import annotations

import asyncio
import gc

import pytest

from hazardloop.projections.collector import bulk_collection


def test_a_rebuild_collects_young_objects_less_often_and_leaves_long_lived_ones_alone():
    before = gc.get_threshold()
    with bulk_collection:
        assert gc.get_threshold()[0] >= 10_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_failed_rebuild_gives_the_process_its_collector_back():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_collection:
        raise RuntimeError("the log went away")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_overlapping_rebuilds_keep_the_setting_until_the_last_one_ends():
    before = gc.get_threshold()

    async def rebuild(started: asyncio.Event, done: asyncio.Event) -> None:
        with bulk_collection:
            started.set()
            await done.wait()

    first, second = (asyncio.Event(), asyncio.Event()), (asyncio.Event(), asyncio.Event())
    tasks = [asyncio.create_task(rebuild(*first)), asyncio.create_task(rebuild(*second))]
    await first[0].wait()
    await second[0].wait()
    first[1].set()  # the first rebuild ends while the second still runs
    await tasks[0]
    assert gc.get_threshold()[0] >= 10_000
    second[1].set()
    await tasks[1]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
