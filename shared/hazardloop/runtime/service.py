"""The shape every service shares: a FastStream NATS broker inside a FastAPI app.

A service's composition root hands over its name, settings, store URL, projection,
routes and the events it publishes; this module wires broker, event store, projection
runner, authentication and health probes, and connects nothing until startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from sqlalchemy import Engine, inspect, select, text

from hazardloop.events import Event
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable, Subjects
from hazardloop.privacy.pseudonyms import PseudonymDirectory
from hazardloop.privacy.sealing import TextVault
from hazardloop.projections import Projection, ProjectionRunner, storeversion
from hazardloop.projections.bookkeeping import Bookkeeping
from hazardloop.projections.collector import bulk_collection
from hazardloop.projections.db import create_store_engine
from hazardloop.projections.replay import rebuild
from hazardloop.runtime.metrics import install_metrics
from hazardloop.runtime.storegauges import StoreGauge
from hazardloop.runtime.settings import CommonSettings
from hazardloop.runtime.tracing import http_telemetry
from hazardloop.web import assets
from hazardloop.web.apidocs import api_docs_routes
from hazardloop.web.auth import Authenticator, Principal, Role, require
from hazardloop.web.eventdocs import event_docs_routes
from hazardloop.web.http import BodyLimit, declare_refusals, install_error_handlers
from hazardloop.web.oidc import ProviderTokens

log = logging.getLogger("hazardloop.runtime.service")

SHUTDOWN_DRAIN_SECONDS = 5
"""How long a stopping service lets its broker connection drain: after a broker stall or
kill the drain may never finish, and the client's own 30 s would outlast an orchestrator's
grace period (a stopped service then dies by SIGKILL instead of closing its stores)."""

ProjectionFactory = Callable[[EventStore], Projection]
OnConnect = Callable[["Runtime", JetStreamContext], Awaitable[None]]
Worker = Callable[["Runtime"], Awaitable[None]]
"""A loop a service runs in the background once connected (say, firing due timers)."""


@dataclass
class Runtime:
    """What a running service holds. The broker-bound parts exist only after startup."""

    name: str
    settings: CommonSettings
    engine: Engine
    projection_factory: ProjectionFactory
    subjects: Subjects
    broker: NatsBroker
    """Connected from startup to shutdown (the app's lifespan)."""
    event_docs: AsyncAPI
    """The AsyncAPI document of the events the service publishes."""
    store: EventStore | None = None
    directory: PseudonymDirectory | None = None
    runner: ProjectionRunner | None = None
    text_vault: TextVault | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by the server when the service is asked to stop: a startup still waiting for
    the broker gives up (waiting is endless by design, for a broker that comes up later)."""

    def event_store(self) -> EventStore:
        if self.store is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self.store

    @property
    def texts(self) -> TextVault:
        """Seals and opens reports' free text (every service shows some)."""
        if self.text_vault is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self.text_vault

    async def applied_through(self) -> int:
        """The last log sequence this service's store has taken in: the runner's position, or
        in an extra HTTP worker (which runs none) the checkpoint the store records."""
        if self.runner is not None:
            return self.runner.position
        projection = self.projection_factory(self.store)
        return await asyncio.to_thread(Bookkeeping(projection.name, projection.metadata, self.engine).read_checkpoint)

    def dead_letters(self) -> list[dict[str, Any]]:
        """What the projection parked, oldest first (empty before the first start)."""
        table = self.projection_factory(self.store).metadata.tables["dead_letter"]
        if not inspect(self.engine).has_table(table.name):
            return []
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(select(table).order_by(table.c.sequence))]

    def pseudonyms(self) -> PseudonymDirectory:
        """Where a person's pseudonym is found (and, by intake, assigned and erased)."""
        if self.directory is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self.directory

    async def pseudonym_of(self, tenant: str, subject: str) -> str | None:
        """A person's pseudonym in a subsidiary: None if they never reported by name there,
        or were erased. Read from the directory each time, so an erasure counts at once."""
        return await self.pseudonyms().find(tenant, subject)

    async def pseudonyms_of(self, principal: Principal) -> list[str]:
        """The caller's pseudonyms in the subsidiaries they act in: how they find their own reports."""
        return await self.pseudonyms().find_all(principal.tenants_within(self.settings.tenants), principal.subject)

    def make_store(self, nc: NatsClient) -> EventStore:
        return EventStore(
            nc,
            stream=self.settings.stream_name,
            subjects=self.subjects,
            source=f"hazardloop/{self.name}",
            timeout=self.settings.nats_timeout,
            settle=self.settings.append_settle_seconds,
            topology=self.settings.topology,
        )

    async def open_texts(self, js: JetStreamContext, *, create: bool) -> TextVault:
        """Bind the log's text keys (``create``: the bucket too, for a service that seals):
        what pages open reports' text with, and a projection that reads it (the console's
        blind index) rebuilds with."""
        settings = self.settings
        texts = TextVault(js, settings.keys.master_keys, bucket=settings.bucket("text-keys"), replicas=settings.stream_replicas)
        await texts.ensure(create=create)
        self.text_vault = texts
        return texts

    def make_runner(self, store: EventStore, *, react: bool = True) -> ProjectionRunner:
        return ProjectionRunner(
            self.projection_factory(store),
            self.engine,
            store,
            batch_size=self.settings.batch_size,
            rebuild_batch_size=self.settings.rebuild_batch_size,
            react=react,
        )


