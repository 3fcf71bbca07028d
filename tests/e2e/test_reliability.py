"""Reliability: reporters and a verifier at work while each service is killed with SIGKILL
and restarted, while the broker stalls (SIGSTOP) and while it is killed too; afterwards
every acknowledged report is in the log and in each projection exactly once, every
verified report has exactly one reward decision, every message its reporter is owed is in
their inbox once, nothing was dead-lettered, and each store equals a replay of the log."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import nats
import pytest

from hazardloop.log.natsserver import NatsServer
from hazardloop.tools.registry import SERVICES
from tests.e2e.conftest import System
from tests.e2e.load import Load
from tests.e2e.test_system import dump
from tests.waiting import wait_for

REPORTS_IN_A_PROJECTION = {
    "intake": "intake_reports",
    "verification": "verification_cases",
    "rewards": "reward_reports",
    "notifications": "notification_reports",
}
STALL = 6.0
"""Seconds the broker is stopped: longer than a service waits for an append to settle, so
some answers during the stall are 503s that the clients repeat."""
REWARD_DECISIONS = ("RewardProposed", "RewardDeclined")
OWED = {None: [], "confirmed_hazard": ["verified", "reward_proposed"], "not_confirmed": ["verified", "not_rewarded"]}
"""The reporter's messages beyond "received", by the verifier's outcome."""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[NatsServer]:
    """A broker of this test's own: stalling the session's would stall every other test."""
    server = NatsServer(tmp_path / "nats").start(log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.process.send_signal(signal.SIGCONT)  # never leave it stopped, whatever happened
        server.stop()


@pytest.fixture
def system(broker: NatsServer, tmp_path: Path, stream_names: tuple[str, str]) -> Iterator[System]:
    stream, prefix = stream_names
    running = System(broker.url, tmp_path, stream, prefix)
    running.env |= {"HAZARDLOOP_APPEND_SETTLE_SECONDS": "3"}  # within STALL: some filings meet a 503 and repeat
    try:
        yield running
    finally:
        running.stop()


def test_each_service_killed_the_broker_stalled_and_killed_under_load_nothing_lost_or_doubled(system, broker):
    system.start(*SERVICES)
    with Load(system) as load:

        def flowing() -> None:
            """Wait until reports are filed and verified again: the next fault lands under load."""
            filed, verified = load.progress()
            wait_for(lambda: (now := load.progress())[0] >= filed + 3 and now[1] >= verified + 2, timeout=60)

        for service in SERVICES:
            flowing()
            system.stop(service, kill=True)
            system.start(service)
        flowing()
        broker.process.send_signal(signal.SIGSTOP)
        try:
            time.sleep(STALL)  # the fault itself: no one can hear the broker meanwhile
        finally:
            broker.process.send_signal(signal.SIGCONT)
        flowing()
        broker.kill()  # SIGKILL, then back on the same port and store
        broker.start(log_file=broker.store_dir.parent / "nats.log")
        flowing()

    assert load.defects == []
    acknowledged, verified = load.acknowledged, load.verified
    assert len(acknowledged) >= 21 and len(verified) >= 14  # each fault met filings and verifications

    # The log: each acknowledged report filed once and nothing else filed, each verification once.
    log = asyncio.run(subjects_in_log(system))
    assert log["ReportFiled"] == Counter(acknowledged.keys()), "filed twice, or filed but answered as not stored"
    assert log["Verified"] == Counter(verified.keys())

    # Each projection catches up with the log and holds each report once; each verification
    # gets one reward decision; each reporter is told each step once.
    for service, table in REPORTS_IN_A_PROJECTION.items():
        catches_up(lambda s=service, t=table: Counter(column(system, s, f"SELECT report_id FROM {t}")), log["ReportFiled"], service)
    catches_up(lambda: Counter(column(system, "rewards", "SELECT report_id FROM rewards")), log["Verified"], "reward decisions")
    owed = Counter((report_id, "received") for report_id in acknowledged)
    owed.update((report_id, kind) for report_id, outcome in verified.items() for kind in OWED[outcome])
    boxes = "SELECT box, kind FROM notification_inbox WHERE box NOT LIKE '@%'"
    catches_up(lambda: Counter(rows(system, "notifications", boxes)), owed, "reporters' messages")
    catches_up(lambda: column(system, "notifications", "SELECT key FROM notification_inbox WHERE status != 'sent'"), [], "inbox")
    log = asyncio.run(subjects_in_log(system))
    assert log["RewardProposed"] + log["RewardDeclined"] == log["Verified"], "one reward decision per verified report"
    messages = column(system, "notifications", "SELECT key FROM notification_inbox")
    assert log["NotificationSent"] == Counter(messages), "each message's delivery to its inbox recorded once"

    for service in SERVICES:
        assert column(system, service, "SELECT error FROM dead_letter") == [], f"{service} dead-lettered events"

    # What the reporters see: their report, and their messages, each once.
    with httpx.Client(timeout=10) as http:
        for report_id, report in acknowledged.items():
            url = f"{system.url('intake')}/receipt" if report.anonymous else f"{system.url('intake')}/reports/{report_id}"
            read = http.get(url, headers=report.reader)
            assert read.status_code == 200 and read.json()["report_id"] == report_id
            inbox = http.get(f"{system.url('notifications')}/inbox", params={"report_id": report_id}, headers=report.reader)
            assert inbox.status_code == 200
            assert Counter(m["kind"] for m in inbox.json()) == Counter(["received", *OWED[verified.get(report_id)]])

    # Whatever the kills interrupted, each store equals a clean replay of the log.
    system.stop()
    for service in SERVICES:
        rebuilt = system.state / f"{service}-rebuilt.db"
        assert "replayed" in system.cli("replay", service, "--database-url", f"sqlite:///{rebuilt}").stdout
        assert dump(rebuilt) == dump(system.state / f"{service}.db"), f"{service}: a replay differs from the store that lived through the faults"


def catches_up(read: Callable[[], object], expected: object, what: str, timeout: float = 60) -> None:
    """Poll until ``read()`` equals ``expected``; past the deadline, fail showing the difference."""
    deadline = time.monotonic() + timeout
    while (actual := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert actual == expected, f"{what}: not caught up with the log within {timeout}s"


def rows(system: System, service: str, query: str) -> list[tuple]:
    """A service's store, read-only, as it is while the service runs."""
    with closing(sqlite3.connect(f"file:{system.state / f'{service}.db'}?mode=ro", uri=True)) as db:
        return db.execute(query).fetchall()


def column(system: System, service: str, query: str) -> list:
    return [row[0] for row in rows(system, service, query)]


async def subjects_in_log(system: System) -> dict[str, Counter]:
    """Aggregate ids per event type, counted over the whole stream."""
    connection = await nats.connect(system.nats_url)
    try:
        js = connection.jetstream()
        info = await js.add_consumer(system.stream, filter_subject=f"{system.prefix}.>", ack_policy="none")
        subscription = await js.pull_subscribe_bind(info.name, stream=system.stream)
        seen: dict[str, Counter] = {}
        read = 0
        while read < info.num_pending:
            for message in await subscription.fetch(500, timeout=5):
                _, _, _, aggregate_id, event_type = message.subject.split(".")
                seen.setdefault(event_type, Counter())[aggregate_id] += 1
                read += 1
        await js.delete_consumer(system.stream, info.name)
        return {kind: seen.get(kind, Counter()) for kind in {"ReportFiled", "Verified", "NotificationSent", *REWARD_DECISIONS, *seen}}
    finally:
        await connection.close()
