"""Fires the closed loop's due clocks: each appends its event to the report, exactly once.

The read model says which clocks may be due; the report's own history decides whether
one still runs. The event a clock appends has an id derived from the clock's key and
is guarded by the report's last sequence, so a clock fired twice (a retry after a lost
acknowledgement, a restart, a projection still catching up) lands once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import ConcurrencyError, EventStoreUnavailable
from hazardloop.runtime.rounds import every
from hazardloop.runtime.service import Runtime
from hazardloop_verification.commands import Casework
from hazardloop_verification.projection import PENDING
from hazardloop_verification.store import timers
from hazardloop.timing.deadlines import Timer, TimerKind

log = logging.getLogger("hazardloop.verification.timekeeper")


class Timekeeper:
    def __init__(self, casework: Casework, *, interval: float, batch: int = 200) -> None:
        self._casework = casework
        self._interval = interval
        self._batch = batch

    async def run(self, _: Runtime) -> None:
        """The service's background loop: fire what is due, then wait a tick. Nothing
        ends it but shutdown: one report's trouble never stops the others' clocks."""
        await every(self._interval, self.fire_due, what="timers", log=log)

    def _due(self) -> dict[tuple[str, str], list[Timer]]:
        now = self._casework.clock.now()
        query = (
            select(timers)
            .where(timers.c.status == PENDING, timers.c.due_at <= now)
            .order_by(timers.c.due_at, timers.c.report_id, timers.c.key)
            .limit(self._batch)
        )
        due: dict[tuple[str, str], list[Timer]] = defaultdict(list)
        with self._casework.runtime.engine.connect() as db:
            for row in db.execute(query):
                due[(row.tenant, row.report_id)].append(Timer(TimerKind(row.kind), row.due_at, row.deadline, row.step))
        return due

    async def fire_due(self) -> int:
        """Fire every clock due now; the number of events appended."""
        appended = 0
        for (tenant, report_id), due in (await asyncio.to_thread(self._due)).items():
            try:
                events = await self._casework.decide(
                    tenant, report_id, lambda case, now, due=due: [e for timer in due for e in case.fire(timer, now=now)]
                )
            except ConcurrencyError:
                continue  # the report is busy: its clocks are looked at again next tick
            except (EventStoreUnavailable, OperationalError):
                raise
            except Exception:  # noqa: BLE001 - a report whose history cannot be decided is skipped, loudly
                log.exception("timers: report %s/%s skipped", tenant, report_id)
                continue
            appended += len(events)
        return appended
