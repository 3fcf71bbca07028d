"""The four services by name; imported lazily so one service never loads another."""

from __future__ import annotations

import importlib
from types import ModuleType

SERVICES = ("intake", "verification", "rewards", "notifications")


def app_module(service: str) -> ModuleType:
    """The composition root of ``service``: it offers ``Settings`` and ``build(settings)``."""
    if service not in SERVICES:
        raise KeyError(service)
    return importlib.import_module(f"hazardloop_{service}.app")
