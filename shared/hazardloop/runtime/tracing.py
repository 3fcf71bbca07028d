"""Traces from an HTTP request through the append, across the log, into every consumer.

On only when an OTLP endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, the OpenTelemetry SDK's own variables). Off, no
provider is installed, no exporter thread runs, FastAPI's server spans stay off (it
traces only once a provider is installed) and the helpers here return at their first test.

An event carries the context of the span that appended it in its NATS headers, as the
CloudEvents Distributed Tracing extension's ``traceparent`` and ``tracestate`` attributes,
``ce-`` prefixed like every other attribute in binary mode. Headers only: the event's body,
and so its hash, never changes. A consumer's span for one event (its projection applying
it, a reaction to it) is a child of that context, so a report's trace runs from the form
to every service that handled it; the appends a reaction makes continue that trace. Work
done later on its own clock (a notification's delivery) is linked to it instead.

Span attributes name events, aggregates and subsidiaries, never people or their words.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Link, Span, SpanContext, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hazardloop.events import Event
from hazardloop.runtime.logs import redact

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
EVENT_PREFIX = "ce-"
"""CloudEvents binary mode: attributes, extensions' included, travel as ``ce-`` headers."""
TRACE_HEADERS = ("traceparent", "tracestate")

_W3C = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("hazardloop")


class _State:
    """Whether this process traces: set once, by ``configure_tracing``."""

    enabled = False


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure_tracing(service: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Install a provider exporting to the configured OTLP endpoint: whether tracing is on.

    The exporter is imported only then: a service that does not trace does not load it.
    """
    if not configured(environ):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    trace.set_tracer_provider(tracer_provider(service, OTLPSpanExporter()))
    _State.enabled = True
    return True


def tracer_provider(service: str, exporter: SpanExporter) -> TracerProvider:
    """Spans of ``hazardloop-<service>``, credentials taken out of URLs, exported in batches
    by a background thread (``OTEL_BSP_*`` tune it)."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"hazardloop-{service}"}))
    provider.add_span_processor(_RedactQuery())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def http_telemetry(provider: TracerProvider | None = None) -> dict[str, Any]:
    """FastAPI's own telemetry, as the services use it: a server span per request (once a
    provider is installed, or with ``provider``), without its log records, which carry the
    rejected input (personal data); health probes are left out."""
    return {"tracer_provider": provider, "logs": False, "operation_spans": False, "exclude": _is_probe}


def _is_probe(scope: Any) -> bool:
    return scope.get("path") in ("/healthz", "/readyz")


class _RedactQuery(SpanProcessor):
    """Rewrites credentials in a server span's ``url.query`` (the QR link's ``k=``, tokens),
    as the logs do, before the span is exported."""

    def on_start(self, span: SdkSpan, parent_context: otel_context.Context | None = None) -> None:
        query = (span.attributes or {}).get("url.query")
        if isinstance(query, str):
            span.set_attribute("url.query", redact(query))

    def on_end(self, span: ReadableSpan) -> None:
        pass


# --- events ----------------------------------------------------------------------------


def event_attributes(event: Event) -> dict[str, str]:
    """What a span may say of an event: its kind and where it belongs, nothing it says."""
    attributes = {
        "messaging.system": "nats",
        "hazardloop.tenant": event.tenant,
        "hazardloop.event.type": event.type,
        "hazardloop.event.id": str(event.event_id),
        "hazardloop.aggregate.type": event.aggregate_type,
        "hazardloop.aggregate.id": event.aggregate_id,
    }
    if event.aggregate_type == "report":
        attributes["hazardloop.report.id"] = event.aggregate_id
    return attributes


def event_headers() -> dict[str, str]:
    """The current span's context as an event's ``ce-traceparent`` (and ``ce-tracestate``);
    empty when not tracing."""
    if not _State.enabled:
        return {}
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return {f"{EVENT_PREFIX}{name}": value for name, value in carrier.items() if name in TRACE_HEADERS}


def event_context(headers: Mapping[str, str] | None) -> otel_context.Context | None:
    """The context an event was appended in, from its headers; None when not tracing, or
    when the event carries none (appended untraced, or before tracing existed)."""
    if not _State.enabled or not headers:
        return None
    carrier = {name: headers[f"{EVENT_PREFIX}{name}"] for name in TRACE_HEADERS if f"{EVENT_PREFIX}{name}" in headers}
    if "traceparent" not in carrier:
        return None
    found = _W3C.extract(carrier)
    return found if trace.get_current_span(found).get_span_context().is_valid else None  # a malformed one starts no trace


# --- spans -----------------------------------------------------------------------------


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    parent: otel_context.Context | None = None,
    links: Iterable[Link] = (),
) -> Iterator[Span | None]:
    """A span made current for the block, when tracing (None otherwise). ``parent``: the
    context to continue (an event's); else the current one."""
    if not _State.enabled:
        yield None
        return
    with _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes, links=list(links)) as current:
        yield current


