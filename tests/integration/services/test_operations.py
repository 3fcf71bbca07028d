"""Operators see what a projection parked, over HTTP and on the command line."""

from __future__ import annotations

import asyncio

import nats

from hazardloop.web.auth import Role
from tests.waiting import wait_for


def test_a_malformed_event_is_parked_and_listed_for_operators_only(harness):
    intake = harness.start("intake")

    async def publish_garbage() -> int:
        connection = await nats.connect(harness.nats_url)
        ack = await connection.jetstream().publish(f"{harness.prefix}.refinery.report.x.ReportFiled", b"{not json")
        await connection.close()
        return ack.seq

    sequence = asyncio.run(publish_garbage())
    operator = harness.headers("ops-wang", roles=[Role.OPERATOR])
    parked = wait_for(lambda: intake.get("/dead-letters", headers=operator).json())
    assert [(p["sequence"], p["subject"]) for p in parked] == [(sequence, f"{harness.prefix}.refinery.report.x.ReportFiled")]
    assert "cannot decode" in parked[0]["error"]
    assert intake.get("/dead-letters", headers=harness.headers()).status_code == 403
    assert intake.get("/readyz").status_code == 200  # parked, not stuck
