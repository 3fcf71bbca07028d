"""Log lines: one JSON object each, tied to the trace and the report they concern; credentials never
reach a line, whatever logger writes it (uvicorn's access log included)."""

import io
import json
import logging
import uuid
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hazardloop.runtime.logs import RedactSecrets, bound, handler
from hazardloop.runtime.tracing import http_telemetry, tracer_provider


def test_the_access_log_line_of_a_qr_form_keeps_the_path_and_drops_the_signature(caplog):
    logger = logging.getLogger("uvicorn.access")
    caplog.handler.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", "/f/refinery/bay-3?k=Zm9ybS1zaWc&lang=en", "1.1", 200)
    (record,) = caplog.records
    assert record.args[2] == "/f/refinery/bay-3?k=[redacted]&lang=en" and record.args[4] == 200
    assert "Zm9ybS1zaWc" not in caplog.text


def test_a_credential_in_the_message_itself_is_redacted(caplog):
    caplog.handler.addFilter(RedactSecrets())
    with caplog.at_level(logging.INFO):
        logging.getLogger("hazardloop.test").info("fetched https://intake/reports?access_token=eyJhbGciOi.x.y done")
    assert "eyJhbGciOi" not in caplog.text and "access_token=[redacted] done" in caplog.text


# --- JSON lines ------------------------------------------------------------------------


@pytest.fixture
def lines():
    """A logger writing through the services' handler into a buffer; the lines it wrote, parsed."""
    buffer = io.StringIO()
    logger = logging.getLogger(f"hazardloop.test.{uuid.uuid4().hex[:8]}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler(buffer, "json"))

    def written() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield logger, written
    logger.handlers.clear()


def test_a_line_is_one_json_object_with_time_level_logger_and_message(lines):
    logger, written = lines
    logger.warning("projection %s paused: %s", "rewards", "broker down")
    (line,) = written()
    assert line["message"] == "projection rewards paused: broker down"
    assert line["level"] == "warning" and line["logger"] == logger.name
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None
    assert "trace_id" not in line and "report_id" not in line


def test_an_access_log_line_in_json_keeps_the_path_and_drops_the_signature(lines):
    logger, written = lines
    logger.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5123", "GET", "/f/refinery/bay-3?k=Zm9ybS1zaWc&lang=en", "1.1", 200)
    (line,) = written()
    assert line["message"] == '10.0.0.7:5123 - "GET /f/refinery/bay-3?k=[redacted]&lang=en HTTP/1.1" 200'
    assert "Zm9ybS1zaWc" not in json.dumps(line)


def test_a_line_names_the_report_and_subsidiary_it_concerns(lines):
    logger, written = lines
    with bound(tenant="refinery", report_id="R-2026-0001"):
        logger.info("decided")
    logger.info("after")
    inside, after = written()
    assert (inside["tenant"], inside["report_id"]) == ("refinery", "R-2026-0001")
    assert "tenant" not in after and "report_id" not in after


async def test_a_line_logged_while_handling_a_request_carries_the_request_s_trace(lines):
    logger, written = lines
    exported = InMemorySpanExporter()
    provider = tracer_provider("intake", exported)
    app = FastAPI(telemetry=http_telemetry(provider))

    @app.post("/reports")
    async def file() -> dict[str, str]:
        logger.info("filing")
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        assert (await client.post("/reports")).status_code == 200
    provider.force_flush()
    (span,) = exported.get_finished_spans()
    (line,) = written()
    assert line["trace_id"] == format(span.context.trace_id, "032x")
    assert line["span_id"] == format(span.context.span_id, "016x")
    provider.shutdown()


def test_console_lines_are_plain_text_for_a_person():
    buffer = io.StringIO()
    logger = logging.getLogger("hazardloop.test.console")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler(buffer, "console"))
    try:
        logger.info("fetched /reports?token=eyJhbGciOi.x.y")
    finally:
        logger.handlers.clear()
    text = buffer.getvalue()
    assert not text.startswith("{") and "fetched /reports?token=[redacted]" in text and "eyJhbGciOi" not in text
