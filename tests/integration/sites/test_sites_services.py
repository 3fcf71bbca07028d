"""The services of two sites on their own nats-servers, joined to a group hub.

Each site runs intake, verification, rewards and notifications on its own broker (a leaf
node in its own JetStream domain). Reports are filed, verified, rectified and paid at
both; site-a is cut off and goes on doing all of that while the hub keeps serving; a
group-wide check from site-b into site-a fails cleanly (503, nothing stored) while it is
cut and succeeds once it is back; the group stream then holds every event of both sites
exactly once, in each site's order, and verifies (hashes, chains, each site's seals).
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazardloop.audit.seal import seal_log
from hazardloop.log.eventstore import EventStore
from hazardloop.web.auth import Role
from tests.factories import report_body, seed_catalogue
from tests.integration.services.conftest import Harness
from tests.integration.sites.conftest import GROUP_STREAM, HOSTS, PLACEMENT, linked, topology_of
from tests.integration.sites.logs import assert_mirrors, caught_up, messages
from tests.integration.sites.topology import connect, disconnect
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(150)
FOUR = ("intake", "verification", "rewards", "notifications")


class SiteHarness(Harness):
    """The services of one site: its catalogue is seeded in the subsidiaries it hosts, the
    only ones whose events its services read."""

    def __init__(self, site, folder: Path) -> None:
        super().__init__(site.url, folder, "HAZARDLOOP", "hazard")
        folder.mkdir()
        self.hosted = list(HOSTS[site.name])
        self.common |= {"site": site.name, "nats_timeout": 1.0, "placement": {t: s for t, s in PLACEMENT.items() if s != site.name}}

    def catalogue(self, intake) -> None:
        seed_catalogue(intake, self.headers("safety-manager", tenants=self.hosted, roles=[Role.MANAGER]), self.hosted)


class SiteDesk:
    """One site's four services, driven through their HTTP APIs for one of its subsidiaries."""

    def __init__(self, harness: Harness, tenant: str) -> None:
        self.harness, self.tenant = harness, tenant
        self.intake, self.verification, self.rewards, _ = (harness.start(service) for service in FOUR)
        self.verifier = self.headers("safety", Role.VERIFIER)
        self.finance = self.headers("finance", Role.FINANCE)
        self.head = self.headers("head", Role.MANAGER)
        self.hq = harness.headers("hq-safety", tenants=["*"], roles=[Role.VERIFIER, Role.MANAGER])

    def headers(self, user: str, *roles: Role) -> dict[str, str]:
        return self.harness.headers(f"{self.tenant}-{user}", tenants=[self.tenant], roles=list(roles) or [Role.REPORTER])

    def file(self, reporter: str = "emp-1") -> str:
        filed = self.intake.post("/reports", json=report_body(self.tenant), headers=self.headers(reporter))
        assert filed.status_code == 201, filed.text
        report_id = filed.json()["report_id"]
        wait_for(lambda: self.verification.get(f"/reports/{report_id}", headers=self.verifier).status_code == 200)
        return report_id

    def verify(self, report_id: str, grade: str = "larger") -> None:
        body = {"outcome": "confirmed_hazard", "grade": grade}
        if grade != "major":  # a major hazard's rectification is planned apart
            body["rectification"] = {"owner": "maint-wang"}
        done = self.verification.post(f"/reports/{report_id}/verification", json=body, headers=self.verifier)
        assert done.status_code == 201, done.text

    def rectify(self, report_id: str) -> None:
        done = self.verification.post(f"/reports/{report_id}/rectification", json={"measures": "Guard refitted"}, headers=self.verifier)
        assert done.status_code == 201, done.text

    def pay(self, report_id: str, reference: str) -> None:
        reward = f"/rewards/{report_id}"
        wait_for(lambda: (r := self.rewards.get(reward, headers=self.finance)).status_code == 200 and r.json()["status"] == "proposed")
        assert self.rewards.post(f"{reward}/approval", json={"approve": True}, headers=self.head).status_code == 201
        wait_for(lambda: self.rewards.get(reward, headers=self.finance).json()["status"] == "approved")
        assert self.rewards.post(f"{reward}/payment", json={"payment_reference": reference}, headers=self.finance).status_code == 201
        wait_for(lambda: self.rewards.get(reward, headers=self.finance).json()["status"] == "granted")

    def whole_loop(self, reference: str) -> str:
        report_id = self.file()
        self.verify(report_id)
        self.rectify(report_id)
        self.pay(report_id, reference)
        return report_id


