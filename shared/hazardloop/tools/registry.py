"""The services by name; imported lazily so one service never loads another.

Every service has the same shape, so its parts are found by name:
``hazardloop_<service>.app`` and ``hazardloop_<service>.projection``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hazardloop.runtime.service import ProjectionFactory

SERVICES = ("intake", "verification", "rewards", "notifications", "console")


def _module(service: str, name: str) -> ModuleType:
    if service not in SERVICES:
        raise KeyError(service)
    return importlib.import_module(f"hazardloop_{service}.{name}")


def app_module(service: str) -> ModuleType:
    """The composition root of ``service``: it offers ``Settings`` and ``build(settings)``."""
    return _module(service, "app")


def projection_factory(service: str) -> ProjectionFactory:
    """The function building ``service``'s projection from an event store, without
    building the service (no settings, secrets or connections): what audits replay."""
    return _module(service, "projection").projection


def dashboard_figures() -> ModuleType:
    """The console's dashboard figures over a console store (``Scope``, ``dashboard``): what an
    audit shows of a store it replayed as of a moment."""
    return _module("console", "figures")
