"""The services by name; imported lazily so one service never loads another."""

from __future__ import annotations

import importlib
from types import ModuleType

SERVICES = ("intake", "verification", "rewards", "notifications", "console")


def app_module(service: str) -> ModuleType:
    """The composition root of ``service``: it offers ``Settings`` and ``build(settings)``."""
    if service not in SERVICES:
        raise KeyError(service)
    return importlib.import_module(f"hazardloop_{service}.app")


_PROJECTIONS = {
    "intake": "hazardloop_intake.projection",
    "verification": "hazardloop_verification.projection",
    "rewards": "hazardloop_rewards.projection",
    "notifications": "hazardloop_notifications.projection",
    "console": "hazardloop_console.projection",
}


def projection_factory(service: str):
    """The function building ``service``'s projection from an event store, without
    building the service (no settings, secrets or connections): what audits replay."""
    return importlib.import_module(_PROJECTIONS[service]).projection
