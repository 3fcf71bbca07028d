"""Background rounds: a wake starts the next round at once, and only once however often it comes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hazardloop.runtime.rounds import Wake, every
from tests.waiting import eventually

log = logging.getLogger("tests.rounds")
QUIET_WINDOW = 0.3
"""How long a loop with nothing to do is watched for rounds it should not run."""


async def test_wakes_during_a_round_make_one_more_round_and_then_the_loop_rests_until_woken():
    wake, rounds, in_first, release = Wake(), 0, asyncio.Event(), asyncio.Event()

    async def round_() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            in_first.set()
            await release.wait()

    loop = asyncio.create_task(every(30, round_, what="tests", log=log, wake=wake))
    try:
        await in_first.wait()
        for _ in range(100):  # a burst of commits while the round runs
            wake.set()
        release.set()
        await eventually(lambda: rounds == 2, timeout=5)

        with contextlib.suppress(TimeoutError):  # nothing new: no round before the 30 s interval
            await asyncio.wait_for(asyncio.shield(loop), QUIET_WINDOW)
        assert rounds == 2

        wake.set()
        await eventually(lambda: rounds == 3, timeout=5)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_without_a_wake_the_interval_still_brings_the_next_round():
    rounds = 0

    async def round_() -> None:
        nonlocal rounds
        rounds += 1

    loop = asyncio.create_task(every(0.01, round_, what="tests", log=log, wake=Wake()))
    try:
        await eventually(lambda: rounds >= 3, timeout=5)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
