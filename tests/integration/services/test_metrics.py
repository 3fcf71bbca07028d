"""What a Prometheus scrape of ``/metrics`` shows operators, on real services and a real broker."""

from __future__ import annotations

import asyncio
import math
import uuid

import nats
from prometheus_client.parser import text_string_to_metric_families

from hazardloop.audit.seal import seal_log
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.log.natsserver import NatsServer, free_port
from hazardloop.web.auth import Role
from tests.clock import ManualClock
from tests.factories import report_body
from tests.receivers import WebhookReceiver
from tests.waiting import wait_for


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape by (name, labels)."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def scrape_until(client, shows) -> dict:
    """The first scrape in which ``shows(samples)`` holds."""
    return wait_for(lambda: (samples := scrape(client)) and shows(samples) and samples)


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_a_request_is_counted_and_timed_by_its_route_template_and_status_never_its_path(harness):
    intake = harness.start("intake")
    reporter = harness.headers("emp-1")
    report_id = intake.post("/reports", json=report_body(), headers=reporter).json()["report_id"]
    scrape_until(intake, lambda s: value(s, "hazardloop_projection_lag_events", service="intake") == 0)  # the report is readable
    assert intake.get(f"/reports/{report_id}", headers=reporter).status_code == 200
    assert intake.get(f"/reports/{uuid.uuid4()}", headers=reporter).status_code == 404

    samples = scrape(intake)
    route = {"service": "intake", "route": "/reports/{report_id}", "method": "GET"}
    assert value(samples, "hazardloop_http_requests_total", **route, status="200") == 1
    assert value(samples, "hazardloop_http_requests_total", **route, status="404") == 1
    assert value(samples, "hazardloop_http_request_duration_seconds_count", **route) == 2
    assert value(samples, "hazardloop_http_request_duration_seconds_bucket", **route, le="+Inf") == 2
    assert value(samples, "hazardloop_http_requests_total", service="intake", route="/reports", method="POST", status="201") == 1
    text = intake.get("/metrics").text
    assert report_id not in text and "emp-1" not in text


def test_metrics_need_no_token_and_are_not_served_through_a_reverse_proxy(harness):
    intake = harness.start("intake")
    assert intake.get("/metrics").status_code == 200
    assert intake.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
    assert intake.get("/metrics", headers={"Forwarded": "for=203.0.113.7"}).status_code == 404
    assert "/metrics" not in intake.get("/openapi.json").json()["paths"]


def test_projection_lag_is_zero_once_applied_and_counts_what_a_stopped_projection_has_not(harness):
    intake = harness.start("intake")
    verification = harness.start("verification")
    reporter = harness.headers("emp-1")
    intake.post("/reports", json=report_body(), headers=reporter).raise_for_status()

    samples = scrape_until(verification, lambda s: value(s, "hazardloop_projection_lag_events", service="verification") == 0)
    position = value(samples, "hazardloop_projection_position", service="verification")
    assert 0 < position <= value(samples, "hazardloop_stream_last_sequence", service="verification")

    runner = verification.app.state.runtime.runner
    verification.portal.call(runner.stop)
    intake.post("/reports", json=report_body(), headers=reporter).raise_for_status()
    intake.post("/reports", json=report_body(), headers=reporter).raise_for_status()
    behind = scrape_until(verification, lambda s: value(s, "hazardloop_projection_lag_events", service="verification") == 2)
    assert value(behind, "hazardloop_projection_position", service="verification") == position


def test_a_parked_event_shows_as_a_dead_letter(harness):
    intake = harness.start("intake")
    assert value(scrape(intake), "hazardloop_dead_letters", service="intake") == 0

    async def publish_garbage() -> None:
        connection = await nats.connect(harness.nats_url)
        await connection.jetstream().publish(f"{harness.prefix}.refinery.report.x.ReportFiled", b"{not json")
        await connection.close()

    asyncio.run(publish_garbage())
    wait_for(lambda: value(scrape(intake), "hazardloop_dead_letters", service="intake") == 1)


