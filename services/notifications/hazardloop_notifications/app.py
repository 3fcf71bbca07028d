"""Composition root of notifications."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.service import create_service
from hazardloop_notifications import handlers
from hazardloop_notifications.api import routes
from hazardloop_notifications.settings import NotificationsSettings


Settings = NotificationsSettings
"""This service's settings type (read by the command line)."""


def build(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    return create_service(
        name="notifications",
        settings=settings,
        database_url=settings.database_url_for("notifications", settings.database_url),
        projection_factory=handlers.projection,
        routes=[routes],
        publishes=[],
        description="The reporter hears about every step of their report.",
    )
