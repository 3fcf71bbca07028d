"""Replays: a projection rebuilt from the log, or fed batches read elsewhere (an archive,
an audit's own read), in large batches, each committed while the next is handled.

The garbage collector's setting is the whole process's, so whoever starts a replay
chooses it (``projections.collector``).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterable, Iterable

from nats.aio.client import Client
from nats.js import api
from nats.js.errors import NotFoundError
from sqlalchemy import inspect

from hazardloop.log.pull import BatchPuller, Pulled
from hazardloop.projections.committer import Committer
from hazardloop.projections.definition import Delivery, delivery_of
from hazardloop.projections.runner import ProjectionRunner, is_outage
from hazardloop.projections.writer import Writer

log = logging.getLogger("hazardloop.projections")


async def rebuild(runner: ProjectionRunner, nc: Client, *, until_sequence: int | None = None) -> int:
    """Drop the read model and replay the log into it; returns events applied.

    A rebuild replays state and does not redo what the old store had handled:
    reactions run only for events past its checkpoint, which the service had not
    reacted to yet (reactions are idempotent, so that is safe). The live consumer
    is removed so that the service resumes from the rebuilt checkpoint.
    """
    if inspect(runner.engine).has_table(runner.bookkeeping.checkpoint.name):
        runner.react_after = runner.bookkeeping.read_checkpoint()
    runner.drop_schema()
    runner.create_schema()
    try:
        await nc.jetstream().delete_consumer(runner.store.stream, runner.projection.name)
    except NotFoundError:
        pass
    return await catch_up(runner, nc, until_sequence=until_sequence)


async def catch_up(runner: ProjectionRunner, nc: Client, *, until_sequence: int | None = None) -> int:
    """Read the log from the checkpoint and apply it in batches; returns events applied.

    Reading pulls: the reader never runs ahead of the writer. (A push consumer
    would overflow its client buffer on a large log, and nats-py drops the excess
    without the ordered consumer noticing a gap.) The next batch streams in while
    the previous one is committed. The reading consumer is named, so that a reader's
    broker user may be limited to creating named consumers (never updating another's).
    """
    store, name, batch_size = runner.store, runner.projection.name, runner.rebuild_batch_size
    end = await store.last_sequence() if until_sequence is None else until_sequence
    if end <= runner.position:
        return 0
    js = nc.jetstream()
    consumer = await js.add_consumer(
        store.stream,
        config=api.ConsumerConfig(
            name=f"{name}-rebuild-{uuid.uuid4().hex[:12]}",
            filter_subjects=[store.subjects.of_type(kind) for kind in runner.projection.event_types],
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=runner.position + 1,
            inactive_threshold=60,
            mem_storage=True,
            description=f"{name} rebuild",
        ),
    )
    applied = 0
    bulk = runner.position == 0 and runner.projection.defer is not None
    if bulk:
        runner.projection.defer(True)
    try:
        async with BatchPuller(nc, store.stream, consumer.name) as puller, Committer(runner) as committer:
            pending = consumer.num_pending
            pull = await puller.request(min(batch_size, pending), expires=5) if pending else None
            while pull is not None:
                messages = await pull
                if messages:
                    last = messages[-1]
                    pending = 0 if last.sequence >= end else last.pending
                else:
                    pending = (await js.consumer_info(store.stream, consumer.name)).num_pending
                pull = await puller.request(min(batch_size, pending), expires=5) if pending else None
                batch = [m for m in messages if m.sequence <= end]
                await _apply_pulled(runner, batch, committer)
                applied += len(batch)
            await committer.settled()
            if bulk:
                await _settle(runner, committer)
    finally:
        if bulk:
            runner.projection.defer(False)
        with contextlib.suppress(Exception):
            await js.delete_consumer(store.stream, consumer.name)
    return applied


async def _settle(runner: ProjectionRunner, committer: Committer) -> None:
    """What the handlers left to the end of a replay from an empty store, in one transaction
    (if it fails, the handlers find it owed in the store and do it on their next event)."""
    if runner.projection.settle is None:
        return
    committer.known.clear()
    writer = Writer(committer.begin())
    runner.projection.settle(writer)
    writer.flush()
    committer.commit(committer.position)
    await committer.settled()


async def replay_batches(runner: ProjectionRunner, batches: AsyncIterable[list[Pulled]]) -> int:
    """Apply batches read elsewhere, in order, as ``catch_up`` applies its own; returns
    the events handed over."""
    applied = 0
    bulk = runner.position == 0 and runner.projection.defer is not None
    if bulk:
        runner.projection.defer(True)
    try:
        async with Committer(runner) as committer:
            async for batch in batches:
                await _apply_pulled(runner, batch, committer)
                applied += len(batch)
            await committer.settled()
            if bulk:
                await _settle(runner, committer)
    except BaseException:
        runner.projection.forget()  # a batch in flight may never be committed
        raise
    finally:
        if bulk:
            runner.projection.defer(False)
    return applied


async def _apply_pulled(runner: ProjectionRunner, messages: list[Pulled], committer: Committer) -> None:
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
    the careful path of ``ProjectionRunner.process``.
    """
    if not messages:
        return
    decoded: Iterable[Delivery] = (delivery_of(m.sequence, m.subject, m.data) for m in messages)
    if runner.projection.prepare is not None:  # it needs the whole batch decoded first
        decoded = [d for d in decoded if d.sequence > committer.position]
        await runner.prepare(decoded)
    if runner.react and runner.projection.reactions and messages[-1].sequence > runner.react_after:
        await committer.settled()
        committer.known.clear()  # written by the runner's own writers
        await runner.process(list(decoded))
        committer.position = runner.position
        return
    writer = Writer(committer.begin, committer.known)
    try:
        _, last = runner.projection.handle(writer, decoded, after=committer.position)
        if last is None:
            return
        rows = writer.take(runner.engine.dialect)
        await committer.settled()
        writer.send(rows)
        runner.bookkeeping.save_checkpoint(writer, last.sequence, last.event.occurred_at, first=runner.position == 0)
    except Exception as exc:
        committer.discard()
        runner.projection.forget()
        if is_outage(exc):
            raise
        await committer.settled()  # a commit that failed stops the replay: it raises here
        log.warning("batch failed; applying its events one by one", exc_info=True)
        for delivery in [delivery_of(m.sequence, m.subject, m.data) for m in messages]:
            if delivery.sequence > runner.position:
                await runner.process_one(delivery)
        committer.position = runner.position
        return
    committer.commit(last.sequence)
