"""Composition root of intake: settings in, a runnable ASGI app out."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.events import ReportFiled
from hazardloop.service import create_service
from hazardloop_intake import handlers
from hazardloop_intake.api import routes
from hazardloop_intake.settings import IntakeSettings


Settings = IntakeSettings
"""This service's settings type (read by the command line)."""


def build(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    return create_service(
        name="intake",
        settings=settings,
        database_url=settings.database_url_for("intake", settings.database_url),
        projection_factory=handlers.projection,
        routes=routes,
        publishes=[ReportFiled],
        description="Employees report hazards; reporters follow their reports.",
    )
