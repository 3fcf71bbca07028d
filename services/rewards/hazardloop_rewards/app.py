"""Composition root of rewards."""

from __future__ import annotations

from fastapi import FastAPI

from hazardloop.events import RewardDeclined, RewardGranted
from hazardloop.service import create_service
from hazardloop_rewards.api import routes
from hazardloop_rewards.handlers import projection_with
from hazardloop_rewards.settings import RewardsSettings


Settings = RewardsSettings
"""This service's settings type (read by the command line)."""


def build(settings: RewardsSettings | None = None) -> FastAPI:
    settings = settings or RewardsSettings()
    return create_service(
        name="rewards",
        settings=settings,
        database_url=settings.database_url_for("rewards", settings.database_url),
        projection_factory=projection_with(settings.grade_table),
        routes=[routes],
        publishes=[RewardGranted, RewardDeclined],
        description="Every verified report gets exactly one reward decision.",
    )
