"""`hazardloop reconcile rewards` on a real broker: silent on a healthy log, and it finds a
seeded missing decision and a double payment, naming the reports."""

from __future__ import annotations

import asyncio

import nats
from typer.testing import CliRunner

from hazardloop.events import RewardGranted
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.tools.cli import cli
from tests.factories import paid_report, report_filed, verified


async def append(nats_url: str, stream: str, prefix: str, *events) -> None:
    connection = await nats.connect(nats_url)
    store = EventStore(connection, stream=stream, subjects=Subjects(prefix))
    await store.ensure_stream()
    for event in events:
        history = await store.load(event.tenant, event.aggregate_type, event.aggregate_id)
        await store.append(event, expected_version=history.version)
    await connection.close()


def reconcile(monkeypatch, nats_url: str, stream: str, prefix: str):
    for name, value in {"HAZARDLOOP_NATS_URL": nats_url, "HAZARDLOOP_STREAM_NAME": stream, "HAZARDLOOP_SUBJECT_PREFIX": prefix}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NATS_URL", raising=False)
    return CliRunner().invoke(cli, ["reconcile", "rewards"], env={"COLUMNS": "200"})


def test_a_healthy_log_reconciles_and_seeded_anomalies_are_found(monkeypatch, nats_url, stream_names):
    stream, prefix = stream_names
    healthy = paid_report()
    asyncio.run(append(nats_url, stream, prefix, *healthy))
    clean = reconcile(monkeypatch, nats_url, stream, prefix)
    assert clean.exit_code == 0 and "nothing amiss" in clean.output and "5 events read" in clean.output

    forgotten = report_filed()
    paid = healthy[-1]
    again = RewardGranted.record(
        **{k: v for k, v in paid.model_dump().items() if k not in ("event_id", "hash", "prev_hash", "occurred_at", "type", "schema_version", "payment_reference")},
        prev_hash=paid.hash,
        payment_reference="PAY-2",
    )
    asyncio.run(append(nats_url, stream, prefix, forgotten, verified(forgotten), again))
    found = reconcile(monkeypatch, nats_url, stream, prefix)
    assert found.exit_code == 1
    assert "verified, no reward decision" in found.output and forgotten.aggregate_id in found.output
    assert "paid twice" in found.output and "PAY-2" in found.output
