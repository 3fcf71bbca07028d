"""Intake with two HTTP worker processes on one port: both take filings, one projection
takes each report in once, reads from either see it, and both stop together."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import System
from tests.factories import report_body
from tests.waiting import wait_for


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return status != "Z"


def test_two_workers_share_the_port_and_one_projection_takes_each_report_in_once(system: System):
    system.env["HAZARDLOOP_HTTP_WORKERS"] = "2"
    system.start("intake")
    first = system.processes["intake"].pid
    [extra] = wait_for(lambda: children(first))
    reporter = system.headers("worker-test")
    extra_before = cpu_seconds(extra)
    filed = []
    for n in range(60):  # a new connection each: the kernel spreads connections over the two
        with httpx.Client(base_url=system.url("intake"), headers=reporter) as client:
            response = client.post("/reports", json=report_body(description=f"Loose grating plate number {n}"))
        assert response.status_code == 201, response.text
        filed.append(response.json()["report_id"])
    assert cpu_seconds(extra) - extra_before > 0.05  # the extra worker filed its share

    def listed() -> set[str]:
        with httpx.Client(base_url=system.url("intake"), headers=reporter) as client:
            return {report["report_id"] for report in client.get("/reports", params={"limit": 500}).json()}

    assert wait_for(lambda: listed() == set(filed))
    for report_id in filed[:10]:  # any worker reads the one store
        with httpx.Client(base_url=system.url("intake"), headers=reporter) as client:
            assert client.get(f"/reports/{report_id}").status_code == 200

    system.stop("intake")
    assert stops_within(extra, seconds=15)


def test_an_extra_worker_stops_when_the_first_is_killed_outright(system: System):
    """A first worker killed (out of memory, SIGKILL) passes no signal on: the extra one
    notices it is orphaned and stops rather than serve on without a projection."""
    system.env["HAZARDLOOP_HTTP_WORKERS"] = "2"
    system.launch("intake")
    system.wait_ready("intake")
    [extra] = wait_for(lambda: children(system.processes["intake"].pid))
    system.stop("intake", kill=True)
    assert stops_within(extra, seconds=15)


def stops_within(pid: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)
