"""Composition root of verification."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.timing.clock import Clock, SystemClock
from hazardloop.events import EVENT_TYPES, CaseworkPolicySet, ReportFiled, ReportTextShredded
from hazardloop.runtime.service import create_service
from hazardloop_verification.api import views as api_views
from hazardloop_verification.api import policy as api_policy
from hazardloop_verification.api import dossier as api_dossier
from hazardloop_verification.api import cases as api
from hazardloop_verification.commands import Casework
from hazardloop_verification.projection import projection
from hazardloop_verification.settings import VerificationSettings
from hazardloop_verification.timekeeper import Timekeeper

Settings = VerificationSettings
"""This service's settings type (read by the command line)."""

PUBLISHES = [kind for kind in EVENT_TYPES if kind.aggregate_type == "report" and kind not in (ReportFiled, ReportTextShredded)] + [CaseworkPolicySet]
"""The casework of a report (intake files it and shreds its text) and the casework policy
(the reward policy is rewards')."""


def build(settings: VerificationSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or VerificationSettings()
    casework = Casework(settings, clock or SystemClock())
    app = create_service(
        name="verification",
        settings=settings,
        database_url=settings.database_url_for("verification", settings.database_url),
        projection_factory=projection,
        routes=[api.routes, api_views.routes, api_policy.routes, api_dossier.routes],
        publishes=PUBLISHES,
        description="The safety department accepts, verifies and grades reports, and sees them rectified on time.",
        on_connect=casework.connect,
        workers=[Timekeeper(casework, interval=settings.timer_interval).run],
    )
    app.state.casework = casework
    return app
