"""The auditor's check of the log, run by the console against a real nats-server: the
last seal, the chain intact or its first fault named, the reconciliation's exceptions,
a time bound that reports how far it got, and the result kept across page loads."""

from __future__ import annotations

from hazardloop.audit.seal import seal_log
from hazardloop.events import GENESIS_HASH, Accepted
from hazardloop.projections.db import create_store_engine
from hazardloop.runtime.settings import CommonSettings
from hazardloop_console import logcheck
from hazardloop_console.store import kept
from tests.factories import paid_report, report_filed, verified


async def append_all(store, events) -> None:
    for event in events:
        history = await store.load(event.tenant, event.aggregate_type, event.aggregate_id)
        await store.append(event, expected_version=history.version)


def settings_for(nats_url: str, stream_names: tuple[str, str]) -> CommonSettings:
    stream, prefix = stream_names
    return CommonSettings(nats_url=nats_url, stream_name=stream, subject_prefix=prefix)


async def test_a_sealed_healthy_log_is_intact_and_its_reward_gap_is_named(store, nc, nats_url, stream_names, tmp_path):
    unrewarded = report_filed()
    await append_all(store, [*paid_report(), unrewarded, verified(unrewarded)])
    sealed = await seal_log(nc, store)
    tail = report_filed(tenant="mine")
    await append_all(store, [tail])

    check = await logcheck.check_log(settings_for(nats_url, stream_names), "auditor-qian", seconds=30)

    assert check.complete and check.intact and check.faults == 0 and check.first_fault is None
    assert check.checked_through == check.last_sequence == await store.last_sequence()
    assert check.last_seal["first"] == 1 and check.last_seal["last"] == sealed.sealed_through and check.last_seal["at"]
    assert check.sealed_through == sealed.sealed_through
    assert [(f["kind"], f["report_id"]) for f in check.findings] == [("verified, no reward decision", unrewarded.aggregate_id)]

    engine = create_store_engine(f"sqlite:///{tmp_path / 'console.db'}")
    kept.create_all(engine)
    logcheck.keep(engine, check)
    assert logcheck.latest(engine) == check


async def test_a_forged_event_is_the_first_fault_with_its_report_and_sequence(store, nats_url, stream_names):
    filed = report_filed()
    await append_all(store, [filed])
    forged = Accepted.record(prev_hash=GENESIS_HASH, tenant=filed.tenant, aggregate_id=filed.aggregate_id, actor="someone")
    at = (await store.append(forged, expected_version=await store.last_sequence())).sequence

    check = await logcheck.check_log(settings_for(nats_url, stream_names), "auditor-qian", seconds=30)

    assert check.complete and check.intact is False and check.last_seal is None
    assert check.first_fault | {"detail": ""} == {
        "sequence": at, "kind": "chain broken", "detail": "", "tenant": filed.tenant, "aggregate": "report",
        "aggregate_id": filed.aggregate_id, "type": "Accepted",
    }


async def test_a_check_out_of_time_says_how_far_it_got_and_judges_nothing(store, nats_url, stream_names):
    await append_all(store, [report_filed() for _ in range(3)])
    check = await logcheck.check_log(settings_for(nats_url, stream_names), "auditor-qian", seconds=1e-6)
    assert not check.complete and check.intact is None and check.findings == []
    assert check.checked_through < check.last_sequence == 3
