"""End to end: a report's trace, as a real OTLP receiver gets it from the services as processes.

One trace runs from intake's HTTP request through the append, across the log, into
verification's and notifications' handling of the event, and the reporter's inbox message
is recorded in a trace linked to it; no span says what the report says or who filed it. Without an endpoint nothing is traced, and events without trace
headers (or with broken ones) are consumed as ever.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import nats

from hazardloop.events import encode_event
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from tests.factories import report_body, report_filed
from tests.otlp import ReceivedSpan, TraceReceiver
from tests.waiting import wait_for

SERVICES = ("intake", "verification", "notifications")
DESCRIPTION = "Traced private text: Mr Qiao Sanzhang left the valve open"
NAME, PHONE, EMPLOYEE = "欧阳追踪", "13912340000", "e-trace-77"


def file_named_report(system) -> str:
    body = report_body(description=DESCRIPTION, reporter={"employee_number": EMPLOYEE, "name": NAME, "phone": PHONE})
    filed = httpx.post(f"{system.url('intake')}/reports", json=body, headers=system.headers(EMPLOYEE), timeout=10)
    assert filed.status_code == 201, filed.text
    return filed.json()["report_id"]


def in_queue(system, report_id: str) -> bool:
    verifier = system.headers("safety-li", roles=[Role.VERIFIER])
    queue = httpx.get(f"{system.url('verification')}/queue", params={"tenant": "refinery"}, headers=verifier, timeout=10)
    return report_id in queue.text


def the_report_trace(spans: list[ReceivedSpan], report_id: str) -> dict[str, ReceivedSpan] | None:
    """The spans of the report's filing, by role, once every one of them has arrived."""
    server = next((s for s in spans if s.service == "hazardloop-intake" and s.kind == "server" and s.name == "POST /reports"
                   and any(a.attributes.get("hazardloop.report.id") == report_id for a in spans if a.trace_id == s.trace_id)), None)
    if server is None:
        return None
    trace = [s for s in spans if s.trace_id == server.trace_id]

    def one(service: str, kind: str, name: str) -> ReceivedSpan | None:
        return next((s for s in trace if s.service == service and s.kind == kind and s.name == name
                     and s.attributes.get("hazardloop.report.id") == report_id), None)

    found = {
        "server": server,
        "append": one("hazardloop-intake", "producer", "append ReportFiled"),
        "verification": one("hazardloop-verification", "consumer", "verification apply ReportFiled"),
        "notifications": one("hazardloop-notifications", "consumer", "notifications apply ReportFiled"),
    }
    return found if all(found.values()) else None


def test_one_trace_runs_from_the_form_through_the_log_into_every_consumer_and_says_nothing_personal(system):
    with TraceReceiver() as receiver:
        system.env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        system.start(*SERVICES)
        report_id = file_named_report(system)
        spans = wait_for(lambda: the_report_trace(receiver.received(), report_id), timeout=30)

        assert spans["append"].parent_span_id != ""  # inside the request, not a trace of its own
        assert spans["verification"].parent_span_id == spans["append"].span_id
        assert spans["notifications"].parent_span_id == spans["append"].span_id
        assert spans["append"].attributes["hazardloop.tenant"] == "refinery"
        trace_id = spans["server"].trace_id
        recorded = wait_for(lambda: [s for s in receiver.received() if s.name == "notifications record inbox" and trace_id in s.links])
        assert all(s.trace_id != trace_id for s in recorded)  # the sender's own trace, linked to the report's
        personal = [DESCRIPTION, NAME, PHONE, EMPLOYEE, "Qiao Sanzhang"]
        for span in receiver.received():
            said = json.dumps([span.name, span.attributes], ensure_ascii=False)
            assert not [text for text in personal if text in said], f"{span.service} {span.name} says {said}"


def test_events_without_trace_headers_or_with_broken_ones_are_consumed_while_tracing(system):
    with TraceReceiver() as receiver:
        system.env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        system.start("intake", "verification")
        untraced, broken = report_filed(), report_filed()

        async def append() -> None:
            connection = await nats.connect(system.nats_url)
            try:
                store = EventStore(connection, stream=system.stream, subjects=Subjects(system.prefix))
                await store.append(untraced, expected_version=0)  # this process traces nothing: no trace headers
                headers = {"Nats-Msg-Id": str(broken.event_id), "ce-traceparent": "00-not-a-trace-01", "ce-tracestate": "=,="}
                await connection.jetstream().publish(store.subjects.of(broken), encode_event(broken), headers=headers)
            finally:
                await connection.close()

        asyncio.run(append())
        wait_for(lambda: in_queue(system, untraced.aggregate_id) and in_queue(system, broken.aggregate_id), timeout=30)
        operator = system.headers("ops-lin", roles=[Role.OPERATOR])
        assert httpx.get(f"{system.url('verification')}/dead-letters", headers=operator, timeout=10).json() == []


def test_without_an_endpoint_nothing_is_traced_and_a_caller_s_trace_header_changes_nothing(system):
    system.start(*SERVICES)
    caller = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    body = report_body()
    filed = httpx.post(f"{system.url('intake')}/reports", json=body, headers=system.headers("emp-5") | caller, timeout=10)
    assert filed.status_code == 201
    report_id = filed.json()["report_id"]
    wait_for(lambda: in_queue(system, report_id), timeout=30)

    async def headers_of_the_filing() -> dict[str, str]:
        connection = await nats.connect(system.nats_url)
        try:
            subject = Subjects(system.prefix).aggregate("refinery", "report", report_id)
            message = await connection.jetstream().get_msg(system.stream, seq=1, subject=subject, next=True)
            return dict(message.headers or {})
        finally:
            await connection.close()

    headers = asyncio.run(headers_of_the_filing())
    assert headers["ce-subject"] == report_id
    assert not {"ce-traceparent", "ce-tracestate", "traceparent"} & set(headers)
