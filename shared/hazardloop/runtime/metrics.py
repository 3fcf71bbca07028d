"""``GET /metrics``: what a service is doing, in the Prometheus text format.

Each app has its own registry (several services share one process in tests and in
``hazardloop run``), and every series is labelled with the service's name. HTTP requests
are counted by route *template*, never by raw path: ids are unbounded and a path may
carry what a person typed. The rest is read at scrape time: the projection from the
runner and the log (``logwatch``), dead letters and each service's own gauges from its
store (``storegauges``). Nothing here needs the broker to answer: a reading that fails
leaves its series out, and the scrape still succeeds.

The endpoint needs no token (a scraper has none) and so answers only requests that did
not come through a reverse proxy: it is for the cluster's Prometheus, not for the web.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Request, Response
from faststream.exceptions import IncorrectState
from nats.aio.client import Client as NatsClient
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazardloop.runtime.logwatch import LogReading, LogWatch
from hazardloop.runtime.storegauges import StoreGauge, dead_letters, read_gauge

if TYPE_CHECKING:
    from hazardloop.runtime.service import Runtime

log = logging.getLogger("hazardloop.runtime.metrics")

METRICS_PATH = "/metrics"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a page or an API answer takes milliseconds, an upload or a dossier seconds."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other is counted as ``other`` (a client chooses it freely)."""

UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404, or refused before routing)."""

PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
"""Set by every reverse proxy: a scrape that carries one came from outside the cluster."""


class RequestMetrics:
    """ASGI middleware: counts each HTTP request and times it, by route template."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram, service: str) -> None:
        self.app = app
        self.requests, self.latency, self.service = requests, latency, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500  # an exception that escapes is answered 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route, method = route_template(scope), scope["method"] if scope["method"] in METHODS else "other"
            self.requests.labels(self.service, route, method, str(status)).inc()
            self.latency.labels(self.service, route, method).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The path template of the route that took the request (``/reports/{report_id}``),
    or of the mount (``/vendor``); Starlette records the route in the scope as it routes."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class ServiceState(Collector):
    """The gauges read at scrape time: projection, log, dead letters, the service's own."""

    def __init__(self, runtime: Runtime, gauges: Sequence[StoreGauge]) -> None:
        self.runtime, self.gauges = runtime, gauges
        self.reading = LogReading()

    def collect(self) -> Iterator[Metric]:
        service = self.runtime.name
        runner = self.runtime.runner
        reading = self.reading
        yield gauge(
            "hazardloop_projection_position",
            "Stream sequence of the last event the projection applied (its checkpoint).",
            {(service,): runner.position if runner else None},
        )
        yield gauge(
            "hazardloop_projection_lag_events",
            "Events of the projection's kinds in the log that it has not applied yet.",
            {(service,): reading.projection_pending if runner else None},
        )
        yield gauge(
            "hazardloop_stream_last_sequence",
            "Sequence of the newest message in the log, as this service last read it.",
            {(service,): reading.stream_last_sequence},
        )
        yield gauge(
            "hazardloop_seal_age_seconds",
            "Seconds since the last seal of the log (+Inf: events, and no seal yet).",
            {(service,): reading.seal_age_seconds()},
        )
        yield gauge(
            "hazardloop_unsealed_events",
            "Messages in the log after the last one a seal covers.",
            {(service,): reading.unsealed_events()},
        )
        yield from self.store_gauges(service)

    def store_gauges(self, service: str) -> Iterator[Metric]:
        """Dead letters and the service's own gauges; one that cannot be read is there
        without a value (its name and help stay known)."""
        runner = self.runtime.runner
        gauges = [dead_letters(runner.projection.metadata.tables["dead_letter"] if runner else None), *self.gauges]
        for store_gauge, values in zip(gauges, self.read_store(gauges), strict=True):
            labelled = {(service, *labels): value for labels, value in values.items()}
            yield gauge(store_gauge.name, store_gauge.documentation, labelled, labels=store_gauge.labels)

    def read_store(self, gauges: Sequence[StoreGauge]) -> list[Mapping[tuple[str, ...], float]]:
        """Each gauge's values, all read on one connection."""
        try:
            with self.runtime.engine.connect() as connection:
                return [read_gauge(connection, store_gauge) for store_gauge in gauges]
        except Exception as exc:  # noqa: BLE001 - the store away: its gauges are unknown
            log.debug("the store could not be read for metrics: %r", exc)
            return [{} for _ in gauges]


def gauge(name: str, documentation: str, values: Mapping[tuple[str, ...], float | None], *, labels: Iterable[str] = ()) -> Metric:
    """A gauge family of the series whose value is known."""
    family = GaugeMetricFamily(name, documentation, labels=["service", *labels])
    for label_values, value in values.items():
        if value is not None:
            family.add_metric(list(label_values), value)
    return family


def install_metrics(app: FastAPI, runtime: Runtime, gauges: Sequence[StoreGauge] = (), *, seals: bool = True) -> CollectorRegistry:
    """Count the app's requests and serve ``GET /metrics`` from a registry of its own;
    ``seals``: also the seal chain's age (see ``LogWatch``)."""
    registry = CollectorRegistry()
    requests = Counter(
        "hazardloop_http_requests",
        "HTTP requests answered, by route template, method and status.",
        ["service", "route", "method", "status"],
        registry=registry,
    )
    latency = Histogram(
        "hazardloop_http_request_duration_seconds",
        "Time to answer an HTTP request, by route template and method.",
        ["service", "route", "method"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    state = ServiceState(runtime, gauges)
    registry.register(state)
    watch = LogWatch(stream=runtime.settings.stream_name, seals=seals)
    app.add_middleware(RequestMetrics, requests=requests, latency=latency, service=runtime.name)

    @app.get(METRICS_PATH, include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """The service's metrics for a scraper inside the cluster; 404 through a proxy."""
        if any(header in request.headers for header in PROXY_HEADERS):
            raise HTTPException(status_code=404)
        runner = runtime.runner
        state.reading = await watch.read(connection_of(runtime), runtime.store, runner.projection.name if runner else None)
        body = await asyncio.to_thread(generate_latest, registry)  # the store gauges query the database
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return registry


def connection_of(runtime: Runtime) -> NatsClient | None:
    """The broker connection while the service is connected, else None."""
    if runtime.store is None:
        return None
    try:
        connection = runtime.broker.connection
    except IncorrectState:  # stopped
        return None
    if not connection.is_connected:
        return None
    return connection