async def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime  # async: a plain def would cost a thread-pool hop


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def create_service(
    *,
    name: str,
    settings: CommonSettings,
    database_url: str,
    projection_factory: ProjectionFactory,
    routes: Sequence[APIRouter],
    publishes: Sequence[type[Event]],
    description: str,
    on_connect: OnConnect | None = None,
    larger_bodies: dict[str, int] | None = None,
    workers: Sequence[Worker] = (),
    keys: Sequence[str] = (),
    on_stop: Callable[[], Awaitable[None]] | None = None,
    gauges: Sequence[StoreGauge] = (),
) -> FastAPI:
    """``on_connect`` sets up a service's own broker-bound parts (buckets, say) at startup;
    ``larger_bodies`` lets upload paths take bodies over ``max_body_bytes``; ``workers``
    run from startup, once the projection runs, until shutdown; ``keys`` names the keys
    of the key ring it needs besides the token, pseudonym and master keys (every service
    opens reports' sealed text with the subsidiaries' master keys), checked before
    anything starts; ``on_stop`` releases what the service
    holds besides the broker (an HTTP client, say) when it stops; ``gauges`` are the
    service's own metrics, read from its store at each scrape of ``/metrics``."""
    settings.keys.require(["jwt", "pseudonym", "master", *keys], tenants=settings.tenants)
    subjects = Subjects(settings.subject_prefix)
    broker = NatsBroker(
        settings.nats_servers,
        connect_timeout=settings.nats_timeout,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        pending_size=0,  # while disconnected, refuse to publish rather than buffer and send after a 503
        drain_timeout=SHUTDOWN_DRAIN_SECONDS,
        logger=logging.getLogger(f"hazardloop.{name}.broker"),
    )
    for kind in publishes:
        broker.publisher(
            subjects.of_type(kind.model_fields["type"].default),
            schema=kind,
            title=f"{kind.__name__}:Publisher",
            description=(kind.__doc__ or "").strip(),
        )
    title, version = f"hazardloop {name}", "0.1.0"
    runtime = Runtime(
        name=name,
        settings=settings,
        engine=create_store_engine(database_url),
        projection_factory=projection_factory,
        subjects=subjects,
        broker=broker,
        event_docs=AsyncAPI(broker, title=title, version=version, description=description),
    )

    async def connect_log_and_projection() -> None:
        connection = broker.connection
        js = connection.jetstream(timeout=settings.nats_timeout)
        store = runtime.store = runtime.make_store(connection)  # the startup hook's handle on the log too
        # A service that appends nothing (the console) never reconfigures the log.
        await store.ensure_stream(replicas=settings.stream_replicas, update=bool(publishes))
        await runtime.open_texts(js, create=bool(publishes))
        if publishes:  # the console finds nobody's pseudonym: it neither needs nor may read the directory
            directory = PseudonymDirectory(js, settings.secret("pseudonym"), bucket=settings.bucket("reporters"), replicas=settings.stream_replicas)
            await directory.ensure()
            runtime.directory = directory
        if on_connect is not None:
            await on_connect(runtime, js)
        if not settings.run_projection:  # an extra HTTP worker: the first process keeps the store
            log.info("%s started as an extra HTTP worker: another process runs the projection", name)
            return
        runner = runtime.make_runner(store)
        metadata = runner.projection.metadata
        if storeversion.needs_rebuild(runtime.engine, name, metadata):
            log.warning("%s: the store's tables or indexes changed; rebuilding them from the log", name)
            with bulk_collection:
                await rebuild(runner, connection)
        runner.create_schema()
        storeversion.record(runtime.engine, name, metadata)
        runtime.runner = runner
        runner.start(js)
        runtime.tasks = [asyncio.create_task(worker(runtime), name=f"{name}-worker") for worker in workers]
        log.info("%s started: projection at sequence %d", name, runner.position)

    async def stop_projection() -> None:
        for task in runtime.tasks:
            task.cancel()
        for task in runtime.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if runtime.runner is not None:
            await runtime.runner.stop()
        if runtime.store is not None:  # connected
            await close_if_unanswered(broker.connection, settings.nats_timeout)
        if on_stop is not None:
            await on_stop()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Broker, log and projection up before the first request; down, in reverse, after the last."""
        try:
            if await unless_stopped(broker.start(), runtime.stop_requested):
                await connect_log_and_projection()
            else:
                log.warning("%s stopped before its broker answered", name)
            yield
            await stop_projection()
        finally:
            await broker.stop()

    # Swagger UI is served by api_docs_routes from the vendored copy, not from a CDN.
    app = FastAPI(
        title=title, description=description, version=version, docs_url=None, redoc_url=None, lifespan=lifespan, telemetry=http_telemetry()
    )
    app.state.runtime = runtime
    provider = ProviderTokens.from_settings(settings) if settings.oidc_issuer else None
    app.state.authenticator = Authenticator(settings.keys.versions("jwt"), settings.tenants, provider=provider)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, larger=larger_bodies)
    install_error_handlers(app, retry_after=settings.retry_after_seconds)
    app.mount(assets.VENDOR_PATH, assets.vendored_files(), name="vendor")
    app.include_router(api_docs_routes(app.title, app.openapi_url or "/openapi.json"))
    app.include_router(event_docs_routes(runtime.event_docs))
    app.include_router(health_routes())
    app.include_router(operator_routes())
    for router in routes:
        app.include_router(router)
    install_metrics(app, runtime, gauges, seals=bool(publishes))  # the console's broker user reads no message by sequence
    declare_refusals(app)
    return app


async def unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Await ``work``, or cancel it once ``stop`` is set: whether it finished."""
    working, stopping = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        working.cancel()  # nothing, if it finished
        await asyncio.wait({working})
    if working.cancelled():
        return False
    working.result()  # its error, if any
    return True


