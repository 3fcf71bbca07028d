"""Composition root of intake: settings in, a runnable ASGI app out."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from hazardloop.events import (
    IdentityDisclosed,
    PlaceCatalogued,
    PlaceRetired,
    ReporterKeyShredded,
    ReporterWrote,
    ReportFiled,
    ReportTextShredded,
    StaffWrote,
)
from hazardloop.runtime.service import create_service
from hazardloop.timing.clock import Clock, SystemClock
from hazardloop_intake import projection, signin, store
from hazardloop_intake.adapters import Intake
from hazardloop_intake.api import attachments, catalogue, form, identity, mine, report_page, reports, signin_dev, thread
from hazardloop_intake.api import signin as signin_routes
from hazardloop_intake.attempts import SignInAttempts, attempts
from hazardloop_intake.drafts import Drafts
from hazardloop_intake.forms import FormLinks
from hazardloop_intake.lookups import LookupLimiter
from hazardloop_intake.peers import Peers
from hazardloop_intake.receipt_sessions import ReceiptSessions
from hazardloop_intake.receipts import ReceiptCodes
from hazardloop_intake.report_page import ReporterDesk
from hazardloop_intake.reporter_session import ReporterSessions
from hazardloop_intake.retention import Retention
from hazardloop_intake.settings import IntakeSettings

Settings = IntakeSettings
"""This service's settings type (read by the command line)."""
KEYS = ["receipt", "form", "master"]
"""Keys of the key ring intake needs besides the token and pseudonym keys."""


def build(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    keys = settings.keys
    keys.require(["jwt", "pseudonym", *KEYS], tenants=settings.tenants)  # every missing key named at once, before anything is built
    intake = Intake(settings, ReceiptCodes(keys.versions("receipt")), FormLinks(keys.versions("form"), settings.form_base_url))
    peers = Peers(rewards_url=settings.rewards_url, verification_url=settings.verification_url, timeout=settings.service_timeout)
    retention = (
        [Retention(intake, clock or SystemClock(), years=settings.retention_years, interval=settings.retention_interval).run]
        if settings.retention_years else []
    )
    app = create_service(
        name="intake",
        settings=settings,
        database_url=settings.database_url_for("intake", settings.database_url),
        projection_factory=projection.projection,
        routes=[
            reports.routes, catalogue.routes, attachments.routes, identity.routes, thread.routes,
            signin_routes.routes, signin_dev.routes, mine.routes, report_page.routes,
            form.routes,  # the form's /f/{tenant}/{place_id} last: /f/signin/..., /f/receipt/... are no form
        ],
        publishes=[
            ReportFiled, PlaceCatalogued, PlaceRetired, IdentityDisclosed, ReporterKeyShredded, ReportTextShredded, ReporterWrote, StaffWrote,
        ],
        description="Employees report hazards; reporters follow their reports; identities stay sealed.",
        on_connect=intake.connect,
        keys=KEYS,
        workers=retention,
        larger_bodies={"/attachments": settings.max_video_bytes + 1024, "/f/": settings.max_video_bytes + 1024 * 1024},
        on_stop=peers.close,
    )
    sessions = ReceiptSessions(app.state.runtime.engine, timedelta(minutes=settings.receipt_session_idle_minutes))
    limiter = LookupLimiter(
        per_address=settings.wrong_codes_per_address, overall=settings.wrong_codes_overall, window_seconds=settings.wrong_code_window_seconds
    )
    app.state.lookups = limiter
    app.state.reporter_desk = ReporterDesk(sessions, limiter, peers, secure_cookies=settings.form_base_url.startswith("https://"))
    app.state.intake = intake
    engine = app.state.runtime.engine
    app.state.reporter_sessions = ReporterSessions(engine, timedelta(minutes=settings.reporter_idle_minutes))
    app.state.signin_attempts = SignInAttempts(engine, attempts)
    app.state.drafts = Drafts(engine)
    app.state.form_provider = signin.form_provider(settings)
    store.kept.create_all(engine)  # reporters' sessions, receipt look-ups, sign-ins under way, kept drafts: not folded from the log
    return app
