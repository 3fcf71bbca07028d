"""Checkpointed projections: read models that always equal a clean replay of the log.

A batch of events and the checkpoint (last stream sequence applied) are written in one
database transaction, and the broker is acknowledged only after that commit. An event
at or below the checkpoint is skipped, so redelivery and replay are no-ops, and a
crash at any point resumes exactly where the store says it stopped.

Reactions (appending new events in response to one) run before the commit and must be
idempotent: after a crash they run again and the event store drops the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import traceback
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from sqlalchemy import BigInteger, Boolean, Column, Connection, Engine, Integer, MetaData, String, Table, Text, inspect, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hazardloop.db import UtcDateTime
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable
from hazardloop.events import Event, decode_event
from hazardloop.log.pull import BatchPuller, Pulled
from hazardloop.writer import Writer

log = logging.getLogger("hazardloop.projection")


def is_outage(exc: BaseException) -> bool:
    """Broker or database unreachable: wait and retry, never dead-letter.

    Other database errors (a constraint, a value the database refuses) say something
    about the event, so they are isolated and dead-lettered like any handler error.
    """
    if isinstance(exc, EventStoreUnavailable | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated

Apply = Callable[[Any, Writer], None]
React = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    """A read model: which events it applies, how, and what it does in reaction.

    ``handlers`` and ``reactions`` map an event class to one small function each; the
    mapping is the one visible place where a service's subscriptions are registered.
    """

    name: str
    metadata: MetaData
    handlers: Mapping[type[Event], Apply]
    reactions: Mapping[type[Event], React] = field(default_factory=dict)

    @property
    def event_types(self) -> list[str]:
        kinds = {*self.handlers, *self.reactions}
        return sorted(kind.model_fields["type"].default for kind in kinds)


def bookkeeping_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The checkpoint and dead-letter tables, inside the projection's own store."""
    checkpoint = Table(
        "projection_checkpoint",
        metadata,
        Column("projection", String(64), primary_key=True),
        Column("position", BigInteger, nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        # The batch (or, isolating, the single event) being attempted, noted before
        # it is applied and cleared by its commit: a process that keeps dying on it
        # is noticed on restart.
        Column("attempt_from", BigInteger),
        Column("attempts", Integer),
        Column("isolating", Boolean),
    )
    dead_letters = Table(
        "dead_letter",
        metadata,
        Column("sequence", BigInteger, primary_key=True),
        Column("subject", String(400), nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("recorded_at", UtcDateTime(), nullable=False),
    )
    return checkpoint, dead_letters


class Delivery(NamedTuple):
    """One event as delivered: where it sits in the log, and the event or why not
    (a named tuple: immutable, and made per event for a quarter of a frozen dataclass)."""

    sequence: int
    subject: str
    event: Event | None
    error: str | None = None


class Backoff:
    """Exponential pause between retries, cut short when the runner stops."""

    def __init__(self, first: float = 0.1, limit: float = 5.0) -> None:
        self._next = first
        self._limit = limit

    async def wait(self, stopping: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), self._next)
        self._next = min(self._next * 2, self._limit)


class _BulkCollection:
    """Garbage collection suited to a rebuild's millions of short-lived objects.

    CPython's collector passes over every tracked object now and then, the process's
    long-lived ones too (modules, SQLAlchemy's and pydantic's schemas: some 100,000
    objects); a rebuild allocates fast enough to set off such a full pass about twice
    a second, which cost it an eighth of its time. Those objects are frozen out of
    the collector meanwhile, and young objects are collected less often. Rebuilds
    that overlap share the setting: the last one to finish gives the process its own
    back.
    """

    def __init__(self) -> None:
        self._users = 0
        self._threshold: tuple[int, ...] = ()
        """The process's own thresholds, kept while a rebuild runs."""

    def __enter__(self) -> None:
        if self._users == 0:
            self._threshold = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(self._threshold[0], 10_000), *self._threshold[1:])
        self._users += 1

    def __exit__(self, *_: object) -> None:
        self._users -= 1
        if self._users == 0:
            gc.set_threshold(*self._threshold)
            gc.unfreeze()


