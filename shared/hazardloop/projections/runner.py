"""The live projection runner: it subscribes to the log and applies each batch of
events with the checkpoint (the last stream sequence applied), in one transaction.

The broker is acknowledged only after that commit. An event at or below the
checkpoint is skipped, so redelivery and replay are no-ops, and a crash at any point
resumes exactly where the store says it stopped.

Reactions (appending new events in response to one) run before the commit and must be
idempotent: after a crash they run again and the event store drops the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hazardloop.log.eventstore import EventStore, EventStoreUnavailable
from hazardloop.projections.bookkeeping import Bookkeeping
from hazardloop.projections.definition import Delivery, Projection, delivery_of
from hazardloop.projections.writer import Writer
from hazardloop.runtime import tracing
from hazardloop.runtime.logs import bound_to

log = logging.getLogger("hazardloop.projections")


def is_outage(exc: BaseException) -> bool:
    """Broker or database unreachable: wait and retry, never dead-letter.

    Other database errors (a constraint, a value the database refuses) say something
    about the event, so they are isolated and dead-lettered like any handler error.
    """
    if isinstance(exc, EventStoreUnavailable | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class Backoff:
    """Exponential pause between retries, cut short when the runner stops."""

    def __init__(self, first: float = 0.1, limit: float = 5.0) -> None:
        self._next = first
        self._limit = limit

    async def wait(self, stopping: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), self._next)
        self._next = min(self._next * 2, self._limit)


class ProjectionRunner:
    """Feeds a projection from the log: live here, and in bulk by ``projections.replay``."""

    def __init__(
        self,
        projection: Projection,
        engine: Engine,
        store: EventStore,
        *,
        batch_size: int = 500,
        rebuild_batch_size: int | None = None,
        max_attempts: int = 5,
        crash_limit: int = 3,
        retry_base_delay: float = 0.05,
        react: bool = True,
        ack_wait: float = 60.0,
    ) -> None:
        self.projection = projection
        self.engine = engine
        self.store = store
        self.bookkeeping = Bookkeeping(projection.name, projection.metadata, engine)
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size or batch_size
        """Events per commit while catching up from the log. A rebuild's transaction costs
        mostly the index pages it dirties, random keys spreading its rows all over them:
        a larger batch shares each page among more rows (5,000 instead of 1,000 cut the
        notifications rebuild's CPU per event by a tenth)."""
        self.max_attempts = max_attempts
        self.crash_limit = crash_limit
        self.retry_base_delay = retry_base_delay
        self.react = react
        self.react_after = 0
        """Reactions run only for events past this sequence (see ``replay.rebuild``)."""
        self.ack_wait = ack_wait
        self.position = 0
        self.last_error: str | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- store -----------------------------------------------------------------------

    def create_schema(self) -> None:
        self.projection.metadata.create_all(self.engine)
        self.position = self.bookkeeping.read_checkpoint()

    def drop_schema(self) -> None:
        self.projection.metadata.drop_all(self.engine)

    def apply(self, deliveries: Iterable[Delivery]) -> int:
        """Apply events past the checkpoint and move it, in one transaction.

        The checkpoint is re-read (and locked, where the database can) inside the
        transaction, so an overlapping instance or a commit whose success was lost
        can never apply an event twice.
        """
        with self.engine.begin() as connection:
            found = self.bookkeeping.locked_checkpoint(connection)
            if found != self.position:  # another instance applied events: what this one counted is stale
                self.projection.forget()
            self.position = found
            writer = Writer(connection)
            applied, last = self.projection.handle(writer, deliveries, after=self.position)
            if last is None:
                return 0
            self.bookkeeping.save_checkpoint(writer, last.sequence, last.event.occurred_at, first=self.position == 0)
        self.position = last.sequence
        return applied

    def dead_letter(self, delivery: Delivery, error: str, attempts: int) -> None:
        """Park an event that cannot be applied, visibly, and move past it."""
        with self.engine.begin() as connection:
            self.position = self.bookkeeping.locked_checkpoint(connection)
            if delivery.sequence <= self.position:
                return
            writer = Writer(connection)
            self.bookkeeping.park(writer, delivery, error, attempts)
            self.bookkeeping.save_checkpoint(writer, delivery.sequence, datetime.now(UTC), first=self.position == 0)
        self.position = delivery.sequence
        log.error("dead-lettered %s at sequence %d: %s", delivery.subject, delivery.sequence, error.splitlines()[-1])

    # --- processing ------------------------------------------------------------------

    async def process(self, deliveries: Sequence[Delivery]) -> None:
        """React to and apply a batch; isolate and dead-letter what keeps failing.

        Broker or database outages propagate (nothing is acknowledged, the caller
        retries later); any other error is retried a bounded number of times per
        event, then that event alone is dead-lettered.
        """
        fresh = [d for d in deliveries if d.sequence > self.position]
        if not fresh:
            return
        if all(d.event is not None for d in fresh):
            try:
                await self.prepare(fresh)
                await self._react(fresh)
                await asyncio.to_thread(self.apply, fresh)
                return
            except Exception as exc:  # noqa: BLE001 - isolate the failing event below
                self.projection.forget()
                if is_outage(exc):
                    raise
                log.warning("batch failed; applying its events one by one", exc_info=True)
        for delivery in fresh:
            await self.process_one(delivery)

    async def process_one(self, delivery: Delivery) -> None:
        """React to and apply one event, retried a bounded number of times, then dead-lettered."""
        if delivery.event is None:
            await asyncio.to_thread(self.dead_letter, delivery, delivery.error or "undecodable", 1)
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self.prepare([delivery])
                await self._react([delivery])
                await asyncio.to_thread(self.apply, [delivery])
                return
            except Exception as exc:  # noqa: BLE001 - bounded retries, then dead-letter
                self.projection.forget()
                if is_outage(exc):
                    raise
                if attempt == self.max_attempts:
                    await asyncio.to_thread(self.dead_letter, delivery, traceback.format_exc(), attempt)
                    return
                await asyncio.sleep(self.retry_base_delay * 2 ** (attempt - 1))

    async def prepare(self, deliveries: Sequence[Delivery]) -> None:
        """The projection's own preparation of a batch (see ``Projection.prepare``)."""
        if self.projection.prepare is not None:
            await self.projection.prepare([d for d in deliveries if d.event is not None])

    async def _react(self, deliveries: Sequence[Delivery]) -> None:
        if not self.react or not self.projection.reactions:
            return
        reactions = self.projection.reactions
        for delivery in deliveries:
            if delivery.sequence <= self.react_after:
                continue
            reaction = reactions.get(type(delivery.event))
            if reaction is not None:
                event = delivery.event
                # A child of the span that appended the event: what the reaction appends continues the event's trace.
                with tracing.consuming(self.projection.name, "react", event, delivery.sequence, delivery.trace), bound_to(event):
                    await reaction(event)

    # --- live consumption ------------------------------------------------------------

    def consumer_config(self) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            durable_name=self.projection.name,
            filter_subjects=[self.store.subjects.of_type(kind) for kind in self.projection.event_types],
            ack_policy=api.AckPolicy.ALL,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.position + 1,
            # Unbounded on purpose: retries are bounded here (max_attempts in process,
            # crash_limit across deaths), then dead-lettered visibly. A server-side bound
            # would stop delivering a message silently and a later ack would skip it.
            max_deliver=-1,
            ack_wait=self.ack_wait,
            max_ack_pending=self.batch_size * 4,
            description=f"{self.projection.name} projection (checkpoint lives in its store)",
        )

    async def reset_consumer(self, js: JetStreamContext) -> None:
        """(Re)create the durable consumer at the store's checkpoint.

        The store, not the broker, knows what was applied. Reusing a consumer that
        still holds unacknowledged deliveries would hand out newer events first and
        let the checkpoint skip the older ones, so every (re)subscription starts
        afresh at checkpoint + 1.
        """
        try:
            await js.delete_consumer(self.store.stream, self.projection.name)
        except NotFoundError:
            pass
        await js.add_consumer(self.store.stream, config=self.consumer_config())

    async def run(self, js: JetStreamContext, *, fetch_timeout: float = 1.0) -> None:
        """Consume until stopped, surviving broker and database outages."""
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                await self.reset_consumer(js)
                subscription = await js.pull_subscribe_bind(self.projection.name, stream=self.store.stream)
                self.last_error, backoff = None, Backoff()
                try:
                    while not self._stopping.is_set():
                        try:
                            messages = await self._fetch_unless_stopped(subscription, fetch_timeout)
                        except TimeoutError:  # nothing new (nats-py raises its own or asyncio's)
                            continue
                        if messages is None:
                            return
                        if not messages:
                            continue
                        deliveries = [delivery_of(m.metadata.sequence.stream, m.subject, m.data, m.headers) for m in messages]
                        if not await self._process_live(deliveries):
                            return
                        await messages[-1].ack()  # AckPolicy.ALL: acknowledges the whole batch
                finally:
                    with contextlib.suppress(Exception):
                        await subscription.unsubscribe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - broker outage: report, back off, resubscribe
                self._report(exc)
                await backoff.wait(self._stopping)

    async def _fetch_unless_stopped(self, subscription: JetStreamContext.PullSubscription, timeout: float) -> list[Msg] | None:
        """The next batch, or None once the runner is told to stop: a stop does not wait out
        an idle long poll. A batch handed to the abandoned poll is not lost: every
        (re)subscription recreates the consumer at the store's checkpoint."""
        fetch = asyncio.ensure_future(subscription.fetch(self.batch_size, timeout=timeout))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            fetch.cancel()
            raise
        finally:
            stopping.cancel()
        if fetch.done():
            return fetch.result()
        fetch.cancel()
        return None

    async def _process_live(self, deliveries: list[Delivery]) -> bool:
        """Note the attempt, then process; after repeated deaths on it, isolate the batch.

        A handler error is caught and retried, but a process that dies (out of memory,
        killed, a crash in native code) cannot count its own failures: the marker
        committed before the batch does it across restarts.
        """
        fresh = [d for d in deliveries if d.sequence > self.position]
        if not fresh:
            return True
        if await asyncio.to_thread(self.bookkeeping.begin_batch, fresh[0].sequence, crash_limit=self.crash_limit):
            return await self._isolate(fresh)
        return await self._process_until_applied(fresh)

    async def _isolate(self, fresh: list[Delivery]) -> bool:
        """One event at a time, each noted first: the one that keeps killing us is parked."""
        log.warning("projection %s: the process died on the batch at %d; isolating it", self.projection.name, fresh[0].sequence)
        for delivery in fresh:
            attempts = await asyncio.to_thread(self.bookkeeping.note_attempt, delivery.sequence, isolating=True)
            if attempts > self.crash_limit:
                reason = f"the consumer process died {attempts - 1} times while applying this event"
                await asyncio.to_thread(self.dead_letter, delivery, reason, attempts - 1)
            elif not await self._process_until_applied([delivery]):
                return False
        return True

    async def _process_until_applied(self, deliveries: list[Delivery]) -> bool:
        """Retry one batch through store or broker outages; False if stopped first.

        Nothing newer is fetched meanwhile, so events are applied strictly in order.
        """
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                await self.process(deliveries)
                self.last_error = None
                self._committed(deliveries)
                return True
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self._report(exc)
                await backoff.wait(self._stopping)
        return False

    def _committed(self, deliveries: list[Delivery]) -> None:
        if self.projection.committed is not None:
            self.projection.committed([d.event for d in deliveries if d.event is not None])

    def _report(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("projection %s paused: %s", self.projection.name, self.last_error)

    def start(self, js: JetStreamContext) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(js), name=f"projection-{self.projection.name}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            finished, _ = await asyncio.wait({self._task}, timeout=5)
            if not finished:
                self._task.cancel()
            elif not self._task.cancelled() and self._task.exception() is not None:
                log.error("projection %s had stopped: %r", self.projection.name, self._task.exception())
            self._task = None
