"""Where each subsidiary's log lives: one cluster by default, a site's own subjects, the hub."""

from __future__ import annotations

import pytest

from hazardloop.log.placement import Topology, parse_placement, seal_aggregate_id
from hazardloop.runtime.settings import CommonSettings

TENANTS = ("refinery", "mine", "steelmill")


def test_one_cluster_stores_every_subject_and_keeps_the_single_seal_chain() -> None:
    one = CommonSettings().topology
    assert one.stream_subjects("hazard") == ["hazard.>"] and not one.is_hub and one.domain_of("mine") is None
    assert seal_aggregate_id(one.site) == "log"


def test_a_site_stores_only_its_subsidiaries_and_its_own_seal_chain() -> None:
    site = Topology(TENANTS, "site-a", {"mine": "site-b", "steelmill": "site-b"})
    assert site.stream_subjects("hazard") == ["hazard.refinery.>", "hazard.group.seal.site-a.*"]
    assert site.domain_of("mine") == "site-b" and site.domain_of("refinery") is None


def test_the_hub_has_no_subjects_of_its_own() -> None:
    hub = Topology(TENANTS, None, {"refinery": "site-a", "mine": "site-b", "steelmill": "site-b"})
    assert hub.is_hub and hub.stream_subjects("hazard") is None and hub.hosted == ()


def test_a_placement_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZARDLOOP_SITE", "site-a")
    monkeypatch.setenv("HAZARDLOOP_PLACEMENT", "mine=site-b, steelmill=site-b")
    topology = CommonSettings().topology
    assert topology.site == "site-a" and dict(topology.placement) == {"mine": "site-b", "steelmill": "site-b"}


@pytest.mark.parametrize("text", ["mine", "mine=", "=site-b", "mine:site-b"])
def test_a_malformed_placement_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="tenant=domain"):
        parse_placement(text)
