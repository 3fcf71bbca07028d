"""Fires the closed loop's due clocks: each appends its event to the report, exactly once.

The read model says which clocks may be due; the report's own history decides whether
one still runs (``Casework.fire_clocks``). The event a clock appends has an id derived
from the clock's key and is guarded by the report's last sequence, so a clock fired
twice (a retry after a lost acknowledgement, a restart, a projection still catching up)
lands once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import ConcurrencyError, EventStoreUnavailable
from hazardloop.runtime.rounds import every
from hazardloop.timing.deadlines import Timer
from hazardloop_verification import check_queries, queries
from hazardloop_verification.check_commands import CheckWork
from hazardloop_verification.commands import Casework

log = logging.getLogger("hazardloop.verification.timekeeper")


class Timekeeper:
    def __init__(
        self, casework: Casework, read_model: Engine, *, interval: float, batch: int = 200, checks: CheckWork | None = None
    ) -> None:
        self._casework = casework
        self._checks = checks
        self._read_model = read_model
        self._interval = interval
        self._batch = batch

    async def run(self) -> None:
        """The service's background loop: fire what is due, then wait a tick. Nothing
        ends it but shutdown: one report's trouble never stops the others' clocks."""
        await every(self._interval, self.fire_due, what="timers", log=log)

    async def fire_due(self) -> int:
        """Fire every clock due now; the number of events appended."""
        now = self._casework.clock.now()
        due = await asyncio.to_thread(queries.due_clocks, self._read_model, now, self._batch)
        appended = await self._fire(due, self._casework.fire_clocks, "report")
        if self._checks is not None:
            tasks = await asyncio.to_thread(check_queries.due_check_clocks, self._read_model, now, self._batch)
            appended += await self._fire(tasks, self._checks.fire_clocks, "check task")
        return appended

    async def _fire(self, due: dict[tuple[str, str], list[Timer]], fire: Callable[..., Awaitable[list]], what: str) -> int:
        appended = 0
        for (tenant, aggregate_id), clocks in due.items():
            try:
                events = await fire(tenant, aggregate_id, clocks)
            except ConcurrencyError:
                continue  # the aggregate is busy: its clocks are looked at again next tick
            except (EventStoreUnavailable, OperationalError):
                raise
            except Exception:  # noqa: BLE001 - one whose history cannot be decided is skipped, loudly
                log.exception("timers: %s %s/%s skipped", what, tenant, aggregate_id)
                continue
            appended += len(events)
        return appended
