"""Notifications on a real broker, a real SMTP server (aiosmtpd) and a real HTTP webhook receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.events import decode_event
from hazardloop.web.auth import Role
from hazardloop_notifications.payloads import verify
from tests.clock import ManualClock
from tests.factories import REPORTER, report_body
from tests.receivers import MailReceiver, WebhookReceiver
from tests.waiting import wait_for

OPERATOR = {"user": "ops-1", "roles": [Role.OPERATOR]}


@pytest.fixture
def mail():
    with MailReceiver() as receiver:
        yield receiver


@pytest.fixture
def hooks():
    with WebhookReceiver() as receiver:
        yield receiver


def directory(hooks: WebhookReceiver, **paths: str) -> dict:
    return {
        "people": [
            {"person": "maint-wang", "name": "Wang", "email": "wang@refinery.example", "language": "en"},
            {"person": "safety-li", "email": "li@refinery.example", "roles": ["safety_department"]},
            {"person": "head-liu", "email": "liu@refinery.example", "roles": ["approver"]},
            {"person": "fin-zhao", "email": "zhao@refinery.example", "roles": ["finance"], "language": "en"},
        ],
        "endpoints": [
            {"endpoint": "ops", "url": f"{hooks.url}{paths.get('ops', '/ops')}", "roles": ["safety_department"], "language": "en"},
            {"endpoint": "safety-group", "url": f"{hooks.url}/wecom?key=abc", "format": "wecom", "roles": ["safety_department", "approver"]},
        ],
    }


def start(harness, mail: MailReceiver, clock=None, **overrides):
    settings = {
        "smtp_host": "127.0.0.1", "smtp_port": mail.port, "delivery_interval": 0.05, "delivery_max_attempts": 3,
        "delivery_backoff_seconds": 60, "webhook_timeout": 1.0, "webhook_key": "test-webhook-key",
    } | overrides
    return harness.start("notifications", clock=clock or ManualClock(), **settings)


def settled(notifications, harness, tenant="refinery") -> list[dict]:
    """Every delivery of the subsidiary, once none is pending any more."""
    ops = harness.headers(OPERATOR["user"], roles=OPERATOR["roles"])

    def done():
        rows = notifications.get("/deliveries", params={"tenant": tenant, "limit": 1000}, headers=ops).json()
        return rows if rows and all(r["status"] != "pending" for r in rows) else None

    return wait_for(done)


def outcomes(harness) -> list:
    return [e for _, data in harness.raw_log("delivery") if (e := decode_event(data)).type != "NotificationRetried"]


def file_and_reward(harness, intake, verification, rewards, reporter):
    verifier = harness.headers("li", roles=[Role.VERIFIER])
    report_id = intake.post("/reports", json=report_body(), headers=reporter).json()["report_id"]
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    verified = verification.post(
        f"/reports/{report_id}/verification",
        json={"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}},
        headers=verifier,
    )
    assert verified.status_code == 201, verified.text
    finance = harness.headers("fin-zhao", roles=[Role.FINANCE])
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=finance).status_code == 200)
    rewards.post(f"/rewards/{report_id}/approval", json={"approve": True}, headers=harness.headers("head-liu", roles=[Role.MANAGER])).raise_for_status()
    wait_for(lambda: rewards.get(f"/rewards/{report_id}", headers=finance).json()["status"] == "approved")
    rewards.post(f"/rewards/{report_id}/payment", json={"payment_reference": "PAY-9"}, headers=finance).raise_for_status()
    return report_id


def test_everyone_hears_their_part_once_in_their_language_and_a_fresh_store_sends_nothing(harness, mail, hooks, tmp_path):
    intake, verification, rewards = harness.start("intake"), harness.start("verification"), harness.start("rewards")
    notifications = start(harness, mail)
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    loaded = notifications.post("/directory", params={"tenant": "refinery"}, json=directory(hooks), headers=manager)
    assert loaded.status_code == 200 and loaded.json() == {"entries": 6, "changed": 6, "unchanged": 0, "removed": 0}
    again = notifications.post("/directory", params={"tenant": "refinery"}, json=directory(hooks), headers=manager).json()
    assert again["changed"] == 0  # loading the same directory twice adds nothing to the log
    wait_for(lambda: len(notifications.get("/directory", params={"tenant": "refinery"}, headers=manager).json()["people"]) == 4)

    reporter = harness.headers("emp-9")
    report_id = file_and_reward(harness, intake, verification, rewards, reporter)
    wait_for(lambda: len(notifications.get("/inbox", headers=reporter).json()) == 5)
    deliveries = settled(notifications, harness)

    # The reporter, in the language they ask for.
    inbox = notifications.get("/inbox", headers=reporter | {"Accept-Language": "en-GB"}).json()
    assert sorted(m["kind"] for m in inbox) == ["received", "rectification_assigned", "reward_proposed", "rewarded", "verified"]
    rewarded = next(m for m in inbox if m["kind"] == "rewarded")
    assert "500.00 yuan" in rewarded["subject"] and not rewarded["read"]
    assert "奖励" in notifications.get("/inbox", params={"lang": "zh-CN", "report_id": report_id}, headers=reporter).json()[0]["subject"]

    # E-mail: each person their part, once, in their language, the Message-ID from the delivery key.
    got = wait_for(lambda: len(m := mail.received()) == 4 and m)
    by_person = {m["To"]: m for m in got}
    assert set(by_person) == {"wang@refinery.example", "li@refinery.example", "liu@refinery.example", "zhao@refinery.example"}
    assert by_person["wang@refinery.example"]["Subject"].startswith("Rectification task")
    assert by_person["li@refinery.example"]["Subject"].startswith("新隐患举报")
    assert by_person["liu@refinery.example"]["Subject"].startswith("奖励待审批")
    assert by_person["zhao@refinery.example"]["Subject"].startswith("Reward to pay")
    keys = {d["key"] for d in deliveries if d["channel"] == "email"}
    assert {m["Message-ID"].strip("<>").split("@")[0] for m in got} == keys

    # The signed webhook and the WeCom group: staff news, never the reporter.
    secret = notifications.get("/directory/endpoints/ops/signing-secret", params={"tenant": "refinery"},
                               headers=harness.headers("ops-1", roles=[Role.OPERATOR])).json()["secret"]
    [ops] = hooks.posted("/ops")
    assert json.loads(ops.body)["kind"] == "new_report" and ops.headers["idempotency-key"] == json.loads(ops.body)["id"]
    assert verify(secret, ops.headers["x-hazardloop-timestamp"], ops.body, ops.headers["x-hazardloop-signature"], now=datetime.now(UTC).timestamp(), tolerance=10**9)
    group = hooks.posted("/wecom")
    assert sorted(json.loads(h.body)["msgtype"] for h in group) == ["markdown", "markdown"]  # new report, reward to approve
    for hit in [*hooks.hits]:
        assert REPORTER not in hit.body.decode() and "emp-9" not in hit.body.decode()
        assert "description" not in json.loads(hit.body).get("params", {})

    # Staff read their own box.
    owner_box = notifications.get("/inbox", params={"lang": "en"}, headers=harness.headers("maint-wang", roles=[Role.RECTIFIER])).json()
    assert [m["kind"] for m in owner_box] == ["task_assigned"] and "Rectification task" in owner_box[0]["subject"]

    # The log: one NotificationSent per delivery, nothing failed.
    sent = outcomes(harness)
    assert sorted(str(e.aggregate_id) for e in sent) == sorted(d["key"] for d in deliveries)
    assert all(e.type == "NotificationSent" for e in sent) and all(d["status"] == "sent" for d in deliveries)

    # Read and unread, recorded once.
    marked = notifications.post("/inbox/read", json={"message_ids": [rewarded["message_id"]]}, headers=reporter)
    assert marked.json() == {"read": 1}
    assert notifications.post("/inbox/read", json={"message_ids": [rewarded["message_id"]]}, headers=reporter).json() == {"read": 0}
    wait_for(lambda: notifications.get("/inbox", headers=reporter).headers["X-Unread-Count"] == "4")

    # A fresh store catches up on the whole log while the sender runs: nothing is sent again.
    harness.stop(notifications)
    emails, posts = len(mail.received()), len(hooks.hits)
    fresh = start(harness, mail, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    again = settled(fresh, harness)
    assert sorted((d["key"], d["status"]) for d in again) == sorted((d["key"], "sent") for d in deliveries)
    read = [m for m in fresh.get("/inbox", headers=reporter).json() if m["read"]]
    assert [m["kind"] for m in read] == ["rewarded"]
    assert len(mail.received()) == emails and len(hooks.hits) == posts
    assert len(outcomes(harness)) == len(deliveries)


def test_a_new_report_goes_out_as_soon_as_it_is_stored_not_at_the_next_round(harness, mail, hooks):
    """With rounds 30 s apart, only the projection waking the sender explains a webhook within seconds."""
    intake = harness.start("intake")
    notifications = start(harness, mail, delivery_interval=30)
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    notifications.post("/directory", params={"tenant": "refinery"}, json=directory(hooks), headers=manager).raise_for_status()
    wait_for(lambda: len(notifications.get("/directory", params={"tenant": "refinery"}, headers=manager).json()["endpoints"]) == 2)

    report_id = intake.post("/reports", json=report_body(), headers=harness.headers("emp-3")).json()["report_id"]

    posted = wait_for(lambda: hooks.posted("/ops"), timeout=5)
    assert [json.loads(hit.body)["report_id"] for hit in posted] == [report_id]
    wait_for(lambda: len(mail.received()) == 1 and len(hooks.posted("/wecom")) == 1, timeout=5)


def test_a_backlog_larger_than_a_round_drains_at_once_not_a_round_a_tick(harness, mail):
    """Reports filed while notifications was down: back, its projection takes them in with a
    commit or two (a wake each), and with two deliveries a round and rounds 30 s apart,
    only full rounds following each other explain every message recorded within seconds."""
    intake = harness.start("intake")
    for number in range(12):
        intake.post("/reports", json=report_body(), headers=harness.headers(f"emp-{number}")).raise_for_status()
    notifications = start(harness, mail, delivery_interval=30, delivery_batch=2)

    every = settled(notifications, harness)
    assert len(every) >= 12 and {d["status"] for d in every} == {"sent"}
    assert len(outcomes(harness)) == len(every)


def test_a_failing_endpoint_is_retried_with_backoff_then_dead_lettered_and_an_operator_retries_it(harness, mail, hooks):
    clock = ManualClock()
    failing = {"on": True}
    hooks.answers["/flaky"] = lambda _: (503, b"down") if failing["on"] else (200, b"{}")
    intake = harness.start("intake")
    notifications = start(harness, mail, clock)
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    notifications.post("/directory", params={"tenant": "refinery"}, json=directory(hooks, ops="/flaky"), headers=manager).raise_for_status()
    wait_for(lambda: len(notifications.get("/directory", params={"tenant": "refinery"}, headers=manager).json()["endpoints"]) == 2)
    intake.post("/reports", json=report_body(), headers=harness.headers("emp-3")).raise_for_status()

    wait_for(lambda: len(hooks.posted("/flaky")) == 1)
    wait_for(lambda: len(mail.received()) == 1 and len(hooks.posted("/wecom")) == 1)  # the others were not held up
    ops = harness.headers("ops-1", roles=[Role.OPERATOR])

    def flaky() -> dict:
        return next(d for d in notifications.get("/deliveries", params={"tenant": "refinery"}, headers=ops).json() if d["recipient"] == "endpoint:ops")

    first = wait_for(lambda: (d := flaky())["attempts"] == 1 and d)
    assert first["status"] == "pending" and "HTTP 503" in first["error"]
    assert datetime.fromisoformat(first["next_attempt_at"]) == clock.now() + timedelta(seconds=60)
    clock.advance(seconds=61)
    wait_for(lambda: len(hooks.posted("/flaky")) == 2)
    clock.advance(seconds=121)  # the wait doubles
    wait_for(lambda: len(hooks.posted("/flaky")) == 3)
    dead = wait_for(lambda: (d := flaky())["status"] == "failed" and d)
    assert dead["attempts"] == 3 and "HTTP 503" in dead["error"]
    listed = notifications.get("/deliveries", params={"tenant": "refinery", "status": "failed"}, headers=ops).json()
    assert [d["key"] for d in listed] == [dead["key"]]
    clock.advance(hours=10)
    assert len(hooks.posted("/flaky")) == 3  # dead-lettered: no more attempts
    assert [e.type for e in outcomes(harness) if str(e.aggregate_id) == dead["key"]] == ["NotificationFailed"]

    failing["on"] = False
    assert notifications.post(f"/deliveries/{dead['key']}/retry", json={"comment": "endpoint fixed"}, headers=ops).status_code == 202
    wait_for(lambda: flaky()["status"] == "sent")
    assert len(hooks.posted("/flaky")) == 4
    assert notifications.post(f"/deliveries/{dead['key']}/retry", headers=ops).status_code == 409
    assert notifications.post(f"/deliveries/{dead['key']}/retry", headers=manager).status_code == 403


def test_a_slow_endpoint_times_out_and_an_unreachable_smtp_server_holds_nothing_else_up(harness, mail, hooks):
    from hazardloop.log.natsserver import free_port

    hooks.held.add("/slow")
    intake = harness.start("intake")
    notifications = start(harness, mail, webhook_timeout=0.3, smtp_port=free_port())  # nothing listens there
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    notifications.post("/directory", params={"tenant": "refinery"}, json=directory(hooks, ops="/slow"), headers=manager).raise_for_status()
    wait_for(lambda: len(notifications.get("/directory", params={"tenant": "refinery"}, headers=manager).json()["endpoints"]) == 2)
    reporter = harness.headers("emp-4")
    intake.post("/reports", json=report_body(), headers=reporter).raise_for_status()
    wait_for(lambda: len(hooks.posted("/wecom")) == 1)
    wait_for(lambda: notifications.get("/inbox", headers=reporter).json())
    ops = harness.headers("ops-1", roles=[Role.OPERATOR])

    def by_channel():
        rows = notifications.get("/deliveries", params={"tenant": "refinery"}, headers=ops).json()
        return {f'{r["channel"]}:{r["recipient"]}': r for r in rows}

    rows = wait_for(lambda: (r := by_channel())["webhook:endpoint:ops"]["attempts"] >= 1 and r["email:safety-li"]["attempts"] >= 1 and r)
    assert rows["webhook:endpoint:ops"]["status"] == "pending" and "Timeout" in rows["webhook:endpoint:ops"]["error"]
    assert rows["email:safety-li"]["status"] == "pending" and "SMTPConnectError" in rows["email:safety-li"]["error"]
    assert rows["webhook:endpoint:safety-group"]["status"] == rows["inbox:safety-li"]["status"] == "sent"


def test_a_malformed_event_is_dead_lettered_and_the_consumer_moves_on(harness, mail):
    import asyncio

    import nats

    notifications = start(harness, mail)
    intake = harness.start("intake")

    async def poison() -> int:
        connection = await nats.connect(harness.nats_url)
        ack = await connection.jetstream().publish(f"{harness.prefix}.refinery.report.bad.ReportFiled", b'{"type": "ReportFiled", "nonsense": true}')
        await connection.close()
        return ack.seq

    sequence = asyncio.run(poison())
    reporter = harness.headers("emp-5")
    intake.post("/reports", json=report_body(), headers=reporter).raise_for_status()
    wait_for(lambda: notifications.get("/inbox", headers=reporter).json())
    [parked] = notifications.get("/dead-letters", headers=harness.headers("ops-1", roles=[Role.OPERATOR])).json()
    assert parked["sequence"] == sequence and "validation error" in parked["error"].lower()


def test_an_anonymous_reporter_hears_only_through_the_receipt_code(harness, mail):
    intake, notifications = harness.start("intake"), start(harness, mail)
    filer = harness.headers("emp-6")
    filed = intake.post("/reports", json=report_body(anonymous=True), headers=filer).json()
    code = filed["receipt_code"]
    inbox = wait_for(lambda: (r := notifications.get("/inbox", headers={"Receipt-Code": code})).status_code == 200 and r.json() and r)
    assert [m["kind"] for m in inbox.json()] == ["received"] and inbox.headers["X-Unread-Count"] == "1"
    assert notifications.get("/inbox", headers=filer).json() == []  # the token never leads to an anonymous report
    assert notifications.get("/inbox", headers={"Receipt-Code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}).status_code == 404
    assert notifications.get("/inbox").status_code == 401
    assert notifications.post("/inbox/read", json={"all": True}, headers={"Receipt-Code": code}).json() == {"read": 1}
    wait_for(lambda: notifications.get("/inbox", headers={"Receipt-Code": code}).headers["X-Unread-Count"] == "0")
    read = [decode_event(d) for _, d in harness.raw_log("inbox")]
    assert [e.actor for e in read] == ["anonymous"]


def test_owners_are_reminded_before_the_deadline_and_managers_get_one_digest_a_day(harness, mail):
    clock = ManualClock(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    intake, verification = harness.start("intake"), harness.start("verification", clock=clock)
    notifications = start(harness, mail, clock, reminder_hours="12")  # not used: the assignment carries the policy's 48 and 24 h
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    people = {"people": [{"person": "maint-wang", "email": "wang@refinery.example", "language": "en"},
                         {"person": "boss", "email": "boss@refinery.example", "roles": ["manager"], "language": "en"}]}
    notifications.post("/directory", params={"tenant": "refinery"}, json=people, headers=manager).raise_for_status()
    digest = wait_for(lambda: [m for m in mail.received() if m["To"] == "boss@refinery.example"])
    assert [m["Subject"] for m in digest] == ["Hazard reports, daily digest 2026-11-03"]

    verifier = harness.headers("li", roles=[Role.VERIFIER])
    report_id = intake.post("/reports", json=report_body(), headers=harness.headers("emp-7")).json()["report_id"]
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    verification.post(f"/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}},
                      headers=verifier).raise_for_status()  # deadline: 7 days (the policy's default for larger)
    wait_for(lambda: any(m["Subject"].startswith("Rectification task") for m in mail.received()))

    def to_owner(prefix: str) -> list:
        return [m for m in mail.received() if m["To"] == "wang@refinery.example" and m["Subject"].startswith(prefix)]

    clock.advance(days=5, hours=1)  # 47 hours before the deadline
    wait_for(lambda: len(to_owner("Reminder")) == 1)
    assert "48 hours" in to_owner("Reminder")[0].get_content()
    clock.advance(hours=24)  # 23 hours before
    wait_for(lambda: len(to_owner("Reminder")) == 2)
    boss = wait_for(lambda: len(m := [m for m in mail.received() if m["To"] == "boss@refinery.example"]) == 3 and m)
    # One a day, each day once; days the service slept through are not sent late.
    assert [m["Subject"][-10:] for m in boss] == ["2026-11-03", "2026-11-08", "2026-11-09"]
    assert "Open: 1" in boss[-1].get_content()
    reminders = [decode_event(d) for _, d in harness.raw_log("reminder")]
    assert sorted(e.hours_before for e in reminders) == [24, 48]


def test_a_staff_inbox_holds_only_the_subsidiaries_its_token_acts_in(harness, mail):
    intake, verification = harness.start("intake"), harness.start("verification")
    notifications = start(harness, mail)
    verifier = harness.headers("li", roles=[Role.VERIFIER])
    report_id = intake.post("/reports", json=report_body(), headers=harness.headers("emp-9")).json()["report_id"]
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=verifier).status_code == 200)
    body = {"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}}
    verification.post(f"/reports/{report_id}/verification", json=body, headers=verifier).raise_for_status()
    owner = harness.headers("maint-wang", roles=[Role.RECTIFIER])
    task = wait_for(lambda: [m for m in notifications.get("/inbox", headers=owner).json() if m["kind"] == "task_assigned"])
    assert task[0]["report_id"] == report_id
    namesake = harness.headers("maint-wang", tenants=["mine"], roles=[Role.RECTIFIER])  # the same id, another subsidiary
    assert notifications.get("/inbox", headers=namesake).json() == []


def test_notifications_seals_the_log_on_its_schedule(harness):
    harness.start("intake")  # the test catalogue's events wait for a seal
    waiting = len(harness.raw_log())
    harness.start("notifications", seal_every_events=waiting, seal_every_minutes=0)
    (subject, stored), *_ = wait_for(lambda: harness.raw_log("seal"))
    seal = decode_event(stored)
    assert subject.endswith(".group.seal.log.RangeSealed") and seal.actor == "system:sealer"
    assert (seal.first_sequence, seal.last_sequence) == (1, seal.count) and seal.count >= waiting
