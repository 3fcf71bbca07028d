"""Composition root of intake: settings in, a runnable ASGI app out."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.events import IdentityDisclosed, PlaceCatalogued, PlaceRetired, ReportFiled, ReporterKeyShredded
from hazardloop.service import create_service
from hazardloop_intake import api, api_attachments, api_catalogue, api_forms, api_identity, projection
from hazardloop_intake.adapters import Intake
from hazardloop_intake.forms import FormLinks
from hazardloop_intake.receipts import ReceiptCodes
from hazardloop_intake.settings import IntakeSettings

Settings = IntakeSettings
"""This service's settings type (read by the command line)."""


def build(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    intake = Intake(settings, ReceiptCodes(settings.secret("receipt")), FormLinks(settings.secret("form"), settings.form_base_url))
    app = create_service(
        name="intake",
        settings=settings,
        database_url=settings.database_url_for("intake", settings.database_url),
        projection_factory=projection.projection,
        routes=[api.routes, api_catalogue.routes, api_attachments.routes, api_identity.routes, api_forms.routes],
        publishes=[ReportFiled, PlaceCatalogued, PlaceRetired, IdentityDisclosed, ReporterKeyShredded],
        description="Employees report hazards; reporters follow their reports; identities stay sealed.",
        on_connect=intake.connect,
        larger_bodies={"/attachments": settings.max_video_bytes + 1024, "/f/": settings.max_video_bytes + 1024 * 1024},
    )
    app.state.intake = intake
    return app