bulk_collection = _BulkCollection()


class ProjectionRunner:
    """Feeds a projection from the log: catch-up in batches, then live."""

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
        """Reactions run only for events past this sequence (see ``rebuild``)."""
        self.ack_wait = ack_wait
        self.checkpoint_table, self.dead_letter_table = (
            projection.metadata.tables["projection_checkpoint"],
            projection.metadata.tables["dead_letter"],
        )
        self.position = 0
        self.last_error: str | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- store -----------------------------------------------------------------------

    def create_schema(self) -> None:
        self.projection.metadata.create_all(self.engine)
        self.position = self.read_checkpoint()

    def drop_schema(self) -> None:
        self.projection.metadata.drop_all(self.engine)

    def read_checkpoint(self) -> int:
        with self.engine.connect() as connection:
            position = connection.execute(
                select(self.checkpoint_table.c.position).where(
                    self.checkpoint_table.c.projection == self.projection.name
                )
            ).scalar()
        return position or 0

    def apply(self, deliveries: Iterable[Delivery]) -> int:
        """Apply events past the checkpoint and move it, in one transaction.

        The checkpoint is re-read (and locked, where the database can) inside the
        transaction, so an overlapping instance or a commit whose success was lost
        can never apply an event twice.
        """
        with self.engine.begin() as connection:
            self.position = self._locked_checkpoint(connection)
            writer = Writer(connection)
            applied, last = self._handle(writer, deliveries, after=self.position)
            if last is None:
                return 0
            self._save_checkpoint(writer, last.sequence, last.event.occurred_at)
        self.position = last.sequence
        return applied

    def _handle(self, writer: Writer, deliveries: Iterable[Delivery], *, after: int) -> tuple[int, Delivery | None]:
        """Run the handlers of the events past ``after``: (how many, the last of them).

        ``deliveries`` is iterated once, so it may decode each event only when its
        turn comes: then no batch of decoded events is ever held in memory.
        """
        handlers = self.projection.handlers
        applied, last = 0, None
        for delivery in deliveries:
            if delivery.sequence <= after:
                continue
            if delivery.event is None:
                raise ValueError(delivery.error or "undecodable event")
            handler = handlers.get(type(delivery.event))
            if handler is not None:
                handler(delivery.event, writer)
            applied, last = applied + 1, delivery
        return applied, last

    def dead_letter(self, delivery: Delivery, error: str, attempts: int) -> None:
        """Park an event that cannot be applied, visibly, and move past it."""
        with self.engine.begin() as connection:
            self.position = self._locked_checkpoint(connection)
            if delivery.sequence <= self.position:
                return
            writer = Writer(connection)
            writer.insert(
                self.dead_letter_table,
                sequence=delivery.sequence,
                subject=delivery.subject,
                error=error[-4000:],
                attempts=attempts,
                recorded_at=datetime.now(UTC),
            )
            writer.flush()
            self._save_checkpoint(writer, delivery.sequence, datetime.now(UTC))
        self.position = delivery.sequence
        log.error("dead-lettered %s at sequence %d: %s", delivery.subject, delivery.sequence, error.splitlines()[-1])

    def _locked_checkpoint(self, connection: Connection) -> int:
        table = self.checkpoint_table
        query = select(table.c.position).where(table.c.projection == self.projection.name).with_for_update()
        return connection.execute(query).scalar() or 0

    def _save_checkpoint(self, writer: Writer, position: int, at: datetime) -> None:
        """Record the position and clear the attempt marker.

        ``at`` is the event's own time, so a replay writes the very same row.
        """
        name = self.projection.name
        row = {"position": position, "updated_at": at, "attempt_from": None, "attempts": None, "isolating": None}
        if self.position == 0 and writer.get(self.checkpoint_table, projection=name) is None:
            writer.insert(self.checkpoint_table, projection=name, **row)
        else:
            writer.update(self.checkpoint_table, {"projection": name}, **row)
        writer.flush()

    def attempt_marker(self) -> tuple[int | None, int, bool]:
        """(first sequence, attempts, isolating) of the work a previous run did not finish."""
        table = self.checkpoint_table
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.attempt_from, table.c.attempts, table.c.isolating).where(
                    table.c.projection == self.projection.name
                )
            ).first()
        if row is None or row.attempt_from is None:
            return None, 0, False
        return row.attempt_from, row.attempts, bool(row.isolating)

    def note_attempt(self, sequence: int, *, isolating: bool) -> int:
        """Commit that work starting at ``sequence`` begins; returns how often it has."""
        with self.engine.begin() as connection:
            return self._note(connection, self._locked_marker(connection), sequence, isolating)

    def begin_batch(self, first: int) -> bool:
        """Note a batch attempt, in one transaction; True instead if the process keeps
        dying on this batch (or died isolating it) and it must be taken apart."""
        with self.engine.begin() as connection:
            row = self._locked_marker(connection)
            if row is not None and row.attempt_from == first and (row.isolating or row.attempts >= self.crash_limit):
                return True
            self._note(connection, row, first, False)
        return False

    def _locked_marker(self, connection: Connection) -> Any:
        table = self.checkpoint_table
        query = select(table.c.attempt_from, table.c.attempts, table.c.isolating)
        return connection.execute(query.where(table.c.projection == self.projection.name).with_for_update()).first()

    def _note(self, connection: Connection, row: Any, sequence: int, isolating: bool) -> int:
        table, name = self.checkpoint_table, self.projection.name
        again = row is not None and row.attempt_from == sequence and bool(row.isolating) == isolating
        attempts = row.attempts + 1 if again else 1
        marker = {"attempt_from": sequence, "attempts": attempts, "isolating": isolating}
        if row is None:
            connection.execute(table.insert(), {"projection": name, "position": 0, "updated_at": datetime.now(UTC), **marker})
        else:
            connection.execute(table.update().where(table.c.projection == name).values(**marker))
        return attempts

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
                await self._react(fresh)
                await asyncio.to_thread(self.apply, fresh)
                return
            except Exception as exc:  # noqa: BLE001 - isolate the failing event below
                if is_outage(exc):
                    raise
                log.warning("batch failed; applying its events one by one", exc_info=True)
        for delivery in fresh:
            await self._process_one(delivery)

    async def _process_one(self, delivery: Delivery) -> None:
        if delivery.event is None:
            await asyncio.to_thread(self.dead_letter, delivery, delivery.error or "undecodable", 1)
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._react([delivery])
                await asyncio.to_thread(self.apply, [delivery])
                return
            except Exception as exc:  # noqa: BLE001 - bounded retries, then dead-letter
                if is_outage(exc):
                    raise
                if attempt == self.max_attempts:
                    await asyncio.to_thread(self.dead_letter, delivery, traceback.format_exc(), attempt)
                    return
                await asyncio.sleep(self.retry_base_delay * 2 ** (attempt - 1))

    async def _react(self, deliveries: Sequence[Delivery]) -> None:
        if not self.react or not self.projection.reactions:
            return
        reactions = self.projection.reactions
        for delivery in deliveries:
            if delivery.sequence <= self.react_after:
                continue
            reaction = reactions.get(type(delivery.event))
            if reaction is not None:
                await reaction(delivery.event)

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
                        deliveries = [self._delivery(m.metadata.sequence.stream, m.subject, m.data) for m in messages]
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
        if await asyncio.to_thread(self.begin_batch, fresh[0].sequence):
            return await self._isolate(fresh)
        return await self._process_until_applied(fresh)

    async def _isolate(self, fresh: list[Delivery]) -> bool:
        """One event at a time, each noted first: the one that keeps killing us is parked."""
        log.warning("projection %s: the process died on the batch at %d; isolating it", self.projection.name, fresh[0].sequence)
        for delivery in fresh:
            attempts = await asyncio.to_thread(self.note_attempt, delivery.sequence, isolating=True)
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
                return True
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self._report(exc)
                await backoff.wait(self._stopping)
        return False

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

    @staticmethod
    def _delivery(sequence: int, subject: str, data: bytes) -> Delivery:
        try:
            event: Event | None = decode_event(data)
            error = None
        except Exception as exc:  # noqa: BLE001 - an undecodable event is poison, not a crash
            event, error = None, f"cannot decode event: {exc}"
        return Delivery(sequence, subject, event, error)

    # --- rebuild ---------------------------------------------------------------------

    async def rebuild(self, nc: Client, *, until_sequence: int | None = None) -> int:
        """Drop the read model and replay the log into it; returns events applied.

        A rebuild replays state and does not redo what the old store had handled:
        reactions run only for events past its checkpoint, which the service had not
        reacted to yet (reactions are idempotent, so that is safe). The live consumer
        is removed so that the service resumes from the rebuilt checkpoint.
        """
        if inspect(self.engine).has_table(self.checkpoint_table.name):
            self.react_after = self.read_checkpoint()
        self.drop_schema()
        self.create_schema()
        try:
            await nc.jetstream().delete_consumer(self.store.stream, self.projection.name)
        except NotFoundError:
            pass
        return await self.catch_up(nc, until_sequence=until_sequence)

    async def catch_up(self, nc: Client, *, until_sequence: int | None = None) -> int:
        """Read the log from the checkpoint and apply it in batches; returns events applied.

        Reading pulls: the reader never runs ahead of the writer. (A push consumer
        would overflow its client buffer on a large log, and nats-py drops the excess
        without the ordered consumer noticing a gap.) The next batch streams in while
        the previous one is committed. The reading consumer is named, so that a reader's
        broker user may be limited to creating named consumers (never updating another's).
        """
        end = await self.store.last_sequence() if until_sequence is None else until_sequence
        if end <= self.position:
            return 0
        js = nc.jetstream()
        consumer = await js.add_consumer(
            self.store.stream,
            config=api.ConsumerConfig(
                name=f"{self.projection.name}-rebuild-{uuid.uuid4().hex[:12]}",
                filter_subjects=[self.store.subjects.of_type(kind) for kind in self.projection.event_types],
                ack_policy=api.AckPolicy.NONE,
                deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=self.position + 1,
                inactive_threshold=60,
                mem_storage=True,
                description=f"{self.projection.name} rebuild",
            ),
        )
        applied = 0
        try:
            with bulk_collection:
                async with BatchPuller(nc, self.store.stream, consumer.name) as puller, _Committer(self) as committer:
                    pending = consumer.num_pending
                    pull = await puller.request(min(self.rebuild_batch_size, pending), expires=5) if pending else None
                    while pull is not None:
                        messages = await pull
                        if messages:
                            last = messages[-1]
                            pending = 0 if last.sequence >= end else last.pending
                        else:
                            pending = (await js.consumer_info(self.store.stream, consumer.name)).num_pending
                        pull = await puller.request(min(self.rebuild_batch_size, pending), expires=5) if pending else None
                        batch = [m for m in messages if m.sequence <= end]
                        await self._apply_pulled(batch, committer)
                        applied += len(batch)
                    await committer.settled()
        finally:
            with contextlib.suppress(Exception):
                await js.delete_consumer(self.store.stream, consumer.name)
        return applied

    async def replay_batches(self, batches: AsyncIterable[list[Pulled]]) -> int:
        """Apply batches read elsewhere (an archive, an audit's own read), in order, as
        ``catch_up`` applies its own; returns the events handed over."""
        applied = 0
        with bulk_collection:
            async with _Committer(self) as committer:
                async for batch in batches:
                    await self._apply_pulled(batch, committer)
                    applied += len(batch)
                await committer.settled()
        return applied

    async def _apply_pulled(self, messages: list[Pulled], committer: _Committer) -> None:
        """Apply one pulled batch, leaving its commit to ``committer``.

        Each event is decoded just before its handler runs, and the handlers run (and
        the rows they wrote are turned into statement parameters) while the previous
        batch is still being committed: only then is this batch's transaction opened,
        its rows sent and its checkpoint moved.

        All of it happens on the event loop's own thread. A replay (``hazardloop
        replay``, the benchmark) has its process to itself, so nothing else waits on
        the loop meanwhile, and a worker thread running the batch as well would only
        take turns with the loop on the GIL: SQLite's ``executemany`` gives it up and
        waits for it back on every row. Batches with reactions to run, or that fail
        (an undecodable event, a handler error, a value the database refuses), take
        the careful path of ``process``.
        """
        if not messages:
            return
        decoded = (self._delivery(m.sequence, m.subject, m.data) for m in messages)
        if self.react and self.projection.reactions and messages[-1].sequence > self.react_after:
            await committer.settled()
            await self.process(list(decoded))
            committer.position = self.position
            return
        writer = Writer(committer.begin)
        try:
            _, last = self._handle(writer, decoded, after=committer.position)
            if last is None:
                return
            rows = writer.take(self.engine.dialect)
            await committer.settled()
            writer.send(rows)
            self._save_checkpoint(writer, last.sequence, last.event.occurred_at)
        except Exception as exc:
            committer.discard()
            if is_outage(exc):
                raise
            await committer.settled()  # a commit that failed stops the replay: it raises here
            log.warning("batch failed; applying its events one by one", exc_info=True)
            for delivery in [self._delivery(m.sequence, m.subject, m.data) for m in messages]:
                if delivery.sequence > self.position:
                    await self._process_one(delivery)
            committer.position = self.position
            return
        committer.commit(last.sequence)


