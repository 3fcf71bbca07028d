"""Notifications as a process: killed with SIGKILL mid-batch, every message still goes out once
(a receiver that drops repeated idempotency keys sees each once), the log records each
delivery once, and a replay of the store sends nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter

import nats

from hazardloop.log.eventstore import EventStore, Subjects
from tests.factories import report_filed
from tests.receivers import MailReceiver, WebhookReceiver
from tests.waiting import wait_for

COUNT = 300
CONCURRENCY = 8


def test_killed_mid_batch_each_delivery_lands_once_and_a_replay_sends_nothing(system):
    with MailReceiver() as mail, WebhookReceiver() as hooks:
        directory = system.state / "directory.json"
        directory.write_text(json.dumps({"refinery": {
            "people": [{"person": "safety-li", "email": "li@refinery.example", "roles": ["safety_department"]}],
            "endpoints": [{"endpoint": "ops", "url": f"{hooks.url}/ops", "roles": ["safety_department"]}],
        }}))
        system.env |= {
            "HAZARDLOOP_SMTP_HOST": "127.0.0.1", "HAZARDLOOP_SMTP_PORT": str(mail.port), "HAZARDLOOP_DELIVERY_INTERVAL": "0.05",
            "HAZARDLOOP_DELIVERY_CONCURRENCY": str(CONCURRENCY), "HAZARDLOOP_BATCH_SIZE": "25", "HAZARDLOOP_WEBHOOK_KEY": "e2e-webhook-key",
        }
        assert "2 changed" in system.cli("directory", "load", str(directory)).stdout
        assert "0 changed" in system.cli("directory", "load", str(directory)).stdout

        async def seed() -> None:
            connection = await nats.connect(system.nats_url)
            store = EventStore(connection, stream=system.stream, subjects=Subjects(system.prefix))
            await store.append_many([(report_filed(), 0) for _ in range(COUNT)])
            await connection.close()

        asyncio.run(seed())
        system.start("notifications")
        wait_for(lambda: len(mail.received()) > 0 or len(hooks.hits) > 0, interval=0.005)
        system.stop("notifications", kill=True)  # kill -9 while it is working through the backlog
        assert len(mail.received()) < COUNT or len(hooks.hits) < COUNT, "the backlog finished before the kill; raise COUNT"

        system.start("notifications")
        emails = wait_for(lambda: len(m := {x["Message-ID"] for x in mail.received()}) == COUNT and m, timeout=90)
        webhooks = wait_for(lambda: len(k := {h.headers["idempotency-key"] for h in hooks.hits}) == COUNT and k, timeout=90)
        database = system.state / "notifications.db"

        def settled() -> bool:
            with sqlite3.connect(database) as db:
                return all(
                    db.execute(f"SELECT count(*) FROM {table} WHERE status != 'sent'").fetchone()[0] == 0
                    for table in ("notification_deliveries", "notification_inbox")
                )

        wait_for(settled, timeout=60)
        system.stop("notifications")

        # Anything sent twice was in flight at the kill, and carries the same key both times.
        twice = sum(n - 1 for n in Counter(x["Message-ID"] for x in mail.received()).values())
        twice += sum(n - 1 for n in Counter(h.headers["idempotency-key"] for h in hooks.hits).values())
        assert twice <= CONCURRENCY

        with sqlite3.connect(database) as db:
            keys = {row[0] for row in db.execute("SELECT key FROM notification_deliveries UNION ALL SELECT key FROM notification_inbox")}
            assert db.execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 0
        assert len(keys) == 4 * COUNT  # reporter's inbox, safety-li's inbox and e-mail, the webhook
        assert {e.strip("<>").split("@")[0] for e in emails} | webhooks <= keys

        async def outcomes() -> Counter:
            connection = await nats.connect(system.nats_url)
            js = connection.jetstream()
            info = await js.add_consumer(system.stream, filter_subject=f"{system.prefix}.*.delivery.*.NotificationSent", ack_policy="none")
            sub = await js.pull_subscribe_bind(info.name, stream=system.stream)
            seen: Counter = Counter()
            while sum(seen.values()) < info.num_pending:
                for message in await sub.fetch(500, timeout=5):
                    seen[message.subject.split(".")[3]] += 1
            await js.delete_consumer(system.stream, info.name)
            await connection.close()
            return seen

        recorded = asyncio.run(outcomes())
        assert set(recorded) == keys and set(recorded.values()) == {1}  # one NotificationSent per delivery

        # Rebuild the store from the log and run it: nothing is pending, nothing is sent.
        before = (len(mail.received()), len(hooks.hits))
        assert "replayed" in system.cli("replay", "notifications").stdout
        assert settled()
        system.start("notifications")
        assert settled()
        system.stop("notifications")
        assert (len(mail.received()), len(hooks.hits)) == before
