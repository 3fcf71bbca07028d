"""The Helm values grant the cluster's users exactly what deploy/nats/hazardloop.conf grants them."""

from __future__ import annotations

import re

import pytest
import yaml

from hazardloop.tools.registry import SERVICES
from tests.integration.deploy.cluster import DEPLOY

VALUES = DEPLOY.parent / "k8s" / "nats-values.yaml"


def conf_permissions(variable: str, config: str = "hazardloop.conf") -> dict[str, dict[str, set[str]]]:
    """A ``NAME = { publish: {...} subscribe: {...} }`` block of a shipped config, comments dropped."""
    text = (DEPLOY / config).read_text()
    block = re.search(rf"^{variable} = \{{\n(.*?)^\}}", text, re.MULTILINE | re.DOTALL)
    assert block is not None, variable
    publish, _, subscribe = re.sub(r"#[^\n]*", "", block.group(1)).partition("subscribe:")
    return {
        direction: {kind: set(re.findall(r'"([^"]+)"', items)) for kind, items in re.findall(r"(allow|deny): \[(.*?)\]", part, re.DOTALL)}
        for direction, part in (("publish", publish), ("subscribe", subscribe))
    }


def values_permissions(user: str) -> dict[str, dict[str, set[str]]]:
    values = yaml.safe_load(VALUES.read_text())
    [entry] = [u for u in values["config"]["merge"]["accounts"]["HAZARDLOOP"]["users"] if u["user"] == user]
    return {direction: {kind: set(subjects) for kind, subjects in rules.items()} for direction, rules in entry["permissions"].items()}


@pytest.mark.parametrize(
    "user, variable", [("hazardloop", "SERVICE_PERMISSIONS"), ("console", "CONSOLE_PERMISSIONS"), ("auditor", "AUDITOR_PERMISSIONS")]
)
def test_the_helm_values_mirror_the_cluster_config(user, variable):
    shipped = conf_permissions(variable)
    assert shipped["publish"]["allow"] and shipped["subscribe"]["allow"]
    assert values_permissions(user) == shipped


@pytest.mark.parametrize("user, variable", [("console", "CONSOLE_PERMISSIONS"), ("auditor", "AUDITOR_PERMISSIONS")])
def test_readers_of_the_log_cannot_pull_from_any_services_own_consumer(user, variable):
    """Pulling from another's durable consumer would take its events away from it: every
    service's consumer, a new one's too, must be on the readers' deny lists."""
    others = [service for service in SERVICES if service != user]
    denied = conf_permissions(variable)["publish"]["deny"]
    assert {f"$JS.API.CONSUMER.MSG.NEXT.HAZARDLOOP.{service}" for service in others} <= denied
    assert {f"$JS.API.CONSUMER.CREATE.HAZARDLOOP.{service}" for service in others} <= denied


def test_the_console_may_not_publish_events():
    console = conf_permissions("CONSOLE_PERMISSIONS")["publish"]
    assert "hazard.>" in console["deny"]
    assert not any(subject.startswith("hazard.") for subject in console["allow"])