class _Committer:
    """Commits a replay's batches one at a time in a worker thread.

    SQLite's commit holds no GIL, so while a batch is committed the next one is read
    and its events decoded and handled. The next transaction is begun only once the
    commit before it is done, so batches stay in order and each is one transaction
    with its checkpoint.
    """

    def __init__(self, runner: ProjectionRunner) -> None:
        self._runner = runner
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"{runner.projection.name}-commit")
        self._committing: Future[None] | None = None
        self._connection: Connection | None = None
        self.position = runner.position
        """Where the checkpoint stands once the batches handed over are committed."""

    async def __aenter__(self) -> _Committer:
        return self

    async def __aexit__(self, *_: object) -> None:
        """Whatever happened, the commit in flight finishes (or fails) as one unit."""
        self.discard()
        if self._committing is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wrap_future(self._committing)
        self._thread.shutdown()

    def begin(self) -> Connection:
        """The next batch's transaction, begun after the previous commit (waiting for it
        only if a handler reads the store before the runner awaited it)."""
        if self._committing is not None:
            self._committing.result()
        connection = self._runner.engine.connect()
        connection.begin()
        found = self._runner._locked_checkpoint(connection)
        if found != self.position:
            connection.close()
            raise RuntimeError(f"the checkpoint moved to {found} behind this replay's back (expected {self.position})")
        self._connection = connection
        return connection

    def commit(self, position: int) -> None:
        """Commit the open transaction in the worker thread, which then owns it."""
        connection, self._connection = self._connection, None
        self._committing = self._thread.submit(_commit_and_close, connection)
        self.position = position

    def discard(self) -> None:
        """Roll back a transaction that was begun but will not be committed."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def settled(self) -> None:
        """Wait for the commit in flight; then the runner's position is the store's."""
        if self._committing is not None:
            await asyncio.wrap_future(self._committing)
            self._committing = None
            self._runner.position = self.position


def _commit_and_close(connection: Connection) -> None:
    try:
        connection.commit()
    finally:
        connection.close()