def deciding(keys: Sequence[tuple[str, str, str]]) -> contextlib.AbstractContextManager[Span | None]:
    """The span of a command's decision over aggregates (tenant, aggregate type, id): their
    ids, never their contents."""
    if not _State.enabled or not keys:
        return contextlib.nullcontext()
    tenant, aggregate_type, aggregate_id = keys[0]
    attributes: dict[str, str | int] = {
        "hazardloop.tenant": tenant, "hazardloop.aggregate.type": aggregate_type,
        "hazardloop.aggregate.id": aggregate_id, "hazardloop.aggregates": len(keys),
    }
    if aggregate_type == "report":
        attributes["hazardloop.report.id"] = aggregate_id
    return span(f"decide {aggregate_type}", attributes=attributes)


def appending(events: list[Event] | tuple[Event, ...]) -> contextlib.AbstractContextManager[Span | None]:
    """The producer span of an append: the context its events carry."""
    if not _State.enabled:
        return contextlib.nullcontext()
    first = events[0]
    name = f"append {first.type}" if len(events) == 1 else f"append {len(events)} events"
    attributes = event_attributes(first) if len(events) == 1 else {"messaging.batch.message_count": len(events)}
    return span(name, kind=SpanKind.PRODUCER, attributes=attributes)


@contextlib.contextmanager
def consuming(service: str, operation: str, event: Event, sequence: int, parent: otel_context.Context | None) -> Iterator[Span | None]:
    """A consumer's span for one event (``operation``: apply, react), a child of the span
    that appended it: what a service did with the event belongs to the event's trace."""
    if parent is None:
        yield None
        return
    attributes = event_attributes(event) | {"messaging.consumer.group.name": service, "hazardloop.sequence": sequence}
    with span(f"{service} {operation} {event.type}", kind=SpanKind.CONSUMER, attributes=attributes, parent=parent) as current:
        if current is not None:
            _handled.remember(str(event.event_id), current.get_span_context())
        yield current


def following(name: str, event_ids: Iterable[str], attributes: Mapping[str, Any] | None = None) -> contextlib.AbstractContextManager[Span | None]:
    """A span for work done later, on its own clock, for events this process handled (a
    notification sent, retried for hours, or many recorded at once): a trace of its own,
    linked to the spans that handled those events here, rather than a child stretching
    each event's trace over the retries. Events handled before a restart are not linked."""
    if not _State.enabled:
        return contextlib.nullcontext()
    links = [Link(context) for event_id in dict.fromkeys(event_ids) if (context := _handled.find(event_id)) is not None]
    return span(name, kind=SpanKind.CONSUMER, attributes=attributes, links=links)


class _Handled:
    """The spans that handled the latest events in this process, by event id (bounded)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._spans: OrderedDict[str, SpanContext] = OrderedDict()
        self._lock = threading.Lock()  # projections apply in worker threads

    def remember(self, event_id: str, context: SpanContext) -> None:
        with self._lock:
            self._spans[event_id] = context
            self._spans.move_to_end(event_id)
            while len(self._spans) > self._size:
                self._spans.popitem(last=False)

    def find(self, event_id: str) -> SpanContext | None:
        with self._lock:
            return self._spans.get(event_id)


_handled = _Handled()
