"""Composition root of notifications."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from hazardloop.audit.seal_schedule import SealSchedule
from hazardloop.events import (
    DigestDue,
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    MessageRead,
    NotificationFailed,
    NotificationRetried,
    NotificationSent,
    RangeSealed,
    RectificationReminderDue,
)
from hazardloop.runtime.rounds import Wake
from hazardloop.runtime.service import create_service
from hazardloop.timing.clock import Clock, SystemClock
from hazardloop_notifications.api import deliveries as api_deliveries
from hazardloop_notifications.api import directory as api_directory
from hazardloop_notifications.api import inbox as api
from hazardloop_notifications.clocks import Clocks
from hazardloop_notifications.metrics import gauges
from hazardloop_notifications.projection import Notifier
from hazardloop_notifications.render import Renderer
from hazardloop_notifications.sender import Sender
from hazardloop_notifications.settings import NotificationsSettings

Settings = NotificationsSettings
"""This service's settings type (read by the command line)."""

PUBLISHES = [
    DirectoryEntrySet, DirectoryEntryRemoved, NotificationSent, NotificationFailed, NotificationRetried,
    MessageRead, RectificationReminderDue, DigestDue, RangeSealed,
]
"""Seals too: notifications seals the log on a schedule (``SealSchedule``), as its work is
all background, so a seal's reading and hashing delays nobody's page."""


def build(
    settings: NotificationsSettings | None = None, *, clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    settings = settings or NotificationsSettings()
    clock = clock or SystemClock()
    renderer = Renderer(settings.timezone)
    wake = Wake()  # the projection's commits of new deliveries start the sender's next round
    sender = Sender(settings, renderer, clock, transport=transport, batch=settings.delivery_batch, wake=wake)
    app = create_service(
        name="notifications",
        settings=settings,
        database_url=settings.database_url_for("notifications", settings.database_url),
        projection_factory=Notifier(settings.reminder_hours, wake=wake).projection,
        routes=[api.routes, api_directory.routes, api_deliveries.routes],
        publishes=PUBLISHES,
        description="Everyone hears what they need, on time, exactly once: inbox, e-mail, webhooks and group chats.",
        workers=[sender.run, Clocks(settings, clock).run, SealSchedule.of(settings, clock).run],
        keys=["webhook"],
        gauges=gauges(clock),
    )
    app.state.settings, app.state.clock, app.state.renderer, app.state.sender = settings, clock, renderer, sender
    return app
