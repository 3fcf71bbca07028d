"""Composition root of the console: settings in, a runnable ASGI app out."""

from __future__ import annotations

import functools
from datetime import timedelta
from importlib.resources import files
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hazardloop.projections import Projection
from hazardloop.runtime.service import create_service
from hazardloop.web import assets
from hazardloop_console import projection, reward_lines, store, web
from hazardloop_console.api import audit, cases, checks, dashboard, home, places, rewards, signin, signin_oidc, tasks
from hazardloop_console.attempts import SignInAttempts, attempts
from hazardloop_console.backends import Backends
from hazardloop_console.snapshots import Snapshots
from hazardloop_console.sessions import Sessions
from hazardloop_console.similar.indexer import DescriptionIndexer
from hazardloop_console.similar.tokens import index_key
from hazardloop_console.settings import ConsoleSettings

Settings = ConsoleSettings
"""This service's settings type (read by the command line)."""
PHOTO_UPLOADS = 6 * 10 * 1024 * 1024 + 64 * 1024
"""A rectification form with its photos: six at intake's default size limit."""


def build(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    backends = Backends(settings.service_urls, settings.service_timeout)

    index_keys = functools.lru_cache(maxsize=256)(lambda tenant: index_key(settings.secret("pseudonym"), tenant))

    def projection_of(store: object) -> Projection:
        """The projection with its indexer of descriptions: the text keys are bound at startup."""
        return projection.projection(store, DescriptionIndexer(lambda: app.state.runtime.texts, index_keys))

    app = create_service(
        name="console",
        settings=settings,
        database_url=settings.database_url_for("console", settings.database_url),
        projection_factory=projection_of,
        routes=[
            signin.routes,
            signin_oidc.routes,
            home.routes,
            cases.routes,
            tasks.routes,
            rewards.routes,
            places.routes,
            dashboard.routes,
            audit.routes,
            checks.routes,
        ],
        publishes=[],
        description="Every role's pages: queues, cases, rewards, audit and the group's dashboard.",
        larger_bodies={"/console/cases/": PHOTO_UPLOADS},
        on_stop=backends.close,
    )
    runtime = app.state.runtime
    app.state.sessions = Sessions(runtime.engine, timedelta(minutes=settings.session_idle_minutes))
    app.state.signin_attempts = SignInAttempts(runtime.engine, attempts)
    app.state.provider = signin_oidc.group_provider(settings)
    store.kept.create_all(runtime.engine)  # sessions, sign-ins under way, log checks: not folded from the log
    app.state.backends = backends
    app.state.index_key = index_keys
    app.state.navigation = home.navigation
    app.state.assets = SimpleNamespace(htmx=assets.HTMX_JS, echarts=assets.ECHARTS_JS)
    app.mount("/console/static", StaticFiles(directory=str(files("hazardloop_console") / "static")), name="console-static")
    web.install(app)
    app.state.templates.env.globals["reward_line"] = reward_lines.explain
    app.state.snapshots = Snapshots(settings, kept=settings.as_of_stores_kept)
    return app
