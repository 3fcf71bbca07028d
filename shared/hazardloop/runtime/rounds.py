"""A service's background rounds (timers, deliveries, reminders, retention): one loop for all.

A round finds what is due and acts on it; the loop runs one every ``every`` seconds until
the service shuts down. No round's trouble ends it: a broker or store outage is a
warning (the next round tries again), anything else is logged with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import EventStoreUnavailable


async def every(seconds: float, round_: Callable[[], Awaitable[Any]], *, what: str, log: logging.Logger) -> NoReturn:
    """Run ``round_`` every ``seconds`` until cancelled; ``what`` names the rounds in the log."""
    while True:
        try:
            await round_()
        except (EventStoreUnavailable, OperationalError) as exc:
            log.warning("%s wait for the broker or store: %s", what, exc)
        except Exception:  # noqa: BLE001 - logged; the loop must outlive any one round
            log.exception("%s: a round failed", what)
        await asyncio.sleep(seconds)
