"""Reminders before rectification deadlines and managers' daily digest, fired as events.

Like verification's clocks, what is due is read from the store, and firing appends an
event with an id derived from what it is for (the report, deadline and lead; the
subsidiary and day), guarded to be its aggregate's first. Retries and restarts cannot
fire one twice, and the deliveries it causes are projected from the log like any other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hazardloop.events import DigestDue, DirectoryRole, RectificationReminderDue
from hazardloop.runtime.rounds import every
from hazardloop.runtime.service import Runtime
from hazardloop.timing.clock import Clock
from hazardloop_notifications import commands
from hazardloop_notifications.domain import digest_due, digest_slot, reminder_due
from hazardloop_notifications.settings import NotificationsSettings
from hazardloop_notifications.store import digests, directory_roles, reports

log = logging.getLogger("hazardloop.notifications.clocks")


class Clocks:
    def __init__(self, settings: NotificationsSettings, clock: Clock, *, batch: int = 200) -> None:
        self.settings = settings
        self.clock = clock
        self._batch = batch
        self._zone = ZoneInfo(settings.timezone)
        hour, minute = settings.digest_time.split(":")
        self._digest_at = time(int(hour), int(minute))
        self._runtime: Runtime | None = None

    async def run(self, runtime: Runtime) -> None:
        self._runtime = runtime
        await every(self.settings.delivery_interval, self.fire_due, what="reminders and digests", log=log)

    async def fire_due(self) -> int:
        reminders_due, digests_due = await asyncio.to_thread(self._due)
        events = [*reminders_due, *digests_due]
        if not events:
            return 0
        assert self._runtime is not None
        return await commands.fire(self._runtime.event_store(), events)

    def _due(self) -> tuple[list[RectificationReminderDue], list[DigestDue]]:
        assert self._runtime is not None
        now = self.clock.now()
        with self._runtime.engine.connect() as db:
            return self._reminders(db, now), self._digests(db, now)

    def _reminders(self, db: Any, now: datetime) -> list[RectificationReminderDue]:
        """Reports still being rectified whose next reminder is due."""
        query = (
            select(reports.c.report_id, reports.c.tenant, reports.c.owner, reports.c.deadline, reports.c.reminder_lead)
            .where(reports.c.next_reminder_at <= now, reports.c.stage == "rectifying")
            .order_by(reports.c.next_reminder_at)
            .limit(self._batch)
        )
        return [
            reminder_due(row.tenant, row.report_id, owner=row.owner, deadline=row.deadline, hours_before=row.reminder_lead, now=now)
            for row in db.execute(query)
        ]

    def _digests(self, db: Any, now: datetime) -> list[DigestDue]:
        """The latest digest each subsidiary with managers has not had (a missed day is not sent late)."""
        slot = digest_slot(now, self._digest_at, self._zone)
        day = slot.date().isoformat()
        with_managers = set(
            db.execute(
                select(directory_roles.c.tenant).where(
                    directory_roles.c.role == DirectoryRole.MANAGER.value, directory_roles.c.members != "[]"
                )
            ).scalars()
        )
        done = set(db.execute(select(digests.c.tenant).where(digests.c.day == day)).scalars())
        return [digest_due(tenant, slot, now=now) for tenant in sorted(with_managers - done) if tenant in self.settings.tenants]
