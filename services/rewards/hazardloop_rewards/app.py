"""Composition root of rewards: settings in, a runnable ASGI app out."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI
from nats.js import JetStreamContext

from hazardloop.events import EVENT_TYPES, RewardPolicySet
from hazardloop.runtime.service import Runtime, create_service
from hazardloop.timing.clock import Clock, SystemClock
from hazardloop_rewards.api import preview, rewards, signals, views
from hazardloop_rewards.api import settings as settings_routes
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.projection import projection
from hazardloop_rewards.recorder import SignalRecorder
from hazardloop_rewards.settings import RewardsSettings

Settings = RewardsSettings
"""This service's settings type (read by the command line)."""

PUBLISHES = [kind for kind in EVENT_TYPES if kind.aggregate_type in ("reward", "budget", "signal", "signal_rules") or kind is RewardPolicySet]


def build(settings: RewardsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RewardsSettings()
    clock, timezone = clock or SystemClock(), ZoneInfo(settings.timezone)

    async def hand_over_to_commands(runtime: Runtime, js: JetStreamContext) -> None:
        """The command handlers get the log, the text sealer and the pseudonym directory once they exist."""
        app.state.commands = RewardCommands(runtime.event_store(), runtime.texts.sealing, runtime.pseudonym_of, clock, timezone)

    async def record_signals(runtime: Runtime) -> None:
        """Each signal the rules raise is recorded in the log once (``SignalRaised``)."""
        await SignalRecorder(app.state.commands, runtime.engine, interval=settings.signal_interval).run()

    app = create_service(
        name="rewards",
        settings=settings,
        database_url=settings.database_url_for("rewards", settings.database_url),
        projection_factory=projection,
        routes=[preview.routes, rewards.routes, views.routes, settings_routes.routes, signals.routes],
        publishes=PUBLISHES,
        description="Every verified report gets one reward decision: proposed by policy, approved, paid once, within budget.",
        on_connect=hand_over_to_commands,
        workers=[record_signals],
    )
    app.state.commands = None
    return app
