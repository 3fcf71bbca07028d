"""The event contracts each service publishes over HTTP: readable documents, and nothing that writes."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import nats
import pytest
import yaml
from nats.js.errors import NotFoundError

from hazardloop.tools.registry import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_the_asyncapi_document_is_served_as_json_yaml_and_a_page(system, service):
    system.start(service)
    with httpx.Client(base_url=system.url(service), timeout=10) as client:
        as_json = client.get("/asyncapi.json")
        as_yaml = client.get("/asyncapi.yaml")
        page = client.get("/asyncapi")
    assert as_json.status_code == as_yaml.status_code == page.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert page.headers["content-type"].startswith("text/html")
    assert yaml.safe_load(as_yaml.text) == as_json.json()
    assert as_json.json()["asyncapi"].startswith("3.")


def test_no_unauthenticated_route_publishes_to_the_event_log(system):
    """The documentation page's "try it out" must not reach the broker: only commands append, each checked."""
    system.start("intake")
    subject = f"{system.prefix}.refinery.report.forged-{uuid.uuid4().hex[:8]}.ReportFiled"
    forged = {
        "channelName": subject,
        "message": {"message": {"type": "ReportFiled", "tenant": "refinery"}},
        "options": {"sendToRealBroker": True},
    }
    answer = httpx.post(f"{system.url('intake')}/asyncapi/try", json=forged, timeout=10)
    assert answer.status_code in (404, 405), answer.text
    assert asyncio.run(last_message_on(system.nats_url, system.stream, subject)) is None


async def last_message_on(nats_url: str, stream: str, subject: str):
    connection = await nats.connect(nats_url)
    try:
        await connection.flush()
        return await connection.jetstream().get_last_msg(stream, subject)
    except NotFoundError:
        return None
    finally:
        await connection.close()
