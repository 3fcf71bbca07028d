"""Reminders before rectification deadlines and managers' daily digest, fired as events.

Like verification's clocks, what is due is read from the store, and firing appends an
event with an id derived from what it is for (the report, deadline and lead; the
subsidiary and day), guarded to be its aggregate's first. Retries and restarts cannot
fire one twice, and the deliveries it causes are projected from the log like any other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hazardloop.timing.clock import Clock
from hazardloop.events import GENESIS_HASH, DigestDue, DirectoryRole, RectificationReminderDue, stable_id
from hazardloop.runtime.rounds import every
from hazardloop.runtime.service import Runtime
from hazardloop_notifications.settings import NotificationsSettings
from hazardloop_notifications.store import digests, directory_roles, reports

log = logging.getLogger("hazardloop.notifications.clocks")

ACTOR = "notifications:clock"


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
        if events:
            assert self._runtime is not None
            await self._runtime.event_store().append_many([(event, 0) for event in events])
        return len(events)

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
        fired = []
        for row in db.execute(query):
            key = f"{row.deadline.isoformat()}/{row.reminder_lead}h"
            fired.append(
                RectificationReminderDue.record(
                    prev_hash=GENESIS_HASH, tenant=row.tenant, aggregate_id=str(stable_id("reminder", row.report_id, key)),
                    actor=ACTOR, event_id=stable_id("reminder-due", row.report_id, key), occurred_at=now,
                    report_id=row.report_id, owner=row.owner, deadline=row.deadline, hours_before=row.reminder_lead,
                )
            )
        return fired

    def _digests(self, db: Any, now: datetime) -> list[DigestDue]:
        """The latest digest each subsidiary with managers has not had (a missed day is not sent late)."""
        local = now.astimezone(self._zone)
        slot = datetime.combine(local.date(), self._digest_at, self._zone)
        if slot > local:
            slot -= timedelta(days=1)
        day = slot.date().isoformat()
        with_managers = set(
            db.execute(
                select(directory_roles.c.tenant).where(
                    directory_roles.c.role == DirectoryRole.MANAGER.value, directory_roles.c.members != "[]"
                )
            ).scalars()
        )
        done = set(db.execute(select(digests.c.tenant).where(digests.c.day == day)).scalars())
        return [
            DigestDue.record(
                prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=f"d-{day}", actor=ACTOR,
                event_id=stable_id("digest", tenant, day), occurred_at=now, day=day, since=slot - timedelta(days=1),
            )
            for tenant in sorted(with_managers - done)
            if tenant in self.settings.tenants
        ]
