"""The group stream on NATS's own mechanisms: leaf nodes, JetStream domains, stream sourcing.

Two sites (site-a hosts refinery; site-b hosts mine and steelmill), each its own
nats-server and domain, and a hub whose group stream sources both. What a group relies on:
a cut site goes on alone, a decision from elsewhere into it fails cleanly and stores
nothing, and once the link is back the group stream holds every event of every site
exactly once, in each site's order, provably (seals checked at each site's sequences).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.audit.group import GroupVerifier
from hazardloop.audit.seal import seal_log
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.log.hub import HubRefusal, source_sites
from tests.factories import report_filed, verified
from tests.integration.audit.conftest import append_all
from tests.integration.sites.conftest import GROUP_STREAM, HOSTS, linked
from tests.integration.sites.logs import assert_mirrors, caught_up, count, messages
from tests.waiting import until

pytestmark = pytest.mark.timeout(120)


def reports(tenant: str, count: int, **overrides) -> list:
    """``count`` filings with their verifications, interleaved as live traffic is."""
    filed = [report_filed(tenant, **overrides) for _ in range(count)]
    return [*filed, *(verified(f) for f in filed)]


def hub_sources(url: str, *sites: str) -> subprocess.CompletedProcess[str]:
    """``hazardloop hub sources`` as an operator runs it at the hub."""
    arguments = [arg for site in sites for arg in ("--site", site)]
    command = [sys.executable, "-m", "hazardloop.tools.cli", "hub", "sources", *arguments, "--stream", GROUP_STREAM, "--nats-url", url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


async def verify_group(hub) -> tuple:
    verifier = GroupVerifier()
    for message in await messages(hub, GROUP_STREAM):
        verifier.feed(message.sequence, message.subject, message.data, headers=message.headers)
    return verifier.finish(), verifier.sites()


async def test_a_cut_site_goes_on_alone_and_the_group_gets_every_event_once_in_site_order(group, connected) -> None:
    a, b, hub = connected.stores["site-a"], connected.stores["site-b"], connected.stores["hub"]
    await append_all(a, reports("refinery", 3))
    await append_all(b, reports("mine", 2) + reports("steelmill", 2))
    await caught_up(connected.hub, GROUP_STREAM, connected.sites)

    group.sites["site-a"].cut()
    await linked(connected.sites["site-a"], "site-a")  # the site's own clients are back on it
    # site-a files, verifies and seals on its own; site-b and the hub go on meanwhile
    cut_off = reports("refinery", 4)
    await append_all(a, cut_off)
    await seal_log(connected.sites["site-a"], a)
    await append_all(b, reports("mine", 2))
    assert await hub.last_sequence() >= 14

    # a decision from the hub (or another site) on site-a's aggregate fails cleanly ...
    pending = report_filed("refinery")
    await append_all(a, [pending])
    for elsewhere in (hub, b):
        with pytest.raises(EventStoreUnavailable):
            await elsewhere.decide("refinery", "report", pending.aggregate_id, lambda history: [verified(history.events[-1].event)])
    # ... while one on site-b's aggregate is appended to site-b's stream, guarded there
    remote = report_filed("mine")
    await append_all(b, [remote])
    decided = await hub.decide("mine", "report", remote.aggregate_id, lambda history: [verified(history.events[-1].event)])
    assert (await b.load("mine", "report", remote.aggregate_id)).events[-1].event == decided[0]

    group.sites["site-a"].restore()
    await linked(connected.hub, "site-a")
    await linked(connected.sites["site-a"], "site-a")
    await caught_up(connected.hub, GROUP_STREAM, connected.sites)
    assert len((await a.load("refinery", "report", pending.aggregate_id)).events) == 1  # nothing of the refused decision

    await seal_log(connected.sites["site-b"], b)
    await caught_up(connected.hub, GROUP_STREAM, connected.sites)
    site_logs = {name: await messages(nc, "HAZARDLOOP") for name, nc in connected.sites.items()}
    group_log = await messages(connected.hub, GROUP_STREAM)
    assert_mirrors(group_log, site_logs)
    assert len({m.headers["Nats-Msg-Id"] for m in group_log}) == len(group_log)
    assert not any(name.startswith("Nats-Expected") for m in group_log for name in m.headers)

    verdict, sites = await verify_group(connected.hub)
    assert verdict.ok, verdict.faults
    assert set(sites) == set(HOSTS) and all(v.ok and v.seals == 1 for v in sites.values())


async def test_a_hub_restarting_mid_sourcing_and_a_site_rejoining_after_a_long_gap_lose_and_repeat_nothing(group, connected) -> None:
    """The hub killed while it sources site-a, which is then cut off while 2,000 more events
    are appended to it; both come back together. (One test for both: each waits out the
    server's own retry schedule.)"""
    a, b = connected.stores["site-a"], connected.stores["site-b"]
    await append_all(b, reports("steelmill", 2))
    await a.append_many([(e, 0) for e in (report_filed("refinery") for _ in range(400))])
    group.hub.server.kill()
    group.sites["site-a"].cut()
    await linked(connected.sites["site-a"], "site-a")  # the site's own clients are back on it
    for _ in range(5):  # many events appended while cut off
        await a.append_many([(e, 0) for e in (report_filed("refinery") for _ in range(400))])
    await append_all(b, reports("mine", 2))
    group.hub.start()
    group.sites["site-a"].restore()
    await linked(connected.hub, "site-a")
    await linked(connected.sites["site-a"], "site-a")
    # the hub's sources first try before the sites' leaf links are back, and the server
    # retries them on its own schedule: about 40 s here (see docs/operations/sites-and-hub.md)
    assert await caught_up(connected.hub, GROUP_STREAM, connected.sites, timeout=75) == 2400 + 8
    site_logs = {name: await messages(nc, "HAZARDLOOP") for name, nc in connected.sites.items()}
    assert_mirrors(await messages(connected.hub, GROUP_STREAM), site_logs)


async def test_a_site_with_a_wrong_clock_keeps_its_own_order(connected) -> None:
    """The group stream follows each site's sequence, never the events' own times."""
    a = connected.stores["site-a"]
    now = datetime.now(UTC)
    skewed = [report_filed("refinery", occurred_at=now + timedelta(days=3650)), report_filed("refinery", occurred_at=now - timedelta(days=3650))]
    later = report_filed("refinery")
    await append_all(a, [*skewed, later])
    await caught_up(connected.hub, GROUP_STREAM, connected.sites)
    held = [m.headers["Nats-Msg-Id"] for m in await messages(connected.hub, GROUP_STREAM)]
    assert held == [str(e.event_id) for e in (*skewed, later)]
    verdict, _ = await verify_group(connected.hub)
    assert verdict.ok, verdict.faults


async def test_sourcing_again_is_idempotent_and_a_remade_site_stream_is_refused(group, connected) -> None:
    a = connected.stores["site-a"]
    await append_all(a, reports("refinery", 2))
    again = await asyncio.to_thread(hub_sources, group.hub.url, *HOSTS)
    assert again.returncode == 0 and "sources site-a, site-b; added: none" in again.stdout, again.stderr
    await caught_up(connected.hub, GROUP_STREAM, connected.sites)

    group.sites["site-a"].lose_store()  # the stream denies deletes: only a lost store remakes it
    await linked(connected.sites["site-a"], "site-a")
    await linked(connected.hub, "site-a")
    await a.ensure_stream()  # what a service does on start: the stream is made again, sequences from 1
    await append_all(a, reports("refinery", 1))

    with pytest.raises(HubRefusal, match="made again"):
        await source_sites(connected.hub, GROUP_STREAM, list(HOSTS))
    refused = await asyncio.to_thread(hub_sources, group.hub.url, *HOSTS)
    assert refused.returncode == 1 and "site-a's stream HAZARDLOOP was made again" in refused.stderr
    # The server itself takes the new stream again from its sequence 1 (after about 20 s
    # here): nothing of either stream is lost, and verification names every restarted sequence.
    async def both_streams_held() -> bool:
        return await count(connected.hub, GROUP_STREAM) == 6

    await until(both_streams_held, timeout=60)
    verdict, _ = await verify_group(connected.hub)
    assert [(f.kind, f.detail.split(":")[0]) for f in verdict.faults] == [
        ("duplicate", "site refinery, its sequence 1"), ("duplicate", "site refinery, its sequence 2")]