async def close_if_unanswered(connection: NatsClient | None, timeout: float) -> None:
    """Close the broker connection at once when the broker does not answer a ping.

    A stopping service drains its connection, and a drain waits on the broker: on a stalled
    one, for the drain timeout and then a flush's own ten seconds. Nothing is left to
    flush once the projection has stopped, so a silent broker gets a plain close instead
    (the framework's drain then reports the closed connection, and the service exits).
    """
    if connection is None or connection.is_closed:
        return
    try:
        await connection.flush(timeout=timeout)  # type: ignore[arg-type]
    except (NatsError, asyncio.TimeoutError):
        log.warning("the broker does not answer; closing the connection without draining it")
        await connection.close()


def operator_routes() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/dead-letters")
    def dead_letters(
        runtime: RuntimeDep, _: Annotated[Principal, Depends(require(Role.OPERATOR))]
    ) -> list[dict[str, Any]]:
        """Events this service's projection parked: stream sequence, subject, error."""
        return runtime.dead_letters()

    return router


def health_routes() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "Not ready: the body says which part is not."}})
    def readyz(runtime: RuntimeDep) -> JSONResponse:
        """Broker and store reachable, projection running."""
        try:
            broker = runtime.broker.connection.is_connected
        except IncorrectState:  # not started yet, or stopped
            broker = False
        try:
            with runtime.engine.connect() as db:
                db.execute(text("SELECT 1"))
            store = True
        except Exception:  # noqa: BLE001 - any failure means not ready
            store = False
        runner = runtime.runner
        if not runtime.settings.run_projection:  # an extra HTTP worker: the first process runs it
            projection, running = {"position": None, "error": None, "elsewhere": True}, True
        else:
            projection = {"position": runner.position if runner else None, "error": runner.last_error if runner else "not started"}
            running = runner is not None and runner.last_error is None
        body = {"broker": broker, "store": store, "projection": projection}
        ready = broker and store and running
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
