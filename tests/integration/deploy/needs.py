"""What the console must be given by any deployment: read from its settings, so that a new
setting without a usable default fails the deployment tests until deploy/ sets it."""

from __future__ import annotations

from pydantic.aliases import AliasChoices
from pydantic.fields import FieldInfo

from hazardloop.tools.registry import app_module

NOT_FOR_THE_CONSOLE = {
    "HAZARDLOOP_RECEIPT_KEY", "HAZARDLOOP_FORM_KEY", "HAZARDLOOP_WEBHOOK_KEY", "HAZARDLOOP_MASTER_KEYS",
    "HAZARDLOOP_OIDC_JWKS_URL",  # found through the provider's discovery document
}
"""Settings without a usable production default that the console does not need."""
ONE_CLUSTER = {"HAZARDLOOP_SITE", "HAZARDLOOP_PLACEMENT"}
"""Unset, they mean one cluster holds every subsidiary: a usable default (sites set them)."""


def env_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    return alias if isinstance(alias, str) else f"HAZARDLOOP_{name.upper()}"


def needed_by_the_console() -> set[str]:
    """Every console setting whose default cannot serve a deployment: unset (None, {}) or
    pointing at this machine's loopback."""
    fields = app_module("console").Settings.model_fields
    unusable = {env_name(name, field) for name, field in fields.items() if field.default in (None, {}) or "127.0.0.1" in str(field.default)}
    return unusable - NOT_FOR_THE_CONSOLE - ONE_CLUSTER
