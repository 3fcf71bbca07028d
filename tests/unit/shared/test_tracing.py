"""Traces: off without an endpoint; a request's server span keeps no credential of its URL."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hazardloop.runtime.tracing import configured, http_telemetry, tracer_provider


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
    ],
)
def test_traces_are_on_only_with_an_otlp_endpoint(environ, on):
    assert configured(environ) is on


async def test_a_request_s_server_span_names_its_route_and_service_and_drops_the_form_link_s_signature():
    exported = InMemorySpanExporter()
    provider = tracer_provider("intake", exported)
    app = FastAPI(telemetry=http_telemetry(provider))

    @app.get("/f/{tenant}/{place}")
    async def form(tenant: str, place: str) -> dict[str, str]:
        return {"place": place}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        assert (await client.get("/f/refinery/bay-3", params={"k": "Zm9ybS1zaWc", "lang": "en"})).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    provider.force_flush()
    (span,) = exported.get_finished_spans()  # the probe is not traced
    assert span.name == "GET /f/{tenant}/{place}"
    assert span.resource.attributes["service.name"] == "hazardloop-intake"
    assert span.attributes["url.query"] == "k=[redacted]&lang=en"
    provider.shutdown()
