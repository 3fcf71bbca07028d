"""Intake as a process while its broker stalls (SIGSTOP) mid-request, then resumes.

Every 201 is in the log once; every 503 stored nothing (a filing first seals its text under
its report's key, which a stalled broker cannot hand out); retries never file twice; an
anonymous reporter gets their receipt code back. (An append left without an answer is
settled by the event store: tests/integration/shared/test_eventstore_stall.py.)
The stalled nats-server is this test's own, never the session's.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import nats
import pytest

from hazardloop.log.natsserver import NatsServer
from hazardloop.web.auth import Role
from tests.e2e.conftest import System
from tests.factories import report_body
from tests.stall import stall, unread_bytes, wake
from tests.waiting import wait_for

SETTLE = 2.5
"""Seconds intake keeps asking a stalled broker before it answers 503 (outcome unknown)."""


@pytest.fixture
def stalling(tmp_path, stream_names):
    server = NatsServer(tmp_path / "nats").start()
    system = System(server.url, tmp_path, *stream_names)
    system.env |= {"HAZARDLOOP_NATS_TIMEOUT": "1.5", "HAZARDLOOP_APPEND_SETTLE_SECONDS": str(SETTLE), "HAZARDLOOP_RETRY_AFTER_SECONDS": "1"}
    try:
        yield system, server
    finally:
        wake(server.process)
        system.stop()
        server.stop()


def filed_report_ids(system: System) -> list[str]:
    """The report ids of every ReportFiled in the log, as often as each is there."""

    async def read() -> list[str]:
        connection = await nats.connect(system.nats_url)
        try:
            js = connection.jetstream()
            last = (await js.stream_info(system.stream)).state.last_seq
            messages = [await js.get_msg(system.stream, seq) for seq in range(1, last + 1)]
            return [json.loads(m.data)["aggregate_id"] for m in messages if m.subject.endswith(".ReportFiled")]
        finally:
            await connection.close()

    return asyncio.run(read())


def test_a_stalled_broker_never_turns_a_stored_report_into_a_503_that_a_retry_duplicates(stalling):
    system, server = stalling
    system.start("intake")
    url = system.url("intake")
    reporter = system.headers("emp-7")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    form_link = httpx.get(f"{url}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    form_page = httpx.get(form_link).text
    form = {
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form_page).group(1),
        "lang": "en", "kind": "unsafe_behaviour:no_protective_equipment", "description": "Harness not clipped on",
        "observed_at": "2026-06-01T08:30", "who": "anonymous",
    }
    requests = (
        [{"json": report_body(anonymous=True, description=f"anonymous, no key {i}")} for i in range(3)]
        + [{"json": report_body(anonymous=True, description="anonymous, keyed"), "key": "keyed-report-0001"}]
        + [{"json": report_body(description=f"named, no key {i}")} for i in range(2)]
    )

    def post(request: dict) -> httpx.Response:
        headers = reporter | ({"Idempotency-Key": request["key"]} if "key" in request else {})
        return httpx.post(f"{url}/reports", json=request["json"], headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        stall(server.process)  # for longer than intake keeps asking
        stalled = list(pool.map(post, requests))
        stalled_form = httpx.post(form_link, data=form, timeout=30)
        # Still stalled: these reach the broker's connection (each asks for its report's text
        # key first), and the broker resumes while they wait.
        backlog = unread_bytes(server.port)
        pending = [pool.submit(post, {"json": report_body(anonymous=True, description=f"during the stall {i}")}) for i in range(4)]
        wait_for(lambda: unread_bytes(server.port) > backlog + 4 * 150, timeout=10, interval=0.01)  # a key look-up each
        wake(server.process)
        resumed = [future.result() for future in pending]

    # Every filing seals its text under its report's key before it appends: a stalled broker
    # stops each one there, with nothing stored.
    assert all(answer.status_code == 503 and answer.headers["Retry-After"] == "1" for answer in stalled)
    assert all(answer.json().get("outcome") != "unknown" for answer in stalled)
    assert stalled_form.status_code == 503 and form["idempotency_key"] in stalled_form.text  # the form keeps its key
    assert all(answer.status_code == 201 for answer in resumed)  # found out before answering

    # The client sends the same requests again, twice: each is filed once.
    outcomes = {}
    for number, request in enumerate(requests[:4]):
        answers = [post(request | {"key": request.get("key", f"retried-filing-{number:04d}")}) for _ in range(2)]
        assert [answer.status_code for answer in answers] == [201, 200]
        assert answers[0].json()["report_id"] == answers[1].json()["report_id"]
        assert answers[0].json()["receipt_code"] == answers[1].json()["receipt_code"]  # the anonymous reporter's code, back
        outcomes[answers[0].json()["report_id"]] = answers[0].json()["receipt_code"]
    sent_again = httpx.post(form_link, data=form, timeout=30)  # the reporter presses Send again
    assert sent_again.status_code in (200, 201) and 'id="receipt-code"' in sent_again.text
    form_report = re.search(r'id="report-id">([^<]+)<', sent_again.text).group(1)

    expected = set(outcomes) | {answer.json()["report_id"] for answer in resumed} | {form_report}
    assert Counter(filed_report_ids(system)) == Counter(expected)  # each once; the 503s stored nothing

    report_id, code = next(iter(outcomes.items()))
    followed = wait_for(lambda: (r := httpx.get(f"{url}/receipt", headers={"Receipt-Code": code})).status_code == 200 and r)
    assert followed.json()["report_id"] == report_id


def test_a_service_asked_to_stop_while_its_broker_is_stalled_stops_promptly(stalling):
    """An orchestrator's SIGTERM during a broker stall: the service gives its connection a
    bounded drain and exits, well inside a grace period, instead of hanging on the broker."""
    system, server = stalling
    system.start("intake")
    stall(server.process)
    started = time.monotonic()
    system.stop("intake")  # raises if intake ignores SIGTERM for 15 s
    assert time.monotonic() - started < 12