def test_deliveries_to_a_dead_mail_server_and_a_failing_endpoint_show_retrying_then_failed(harness):
    clock = ManualClock()
    with WebhookReceiver() as hooks:
        hooks.answers["/down"] = lambda _: (503, b"down")
        intake = harness.start("intake")
        notifications = harness.start(
            "notifications", clock=clock, smtp_host="127.0.0.1", smtp_port=free_port(), delivery_interval=0.05,
            delivery_max_attempts=2, delivery_backoff_seconds=60, webhook_timeout=1.0, webhook_key="test-webhook-key",
        )
        manager = harness.headers("safety-manager", roles=[Role.MANAGER])
        directory = {
            "people": [{"person": "safety-li", "email": "li@refinery.example", "roles": ["safety_department"]}],
            "endpoints": [{"endpoint": "ops", "url": f"{hooks.url}/down", "roles": ["safety_department"]}],
        }
        notifications.post("/directory", params={"tenant": "refinery"}, json=directory, headers=manager).raise_for_status()
        wait_for(lambda: notifications.get("/directory", params={"tenant": "refinery"}, headers=manager).json()["endpoints"])
        intake.post("/reports", json=report_body(), headers=harness.headers("emp-1")).raise_for_status()

        def shown(name: str, expected: float, **labels: str) -> bool:
            return value(scrape(notifications), name, service="notifications", **labels) == expected

        wait_for(lambda: shown("hazardloop_notification_deliveries_retrying", 1, channel="email"))
        wait_for(lambda: shown("hazardloop_notification_deliveries_retrying", 1, channel="webhook"))
        samples = scrape(notifications)
        assert value(samples, "hazardloop_notification_deliveries", service="notifications", channel="email", state="pending") == 1
        assert value(samples, "hazardloop_notification_deliveries", service="notifications", channel="email", state="failed") is None
        clock.advance(seconds=30)  # the first retry is 60 s after the first attempt
        # Filed a moment after the service's clock was set: waiting 30 s shows nearly all of it.
        assert value(scrape(notifications), "hazardloop_notification_oldest_pending_seconds", service="notifications") >= 20

        clock.advance(seconds=31)  # the last attempt: both are given up
        wait_for(lambda: shown("hazardloop_notification_deliveries", 1, channel="email", state="failed"))
        wait_for(lambda: shown("hazardloop_notification_deliveries", 1, channel="webhook", state="failed"))
        samples = scrape(notifications)
        assert value(samples, "hazardloop_notification_oldest_pending_seconds", service="notifications") == 0
        assert value(samples, "hazardloop_notification_deliveries_retrying", service="notifications", channel="email") is None


def test_clocks_due_and_not_fired_show_with_how_late_the_oldest_is(harness):
    clock = ManualClock()
    intake = harness.start("intake")
    verification = harness.start("verification", clock=clock, timer_interval=3600)  # a timekeeper that does not come round
    intake.post("/reports", json=report_body(), headers=harness.headers("emp-1")).raise_for_status()
    scrape_until(verification, lambda s: value(s, "hazardloop_projection_lag_events", service="verification") == 0)
    samples = scrape(verification)
    assert value(samples, "hazardloop_timers_due", service="verification", clock="report") == 0
    assert value(samples, "hazardloop_timers_overdue_seconds", service="verification", clock="report") == 0

    clock.advance(days=1, minutes=2)  # the report was not accepted within its day
    samples = scrape(verification)
    assert value(samples, "hazardloop_timers_due", service="verification", clock="report") == 1
    assert value(samples, "hazardloop_timers_overdue_seconds", service="verification", clock="report") >= 60
    assert value(samples, "hazardloop_timers_due", service="verification", clock="check") == 0


def test_the_seal_age_and_the_unsealed_events_follow_the_log(harness):
    intake = harness.start("intake")
    intake.post("/reports", json=report_body(), headers=harness.headers("emp-1")).raise_for_status()
    samples = scrape_until(intake, lambda s: value(s, "hazardloop_unsealed_events", service="intake"))
    assert 0 <= value(samples, "hazardloop_seal_age_seconds", service="intake") < 600  # never sealed: since the first event
    assert value(samples, "hazardloop_unsealed_events", service="intake") == value(samples, "hazardloop_stream_last_sequence", service="intake")

    async def seal() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            await seal_log(connection, EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix)))
        finally:
            await connection.close()

    asyncio.run(seal())
    sealed = scrape_until(intake, lambda s: value(s, "hazardloop_unsealed_events", service="intake") == 0)  # seals not counted
    assert value(sealed, "hazardloop_seal_age_seconds", service="intake") < 60


def test_metrics_still_answer_while_the_broker_is_down(harness, tmp_path):
    server = NatsServer(tmp_path / "own-nats").start()
    restarted = NatsServer(tmp_path / "own-nats", port=server.port)
    try:
        harness.common["nats_url"] = server.url
        intake = harness.start("intake")
        scrape_until(intake, lambda s: value(s, "hazardloop_stream_last_sequence", service="intake") is not None)
        server.kill()
        wait_for(lambda: intake.get("/readyz").status_code == 503)
        samples = scrape_until(intake, lambda s: value(s, "hazardloop_stream_last_sequence", service="intake") is None)
        assert value(samples, "hazardloop_projection_lag_events", service="intake") is None  # unknown, not zero
        assert value(samples, "hazardloop_projection_position", service="intake") is not None  # the store still says
        assert value(samples, "hazardloop_dead_letters", service="intake") == 0
        assert not any(math.isnan(v) for v in samples.values())

        restarted.start()
        scrape_until(intake, lambda s: value(s, "hazardloop_projection_lag_events", service="intake") == 0)
    finally:
        harness.close()  # while the broker is up: a service stops by draining its connection
        restarted.stop()
        server.stop()
