"""A small real log on the session's nats-server: healthy reports, a seal, an unsealed tail."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import nats
import pytest

from hazardloop.audit.seal import seal_log
from hazardloop.log.eventstore import EventStore, Subjects
from tests.factories import paid_report, report_filed, verified


@dataclass(frozen=True)
class Log:
    url: str
    stream: str
    prefix: str
    sealed_through: int
    last: int


async def append_all(store: EventStore, events) -> None:
    for event in events:
        history = await store.load(event.tenant, event.aggregate_type, event.aggregate_id)
        await store.append(event, expected_version=history.version)


async def _fill(url: str, stream: str, prefix: str) -> Log:
    connection = await nats.connect(url)
    try:
        store = EventStore(connection, stream=stream, subjects=Subjects(prefix))
        await store.ensure_stream()
        paid, others = paid_report(), [report_filed() for _ in range(2)]
        # interleaved, as live traffic is: three filings, three verifications, then the reward
        await append_all(store, [paid[0], *others, paid[1], *(verified(filed) for filed in others), *paid[2:]])
        sealed = await seal_log(connection, store)
        tail = report_filed(tenant="mine")
        await append_all(store, [tail, verified(tail, "not_confirmed", None)])
        return Log(url, stream, prefix, sealed.sealed_through, await store.last_sequence())
    finally:
        await connection.close()


@pytest.fixture
def small_log(nats_url: str, stream_names: tuple[str, str]) -> Log:
    stream, prefix = stream_names
    return asyncio.run(_fill(nats_url, stream, prefix))
