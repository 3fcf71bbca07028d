"""The fraud-signal routes of a running rewards service on a real broker: who may see and
decide signals, what bad input gets (a 4xx naming the field, nothing appended), and the
rule parameters set per subsidiary."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import nats

from hazardloop.events import GENESIS_HASH, DirectoryEntrySet, Location, PersonEntry, ReportFiled
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

REPORTER = "p-" + "ef" * 16


def file_the_same_spot_three_times(harness) -> list[str]:
    """Three filings by one reporter of one valve, as intake records them."""
    now = datetime.now(UTC)
    filed = [
        ReportFiled.record(
            prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id=f"valve-{n}", actor="reporter:x", occurred_at=now + timedelta(hours=n),
            category="unsafe_equipment", subtype="other", description="Valve V-7 leaks",
            location=Location(site="North", area="Pump house", spot="V-7", equipment_tag="V-7"),
            observed_at=now, reporter=REPORTER,
        )
        for n in range(3)
    ]  # fmt: skip

    async def append() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix), timeout=2.0)
            await store.append_many([(event, 0) for event in filed])
        finally:
            await connection.close()

    asyncio.run(append())
    return [event.aggregate_id for event in filed]


def signal_events(harness) -> list[str]:
    """Reviewers' decisions on signals (rewards records each signal raised as well, in its own time)."""
    return [subject for subject, _ in harness.raw_log("signal") if not subject.endswith(".SignalRaised")]


def test_reviewers_dismiss_a_signal_with_a_reason_and_bad_input_appends_nothing(harness):
    rewards = harness.start("rewards")
    head = harness.headers("head-liu", roles=[Role.MANAGER])
    reports = file_the_same_spot_three_times(harness)
    listed = wait_for(lambda: (r := rewards.get("/signals", params={"tenant": "refinery", "report": reports[0]}, headers=head).json()) and r)
    [signal] = listed
    assert (signal["rule"], signal["evidence"], signal["status"]) == ("near_duplicates", sorted(reports), "open")
    path = f"/signals/{signal['signal_id']}/dismissal"

    too_short = rewards.post(path, json={"tenant": "refinery", "reason": "no"}, headers=head)
    assert too_short.status_code == 422 and "reason" in too_short.text
    assert rewards.post(path, json={"tenant": "refinery", "reason": 5}, headers=head).status_code == 422
    assert rewards.post(f"/signals/sig-{'0' * 32}/dismissal", json={"tenant": "refinery", "reason": "Checked."}, headers=head).status_code == 404
    assert rewards.post("/signals/not-a-signal/dismissal", json={"tenant": "refinery", "reason": "Checked."}, headers=head).status_code == 422
    other = harness.headers("head-mine", tenants=["mine"], roles=[Role.MANAGER])
    assert rewards.post(path, json={"tenant": "refinery", "reason": "Checked."}, headers=other).status_code == 403
    assert rewards.post(path, json={"tenant": "mine", "reason": "Checked."}, headers=other).status_code == 404
    reporter = harness.headers("emp-1")
    assert rewards.post(path, json={"tenant": "refinery", "reason": "Checked."}, headers=reporter).status_code == 403
    assert rewards.get("/signals", params={"tenant": "refinery"}, headers=reporter).status_code == 403
    assert signal_events(harness) == []

    done = rewards.post(path, json={"tenant": "refinery", "reason": "Three separate leaks, fixed one by one."}, headers=head)
    assert done.status_code == 201, done.text
    [dismissed] = rewards.get("/signals", params={"tenant": "refinery", "report": reports[0], "status": "all"}, headers=head).json()
    assert (dismissed["status"], dismissed["decided_by"], dismissed["reason"]) == ("dismissed", "head-liu", "Three separate leaks, fixed one by one.")
    assert rewards.get("/signals", params={"tenant": "refinery", "report": reports[0]}, headers=head).json() == []

    again = rewards.post(path, json={"tenant": "refinery", "reason": "Still nothing."}, headers=head)
    assert again.status_code == 409 and "already dismissed" in again.text
    assert len(signal_events(harness)) == 1


def test_signal_rules_are_set_per_subsidiary_by_managers_and_checked_strictly(harness):
    rewards = harness.start("rewards")
    head = harness.headers("head-liu", roles=[Role.MANAGER])
    assert rewards.get("/signal-rules", params={"tenant": "refinery"}, headers=head).json()["rules"]["near_duplicates"]["min_reports"] == 3

    bad = rewards.put("/signal-rules", params={"tenant": "refinery"}, json={"near_duplicates": {"min_reports": 1}}, headers=head)
    assert bad.status_code == 422 and "min_reports" in bad.text
    zone = rewards.put("/signal-rules", params={"tenant": "refinery"}, json={"period_end_burst": {"time_zone": "Mars/Olympus"}}, headers=head)
    assert zone.status_code == 422 and "time_zone" in zone.text
    finance = harness.headers("fin-zhao", roles=[Role.FINANCE])
    assert rewards.put("/signal-rules", params={"tenant": "refinery"}, json={}, headers=finance).status_code == 403
    assert harness.raw_log("signal_rules") == []

    set_ = rewards.put("/signal-rules", params={"tenant": "refinery"}, json={"near_duplicates": {"window_days": 30, "min_reports": 4}}, headers=head)
    assert set_.status_code == 200, set_.text
    wait_for(lambda: rewards.get("/signal-rules", params={"tenant": "refinery"}, headers=head).json()["rules"]["near_duplicates"]["min_reports"] == 4)
    assert rewards.get("/signal-rules", params={"tenant": "mine"}, headers=harness.headers("hq", tenants=["*"], roles=[Role.MANAGER])).json()["rules"]["near_duplicates"]["min_reports"] == 3
    assert len(harness.raw_log("signal_rules")) == 1


def test_reports_outside_the_directorys_work_places_are_shown_and_decided_without_storing_who_the_reporter_is(harness):
    intake, rewards = harness.start("intake"), harness.start("rewards")
    head = harness.headers("head-liu", roles=[Role.MANAGER])
    reports = []
    for n in range(3):  # named reports at North's pipe rack (the test catalogue's bay-3)
        filed = intake.post("/reports", json=report_body(description=f"Loose grating {n}"), headers=harness.headers("emp-7"))
        assert filed.status_code == 201, filed.text
        reports.append(filed.json()["report_id"])
    entry = DirectoryEntrySet.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="person-emp-7", actor="hr-import",
        entry=PersonEntry(person="emp-7", work_places=("South works",)),
    )

    async def append() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            await EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix), timeout=2.0).append(entry, expected_version=0)
        finally:
            await connection.close()

    asyncio.run(append())

    def shown() -> list[dict]:
        listed = rewards.get("/signals", params={"tenant": "refinery", "report": reports[0], "status": "all"}, headers=head).json()
        return [s for s in listed if s["rule"] == "unusual_place"]

    [signal] = wait_for(shown)
    assert sorted(signal["evidence"]) == sorted(reports) and signal["figures"]["work_places"] == ["South works"]
    done = rewards.post(f"/signals/{signal['signal_id']}/dismissal", json={"tenant": "refinery", "reason": "Seconded to North this month."}, headers=head)
    assert done.status_code == 201, done.text
    assert [s["status"] for s in shown()] == ["dismissed"]
    with sqlite3.connect(harness.tmp_path / "rewards.db") as db:  # who holds the pseudonym is never kept
        people = {row[0] for row in db.execute("SELECT person FROM reward_work_places")}
        assert people == {"emp-7"}
        assert not db.execute("SELECT count(*) FROM reward_reports WHERE reporter = 'emp-7'").fetchone()[0]
