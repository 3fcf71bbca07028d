"""The shipped hub.conf and site.conf work together as shipped: each site's services append
as the `hazardloop` user, one site's service decides on the other's aggregate through the
hub, the hub's admin makes the group stream, and an auditor at the hub reads it whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardloop.log.eventstore import EventStore
from hazardloop.log.hub import source_sites
from hazardloop.log.natsserver import free_port
from tests.factories import report_filed, verified
from tests.integration.audit.conftest import append_all
from tests.integration.deploy.cluster import PASSWORDS
from tests.integration.sites.conftest import GROUP_STREAM, HOSTS, linked, topology_of
from tests.integration.sites.logs import assert_mirrors, caught_up, messages
from tests.integration.sites.shipped import Shipped
from tests.integration.sites.topology import connect, disconnect

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[dict[str, Shipped]]:
    leaf = free_port()
    servers = {"hub": Shipped("hub.conf", "hub", tmp_path / "hub")}
    servers |= {name: Shipped("site.conf", name, tmp_path / name) for name in HOSTS}
    try:
        for server in servers.values():
            server.start(leaf)
        yield servers
    finally:
        for server in servers.values():
            server.stop()


async def test_the_shipped_hub_and_sites_source_guard_and_read_as_their_users(shipped) -> None:
    admin = await connect(shipped["hub"].url("admin", PASSWORDS["NATS_ADMIN_PASSWORD"]))
    auditor = await connect(shipped["hub"].url("auditor", PASSWORDS["NATS_AUDITOR_PASSWORD"]))
    services = {name: await connect(shipped[name].url("hazardloop", PASSWORDS["NATS_SERVICE_PASSWORD"])) for name in HOSTS}
    try:
        stores = {name: EventStore(nc, topology=topology_of(name)) for name, nc in services.items()}
        for name, store in stores.items():
            await linked(admin, name)
            await store.ensure_stream()
        filed = report_filed("refinery")
        await append_all(stores["site-a"], [filed, verified(filed)])
        remote = report_filed("mine")
        await append_all(stores["site-b"], [remote])
        # site-a's service decides on site-b's aggregate: loaded through site-b's domain, guarded there
        await stores["site-a"].decide("mine", "report", remote.aggregate_id, lambda history: [verified(history.events[-1].event)])

        sourced = await source_sites(admin, GROUP_STREAM, list(HOSTS))
        assert set(sourced.added) == set(HOSTS)
        await caught_up(auditor, GROUP_STREAM, services)
        site_logs = {name: await messages(nc, "HAZARDLOOP") for name, nc in services.items()}
        assert [m.subject.split(".")[-1] for m in site_logs["site-b"]] == ["ReportFiled", "Verified"]
        assert_mirrors(await messages(auditor, GROUP_STREAM), site_logs)
        refused = [line for server in shipped.values() for line in (server.folder / "nats.log").read_text().splitlines() if "Violation" in line]
        assert refused == [], "a user was refused something it needs"
    finally:
        await disconnect(admin, auditor, *services.values())
