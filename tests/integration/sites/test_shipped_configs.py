"""The shipped hub and site configurations: valid for the pinned nats-server, and a site's
users hold what the cluster's users hold (plus loading another site's aggregate)."""

from __future__ import annotations

import subprocess

import pytest

from hazardloop.log.natsserver import find_binary
from tests.integration.deploy.cluster import DEPLOY, PASSWORDS
from tests.integration.deploy.test_nats_values import conf_permissions

ENVIRONMENT = {
    **PASSWORDS,
    "NATS_HQ_PASSWORD": "hqPass0test",
    "NATS_LEAF_SITE_A_PASSWORD": "leafPass0a",
    "NATS_LEAF_SITE_B_PASSWORD": "leafPass0b",
    "HAZARDLOOP_SITE": "site-a",
    "NATS_HUB_LEAF_URL": "nats-leaf://site-a:leafPass0a@hub.example:7422",
}


@pytest.mark.parametrize("config", ["hub.conf", "site.conf"])
def test_the_shipped_config_is_valid(config: str) -> None:
    checked = subprocess.run([find_binary(), "-c", str(DEPLOY / config), "-t"], env={"PATH": "/usr/bin:/bin", **ENVIRONMENT},
                             capture_output=True, text=True, timeout=30)  # fmt: skip
    assert checked.returncode == 0, checked.stderr + checked.stdout


@pytest.mark.parametrize("variable", ["SERVICE_PERMISSIONS", "CONSOLE_PERMISSIONS", "AUDITOR_PERMISSIONS"])
def test_a_sites_users_hold_what_the_clusters_users_hold(variable: str) -> None:
    site, cluster = conf_permissions(variable, "site.conf"), conf_permissions(variable)
    if variable == "SERVICE_PERMISSIONS":  # a decision on another site's aggregate loads it through that site's domain
        site["publish"]["allow"].remove("$JS.*.API.STREAM.MSG.GET.HAZARDLOOP")
    assert site == cluster


def test_the_hubs_console_never_publishes_an_event_nor_changes_a_stream() -> None:
    console = conf_permissions("CONSOLE_PERMISSIONS", "hub.conf")["publish"]
    assert not any(subject.startswith("hazard.") for subject in console["allow"])
    assert {"hazard.>", "$JS.API.STREAM.CREATE.>", "$JS.API.STREAM.UPDATE.>", "$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>"} <= console["deny"]
