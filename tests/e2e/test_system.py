"""End to end: four processes, real HTTP, real broker; then rebuild every projection from the log."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import nats

from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.factories import report_body, report_filed, verified
from tests.waiting import wait_for

OPERATIONAL = {"notification_attempts"}
"""Not projections: the sender's own notes of its attempts, which a rebuild keeps rather than replays."""


def dump(path) -> dict[str, list[tuple]]:
    """Every projected table of a SQLite store, rows sorted: what 'identical' is checked on."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name") if r[0] not in OPERATIONAL]
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def test_file_verify_rectify_reward_inbox_then_replay_is_identical(system):
    system.start(*SERVICES)
    reporter = system.headers("emp-77")
    verifier = system.headers("safety-li", roles=[Role.VERIFIER])
    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    with httpx.Client(timeout=10) as http:
        filed = http.post(f"{system.url('intake')}/reports", json=report_body(), headers=reporter)
        assert filed.status_code == 201
        report_id = filed.json()["report_id"]
        queue = f"{system.url('verification')}/queue"
        wait_for(lambda: http.get(queue, params={"tenant": "refinery"}, headers=verifier).json())
        verify = http.post(f"{system.url('verification')}/reports/{report_id}/verification",
                           json={"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}},
                           headers=verifier)
        assert verify.status_code == 201
        rectify = http.post(f"{system.url('verification')}/reports/{report_id}/rectification",
                            json={"measures": "Harness anchor points installed"}, headers=verifier)
        assert rectify.status_code == 201
        reward_url = f"{system.url('rewards')}/rewards/{report_id}"
        proposed = wait_for(lambda: (r := http.get(reward_url, headers=finance)).status_code == 200 and r.json())
        assert proposed["status"] == "proposed" and proposed["amount_fen"] == 50_000
        head = system.headers("head-wang", roles=[Role.MANAGER])
        assert http.post(f"{reward_url}/approval", json={"approve": True}, headers=head).status_code == 201
        wait_for(lambda: http.get(reward_url, headers=finance).json()["status"] == "approved")
        assert http.post(f"{reward_url}/payment", json={"payment_reference": "PAY-77"}, headers=finance).status_code == 201
        reward = wait_for(lambda: (r := http.get(reward_url, headers=finance).json())["status"] == "granted" and r)
        assert reward["amount_fen"] == 50_000 and reward["payment_reference"] == "PAY-77"
        inbox = wait_for(lambda: len(m := http.get(f"{system.url('notifications')}/inbox", headers=reporter).json()) == 6 and m)
        assert sorted(m["kind"] for m in inbox) == ["received", "rectification_assigned", "rectified", "reward_proposed", "rewarded", "verified"]
        report = wait_for(lambda: (r := http.get(f"{system.url('intake')}/reports/{report_id}", headers=reporter).json())["status"] == "rectified" and r)
        assert report["reward_fen"] == 50_000 and report["measures"] == "Harness anchor points installed"
    wait_for(system.settled)
    system.stop()

    for service in SERVICES:
        live = dump(system.state / f"{service}.db")
        rebuilt_path = system.state / f"{service}-rebuilt.db"
        output = system.cli("replay", service, "--database-url", f"sqlite:///{rebuilt_path}").stdout
        assert "replayed" in output
        assert dump(rebuilt_path) == live, f"{service}: rebuilt projection differs from the live one"


def test_a_service_killed_mid_batch_resumes_without_a_duplicate_reward(system):
    count = 1000

    async def seed() -> None:
        connection = await nats.connect(system.nats_url)
        store = EventStore(connection, stream=system.stream, subjects=Subjects(system.prefix))
        await store.ensure_stream()
        reports = [report_filed() for _ in range(count)]
        await store.append_many([(r, 0) for r in reports])
        first = await store.last_sequence() - count
        await store.append_many([(verified(r, "confirmed_hazard", "general"), first + i + 1) for i, r in enumerate(reports)])
        await connection.close()

    asyncio.run(seed())
    database = system.state / "rewards.db"

    def decided() -> int:
        try:
            with sqlite3.connect(database) as db:
                return db.execute("SELECT count(*) FROM rewards").fetchone()[0]
        except sqlite3.OperationalError:
            return 0

    system.env["HAZARDLOOP_BATCH_SIZE"] = "25"  # many commits, so the kill lands between and inside batches
    system.start("rewards")
    wait_for(lambda: decided() > 0, interval=0.01)
    system.stop("rewards", kill=True)  # kill -9 while it is working through the backlog
    assert decided() < count, "the backlog finished before the kill; raise the count"
    system.start("rewards")
    wait_for(lambda: decided() == count, timeout=60)
    system.stop("rewards")

    async def reward_events() -> list[str]:
        connection = await nats.connect(system.nats_url)
        js = connection.jetstream()
        info = await js.add_consumer(system.stream, filter_subject=f"{system.prefix}.*.reward.*.*", ack_policy="none")
        await js.delete_consumer(system.stream, info.name)
        await connection.close()
        return info.num_pending

    assert asyncio.run(reward_events()) == count
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 0
