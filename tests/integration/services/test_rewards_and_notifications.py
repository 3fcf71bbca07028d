"""Rewards decide exactly once; the reporter's inbox hears each step once; on a real broker."""

from __future__ import annotations

import asyncio
import json

import nats
import pytest

from hazardloop.events import RewardPolicy, decode_event
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from hazardloop_rewards.commands import RewardDecisions
from tests.factories import report_body
from tests.waiting import wait_for


def test_a_report_travels_to_a_paid_reward_and_the_reporters_inbox(harness):
    intake, verification = harness.start("intake"), harness.start("verification")
    rewards, notifications = harness.start("rewards"), harness.start("notifications")
    reporter, verifier = harness.headers("emp-9"), harness.headers("li", roles=[Role.VERIFIER])
    head, finance = harness.headers("head-liu", roles=[Role.MANAGER]), harness.headers("zhao", roles=[Role.FINANCE])
    report_id = intake.post("/reports", json=report_body(), headers=reporter).json()["report_id"]
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    verification.post(f"/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": "major"}, headers=verifier)
    proposed = wait_for(lambda: (r := rewards.get(f"/rewards/{report_id}", headers=finance)).status_code == 200 and r.json())
    assert proposed["status"] == "proposed" and proposed["amount_fen"] == RewardPolicy().base.major
    assert proposed["proposer"] == "li" and proposed["breakdown"][0]["rule"] == "base"
    assert rewards.post(f"/rewards/{report_id}/payment", json={"payment_reference": "PAY-1"}, headers=finance).status_code == 409
    assert rewards.post(f"/rewards/{report_id}/approval", json={"approve": True}, headers=head).status_code == 201
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=finance).json()["status"] == "approved")
    paid = rewards.post(f"/rewards/{report_id}/payment", json={"payment_reference": "PAY-1"}, headers=finance)
    assert paid.status_code == 201 and paid.json()["event"] == "RewardGranted"
    inbox = wait_for(lambda: len(m := notifications.get("/inbox", headers=reporter).json()) == 4 and m)
    assert sorted(m["kind"] for m in inbox) == ["received", "reward_proposed", "rewarded", "verified"]
    assert notifications.get("/inbox", headers=harness.headers("someone-else")).json() == []
    totals = wait_for(lambda: (t := rewards.get("/rewards/totals", params={"tenant": "refinery"}, headers=finance).json())["granted"] and t)
    assert totals == {"tenant": "refinery", "proposed": 0, "approved": 0, "granted": 1, "declined": 0, "amount_fen": RewardPolicy().base.major}
    wait_for(lambda: intake.get(f"/reports/{report_id}", headers=reporter).json()["reward_fen"] == RewardPolicy().base.major)


def test_the_reward_decision_is_made_once_under_redelivery_and_races(harness):
    intake, verification = harness.start("intake"), harness.start("verification")
    verifier = harness.headers("li", roles=[Role.VERIFIER])
    report_id = intake.post("/reports", json=report_body(), headers=harness.headers()).json()["report_id"]
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    verification.post(f"/reports/{report_id}/verification", json={"outcome": "not_confirmed"}, headers=verifier)
    verified = decode_event(harness.raw_log()[-1][1])

    async def deliver_many_times() -> None:
        connection = await nats.connect(harness.nats_url)
        store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
        decide = RewardDecisions(store).when_verified_propose_reward
        await asyncio.gather(*(decide(verified) for _ in range(6)))  # racing redeliveries
        await decide(verified)  # and one after "a restart"
        await connection.close()

    asyncio.run(deliver_many_times())
    rewards = harness.start("rewards")  # the live consumer sees the same Verified once more
    finance = harness.headers("zhao", roles=[Role.FINANCE])
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=finance).status_code == 200)
    decisions = [json.loads(d) for _, d in harness.raw_log() if json.loads(d)["type"].startswith("Reward")]
    assert [d["type"] for d in decisions] == ["RewardDeclined"]
    assert decisions[0]["causation_id"] == str(verified.event_id)


def test_health_and_readiness(harness):
    intake = harness.start("intake")
    assert intake.get("/healthz").json() == {"status": "ok"}
    ready = intake.get("/readyz")
    assert ready.status_code == 200 and ready.json()["broker"] and ready.json()["store"]
    assert intake.get("/asyncapi.json").json()["channels"]
    yaml = intake.get("/asyncapi.yaml")
    assert yaml.status_code == 200 and "ReportFiled" in yaml.text


@pytest.mark.postgres
def test_the_whole_flow_runs_on_postgresql_stores(harness, postgres_url):
    from tests.conftest import fresh_postgres_schema

    clients = {s: harness.start(s, database_url=fresh_postgres_schema(postgres_url))
               for s in ("intake", "verification", "rewards", "notifications")}
    reporter, verifier = harness.headers("emp-pg"), harness.headers("li", roles=[Role.VERIFIER])
    report_id = clients["intake"].post("/reports", json=report_body(), headers=reporter).json()["report_id"]
    wait_for(lambda: clients["verification"].get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    clients["verification"].post(f"/reports/{report_id}/verification", json={"outcome": "valid_not_hazard"}, headers=verifier)
    rewards = clients["rewards"]
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=verifier).status_code == 200)
    rewards.post(f"/rewards/{report_id}/approval", json={"approve": True}, headers=harness.headers("head", roles=[Role.MANAGER])).raise_for_status()
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=verifier).json()["status"] == "approved")
    rewards.post(f"/rewards/{report_id}/payment", json={"payment_reference": "PG-1"}, headers=harness.headers("fin", roles=[Role.FINANCE])).raise_for_status()
    inbox = wait_for(lambda: len(m := clients["notifications"].get("/inbox", headers=reporter).json()) == 4 and m)
    assert {m["kind"] for m in inbox} == {"received", "verified", "reward_proposed", "rewarded"}
    report = wait_for(lambda: (r := clients["intake"].get(f"/reports/{report_id}", headers=reporter).json())["reward_fen"] is not None and r)
    assert report["reward_fen"] == RewardPolicy().base.valid_not_hazard
