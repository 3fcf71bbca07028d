"""Composition root of rewards."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.timing.clock import Clock, SystemClock
from hazardloop.events import EVENT_TYPES, RewardPolicySet
from hazardloop.runtime.service import create_service
from hazardloop_rewards.api import views as api_views
from hazardloop_rewards.api import preview as api_preview
from hazardloop_rewards.api import rewards as api
from hazardloop_rewards.commands import Payouts
from hazardloop_rewards.projection import projection
from hazardloop_rewards.settings import RewardsSettings

Settings = RewardsSettings
"""This service's settings type (read by the command line)."""

PUBLISHES = [kind for kind in EVENT_TYPES if kind.aggregate_type in ("reward", "budget") or kind is RewardPolicySet]


def build(settings: RewardsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RewardsSettings()
    app = create_service(
        name="rewards",
        settings=settings,
        database_url=settings.database_url_for("rewards", settings.database_url),
        projection_factory=projection,
        routes=[api_preview.routes, api.routes, api_views.routes],
        publishes=PUBLISHES,
        description="Every verified report gets one reward decision: proposed by policy, approved, paid once, within budget.",
    )
    app.state.payouts = Payouts(app.state.runtime, clock or SystemClock())
    return app
