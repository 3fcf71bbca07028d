"""Retention: closed reports' free text is erased once the retention period has passed.

A periodic sweep finds, in intake's read model, the closed reports closed longer ago
than ``HAZARDLOOP_RETENTION_YEARS`` whose text key still exists, and destroys each key,
recorded first as ``ReportTextShredded`` with the reason ``retention``. Unset, nothing
is erased. The log itself is never rewritten: the ciphertext stays, unreadable.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from hazardloop.events import ShredReason
from hazardloop.runtime.rounds import every
from hazardloop.runtime.service import Runtime
from hazardloop.timing.clock import Clock
from hazardloop_intake.adapters import Intake
from hazardloop_intake.commands import handle_shred_report_text
from hazardloop_intake.queries import past_retention

log = logging.getLogger("hazardloop.intake.retention")

ACTOR = "policy:retention"


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` earlier (29 February: the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


class Retention:
    def __init__(self, intake: Intake, clock: Clock, *, years: int, interval: float, batch: int = 200) -> None:
        self._intake = intake
        self._clock = clock
        self._years = years
        self._interval = interval
        self._batch = batch

    async def run(self, _: Runtime) -> None:
        """The service's background loop: sweep, then wait. Nothing ends it but shutdown."""
        await every(self._interval, self.sweep, what="retention sweeps", log=log)

    async def sweep(self) -> int:
        """Erase the text of the reports past the retention period (a batch per sweep: the
        next one finds the rest); how many were erased. Erasing twice is harmless."""
        cutoff = years_before(self._clock.now(), self._years)
        due = await asyncio.to_thread(self._intake.read, past_retention, cutoff, limit=self._batch)
        for tenant, report_id in due:
            await handle_shred_report_text(self._intake, tenant, report_id, reason=ShredReason.RETENTION, actor=ACTOR)
        return len(due)
