"""Composition root of verification."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.events import Rectified, Verified
from hazardloop.service import create_service
from hazardloop_verification import handlers
from hazardloop_verification.api import routes
from hazardloop_verification.settings import VerificationSettings


Settings = VerificationSettings
"""This service's settings type (read by the command line)."""


def build(settings: VerificationSettings | None = None) -> FastAPI:
    settings = settings or VerificationSettings()
    return create_service(
        name="verification",
        settings=settings,
        database_url=settings.database_url_for("verification", settings.database_url),
        projection_factory=handlers.projection,
        routes=[routes],
        publishes=[Verified, Rectified],
        description="The safety department verifies, grades and closes out reports.",
    )
