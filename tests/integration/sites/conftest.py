"""A group of two sites and a hub, each a real nats-server on loopback, for every test here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client

from hazardloop.log.eventstore import EventStore
from hazardloop.log.hub import source_sites
from hazardloop.log.placement import Topology
from tests.integration.sites.topology import Hub, Site, connect, disconnect
from tests.waiting import until

GROUP_STREAM = "HAZARDLOOP_GROUP"
TENANTS = ("refinery", "mine", "steelmill")
HOSTS = {"site-a": ("refinery",), "site-b": ("mine", "steelmill")}
PLACEMENT = {tenant: site for site, tenants in HOSTS.items() for tenant in tenants}


def topology_of(site: str | None) -> Topology:
    """A site hosts its own subsidiaries and finds the others through their domains; the hub finds every one."""
    return Topology(TENANTS, site, {t: s for t, s in PLACEMENT.items() if s != site})


@dataclass
class Group:
    hub: Hub
    sites: dict[str, Site]

    def stop(self) -> None:
        for site in self.sites.values():
            site.stop()
        self.hub.stop()


async def linked(nc: Client, domain: str, timeout: float = 20.0) -> None:
    """Wait until ``domain``'s JetStream answers through ``nc`` (the leaf link is up)."""

    async def answers() -> bool:
        try:
            await nc.jetstream(timeout=0.5, domain=domain).account_info()
        except Exception:  # noqa: BLE001 - not linked yet, whatever the error
            return False
        return True

    await until(answers, timeout)


@pytest.fixture
def group(tmp_path: Path) -> Iterator[Group]:
    hub = Hub(tmp_path).start()
    group = Group(hub, {name: Site(name, hub, tmp_path) for name in HOSTS})
    try:
        for site in group.sites.values():
            site.start()
        yield group
    finally:
        group.stop()


@dataclass
class Connected:
    hub: Client
    sites: dict[str, Client]
    stores: dict[str, EventStore]
    """Each site's own store, and the hub's (key ``hub``), reading the group stream."""


@pytest.fixture
async def connected(group: Group) -> AsyncIterator[Connected]:
    hub = await connect(group.hub.url)
    sites = {name: await connect(site.url) for name, site in group.sites.items()}
    try:
        stores = {name: EventStore(nc, topology=topology_of(name), timeout=2.0, settle=2.0) for name, nc in sites.items()}
        for name, store in stores.items():
            await linked(hub, name)
            await store.ensure_stream()
        await source_sites(hub, GROUP_STREAM, list(HOSTS))
        stores["hub"] = EventStore(hub, stream=GROUP_STREAM, topology=topology_of(None), timeout=2.0, settle=2.0)
        await stores["hub"].ensure_stream()
        yield Connected(hub, sites, stores)
    finally:
        await disconnect(hub, *sites.values())