@pytest.fixture
def hq_console(group, connected, tmp_path: Path) -> Iterator[Path]:
    """HQ's console at the hub, reading the group stream; the path of its store."""
    harness = Harness(group.hub.url, tmp_path / "hub-services", GROUP_STREAM, "hazard")
    harness.tmp_path.mkdir()
    harness.common |= {"placement": PLACEMENT}
    harness.start("console")
    try:
        yield harness.tmp_path / "console.db"
    finally:
        harness.close()


def cases_by_tenant(store: Path) -> dict[str, set[str]]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT tenant, report_id FROM console_cases").fetchall()
    return {tenant: {r for t, r in rows if t == tenant} for tenant in {t for t, _ in rows}}


@pytest.fixture
def desks(group, connected, tmp_path: Path) -> Iterator[dict[str, SiteDesk]]:
    harnesses = {name: SiteHarness(site, tmp_path / f"{name}-services") for name, site in group.sites.items()}
    try:
        yield {name: SiteDesk(harness, HOSTS[name][0]) for name, harness in harnesses.items()}
    finally:
        for harness in harnesses.values():
            harness.close()


def run(coroutine):
    return asyncio.run(coroutine)


async def seal(url: str, site: str) -> None:
    nc = await connect(url)
    try:
        await seal_log(nc, EventStore(nc, topology=topology_of(site)))
    finally:
        await disconnect(nc)


async def settled_group(group) -> dict:
    """Wait for the group stream to hold both sites; (group log, each site's log)."""
    hub = await connect(group.hub.url)
    sites = {name: await connect(site.url) for name, site in group.sites.items()}
    try:
        for name in sites:
            await linked(hub, name)
        await caught_up(hub, GROUP_STREAM, sites)
        return {"group": await messages(hub, GROUP_STREAM), **{name: await messages(nc, "HAZARDLOOP") for name, nc in sites.items()}}
    finally:
        await disconnect(hub, *sites.values())


def test_two_sites_work_through_a_cut_and_the_group_holds_every_event_once(group, desks, hq_console) -> None:
    a, b = desks["site-a"], desks["site-b"]
    paid = {"site-a": [a.whole_loop("PAY-A1")], "site-b": [b.whole_loop("PAY-B1")]}
    major = b.file()
    b.verify(major, grade="major")
    wait_for(lambda: b.verification.get(f"/reports/{major}", headers=b.verifier).json()["stage"] == "verified")

    group.sites["site-a"].cut()
    wait_for(lambda: a.intake.get("/readyz").status_code == 200, timeout=30)
    paid["site-a"].append(a.whole_loop("PAY-A2"))  # the cut site files, verifies, rectifies and pays alone
    paid["site-b"].append(b.whole_loop("PAY-B2"))  # and so does the other

    check = {"look_for": "Guards removed from rotating shafts", "equipment": "P-*", "subsidiaries": ["refinery"]}
    refused = b.verification.post(f"/reports/{major}/checks", json=check, headers=b.hq)
    assert refused.status_code == 503 and refused.headers["Retry-After"], refused.text

    group.sites["site-a"].restore()
    wait_for(lambda: a.intake.get("/readyz").status_code == 200, timeout=30)
    logs = run(settled_group(group))
    assert not [m for m in logs["group"] + logs["site-b"] if ".check." in m.subject or ".checktask." in m.subject]

    raised = b.verification.post(f"/reports/{major}/checks", json=check, headers=b.hq)  # the link is back: it goes through
    assert raised.status_code == 201, raised.text
    wait_for(lambda: any(".checktask." in m.subject for m in run(settled_group(group))["site-a"]), timeout=30)

    for name, site in group.sites.items():
        run(seal(site.url, name))
    logs = run(settled_group(group))
    assert_mirrors(logs["group"], {name: logs[name] for name in HOSTS})
    for name, reports in paid.items():
        granted = [m.subject for m in logs["group"] if m.subject.endswith(".RewardGranted")]
        assert {subject.split(".")[3] for subject in granted} >= set(reports), name

    filed = {}  # the reports each site's stream holds, by subsidiary: what HQ's console must show
    for name in HOSTS:
        for m in logs[name]:
            if m.subject.endswith(".ReportFiled"):
                filed.setdefault(m.subject.split(".")[1], set()).add(m.subject.split(".")[3])
    wait_for(lambda: cases_by_tenant(hq_console) == filed, timeout=30)

    verified = subprocess.run(
        [sys.executable, "-m", "hazardloop.tools.cli", "audit", "verify", "--nats-url", group.hub.url, "--stream", GROUP_STREAM],
        capture_output=True, text=True, timeout=60,
    )
    assert verified.returncode == 0 and "OK" in verified.stdout, verified.stdout + verified.stderr
