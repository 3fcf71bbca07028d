"""Composition root of verification: settings in, a runnable ASGI app out."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from nats.js import JetStreamContext

from hazardloop.events import CHECK_TASK, EVENT_TYPES, CaseworkPolicySet, ReportFiled, ReportTextShredded
from hazardloop.media.attachments import AttachmentStore
from hazardloop.runtime.service import Runtime, create_service
from hazardloop.timing.clock import Clock, SystemClock
from hazardloop_verification import queries
from hazardloop_verification.api import cases, checks, dossier, policy, views
from hazardloop_verification.check_commands import CheckWork
from hazardloop_verification.commands import Casework
from hazardloop_verification.dossier.document import Dossiers
from hazardloop_verification.metrics import gauges
from hazardloop_verification.projection import projection
from hazardloop_verification.settings import VerificationSettings
from hazardloop_verification.timekeeper import Timekeeper

Settings = VerificationSettings
"""This service's settings type (read by the command line)."""

PUBLISHES = [kind for kind in EVENT_TYPES if kind.aggregate_type == "report" and kind not in (ReportFiled, ReportTextShredded)] + [
    CaseworkPolicySet
] + [kind for kind in EVENT_TYPES if kind.aggregate_type in ("check", CHECK_TASK)]
"""The casework of a report (intake files it and shreds its text), the casework policy
(the reward policy is rewards') and checks elsewhere."""


def build(settings: VerificationSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or VerificationSettings()
    clock = clock or SystemClock()

    async def connect(runtime: Runtime, js: JetStreamContext) -> None:
        """Once on the broker: the attachment bucket (rectification evidence is uploaded
        through intake), then the command handlers and the dossiers over the log."""
        attachments = AttachmentStore(js, bucket=settings.bucket("attachments"), replicas=settings.stream_replicas)
        await attachments.ensure()
        store = runtime.event_store()
        app.state.casework = Casework(store, runtime.texts, clock, attachments, partial(queries.merged_into, runtime.engine))
        app.state.checks = CheckWork(store, runtime.texts, clock)
        app.state.dossiers = Dossiers(store, js, runtime.texts, attachments, clock, ZoneInfo(settings.timezone))

    async def keep_time(runtime: Runtime) -> None:
        await Timekeeper(app.state.casework, runtime.engine, interval=settings.timer_interval, checks=app.state.checks).run()

    app = create_service(
        name="verification",
        settings=settings,
        database_url=settings.database_url_for("verification", settings.database_url),
        projection_factory=projection,
        routes=[cases.routes, views.routes, policy.routes, dossier.routes, checks.routes],
        publishes=PUBLISHES,
        description="The safety department accepts, verifies and grades reports, and sees them rectified on time.",
        on_connect=connect,
        workers=[keep_time],
        gauges=gauges(clock),
    )
    app.state.casework = app.state.dossiers = app.state.checks = None  # until connected: their routes answer 503
    return app
