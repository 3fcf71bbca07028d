"""A service's background rounds (timers, deliveries, reminders, retention): one loop for all.

A round finds what is due and acts on it; the loop runs one every ``every`` seconds until
the service shuts down, or sooner when a ``Wake`` says there is new work (the projection
just stored rows the round acts on), so that work waits for no timer. No round's trouble
ends it: a broker or store outage is a warning (the next round tries again), anything else
is logged with its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import EventStoreUnavailable


class Wake:
    """A nudge for a loop of rounds, set by whoever just made work for it.

    Nudges that come while a round runs, however many, make one more round: the loop
    forgets them as it starts a round, so work that arrived meanwhile is found by the
    next, and nothing else makes it spin. Set it from the event loop's own thread.
    """

    def __init__(self) -> None:
        self._set = asyncio.Event()

    def set(self) -> None:
        self._set.set()

    async def wait(self, seconds: float) -> None:
        """Until nudged or ``seconds`` have passed, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._set.wait(), seconds)

    def clear(self) -> None:
        self._set.clear()


async def every(
    seconds: float, round_: Callable[[], Awaitable[Any]], *, what: str, log: logging.Logger, wake: Wake | None = None
) -> NoReturn:
    """Run ``round_`` every ``seconds``, or as soon as ``wake`` is set, until cancelled;
    ``what`` names the rounds in the log. The interval stays the round's safety net: work
    that comes due by the clock (a retry's backoff) is found by it."""
    while True:
        if wake is not None:
            wake.clear()
        try:
            await round_()
        except (EventStoreUnavailable, OperationalError) as exc:
            log.warning("%s wait for the broker or store: %s", what, exc)
        except Exception:  # noqa: BLE001 - logged; the loop must outlive any one round
            log.exception("%s: a round failed", what)
        if wake is None:
            await asyncio.sleep(seconds)
        else:
            await wake.wait(seconds)
