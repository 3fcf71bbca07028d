"""The event log on NATS JetStream: stream setup, guarded appends, aggregate history.

Every append is guarded by the broker itself (``Nats-Expected-Last-Subject-Sequence``
over the aggregate's subjects) and deduplicated by ``Nats-Msg-Id`` = event id, so a
lost race or a retried publish can never produce a second event. An append whose
acknowledgement does not come (a stalled broker) is sent again, identically, until the
broker says what became of it, so that an answer never claims "not stored" for an
event the log holds.

Commands change aggregates by one path, ``AggregateStore.decide_many`` (``decide`` is its
case of one aggregate): load, let the domain decide, append each event guarded by its own
aggregate's version, and on a lost race load everything again and decide again. An
aggregate new as a rule (a report just filed) skips the first load (``decide_new``): its
first event goes out guarded at version 0, and only a lost guard takes the path above. Written
once over ``load`` and ``append``, it is the same for this store and for the in-memory
one of ``hazardloop.testing``, which lets command handlers be unit-tested without a
broker; one contract test runs against both stores to keep the in-memory one honest.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import nats.aio.client
import nats.aio.msg
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NotFoundError

from hazardloop.events import GENESIS_HASH, Event, decode_event, encode_event
from hazardloop.log.placement import Topology
from hazardloop.runtime import tracing
from hazardloop.runtime.logs import bound

WRONG_LAST_SEQUENCE = 10071
"""JetStream: the expected last subject sequence did not match."""
WRONG_LAST_SEQUENCE_SUBJECT = 10164
"""JetStream: the expected-last-subject-sequence guard failed for its subject filter."""
_CONFLICT_CODES = {WRONG_LAST_SEQUENCE, WRONG_LAST_SEQUENCE_SUBJECT}

_UNAVAILABLE = (
    TimeoutError,
    nats.errors.TimeoutError,
    asyncio.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.errors.NoServersError,
    ConnectionError,
)


class ConcurrencyError(Exception):
    """Another writer appended to the aggregate first; reload and decide again."""


class EventStoreUnavailable(Exception):
    """The broker is down or too slow to answer within the bounded timeout."""


class InvalidSubjectToken(ValueError):
    """A subject token with a wildcard, a dot, a space or a control character.

    Routes refuse such ids at the edge; reaching this is a bug, refused here so that a
    per-aggregate read or guard can never widen into a filter over many aggregates.
    """


_NOT_IN_TOKEN = re.compile(r"[*>.\s\x00-\x1f\x7f]")


def token(value: str) -> str:
    """``value`` if it is one subject token, else ``InvalidSubjectToken``."""
    if not value or _NOT_IN_TOKEN.search(value):
        raise InvalidSubjectToken(f"not a subject token: {value!r}")
    return value


class AppendOutcomeUnknown(EventStoreUnavailable):
    """An append was sent but neither confirmed nor refused in time: the log may hold it.

    The event id is known, so a retry of the same command (same Idempotency-Key) or a
    look at the aggregate later tells the real outcome. A route may name where to look.
    """

    def __init__(self, event: Event) -> None:
        super().__init__(f"the event log did not confirm event {event.event_id} in time")
        self.event_id = str(event.event_id)
        self.aggregate_id = event.aggregate_id
        self.location: str | None = None
        self.details: dict[str, str] = {}

    def answer(self, *, location: str | None = None, **details: str) -> AppendOutcomeUnknown:
        """Say where the client finds the outcome (a ``Location``, fields of the body)."""
        self.location = location
        self.details |= details
        return self


@dataclass(frozen=True, slots=True)
class Subjects:
    """Subject layout: ``<prefix>.<tenant>.<aggregate type>.<aggregate id>.<event type>``.

    Tenant and event type are tokens, so per-tenant and per-type subscriptions are
    a single wildcard filter, and one aggregate's history is ``...<id>.*``.
    """

    prefix: str = "hazard"

    @property
    def all(self) -> str:
        return f"{self.prefix}.>"

    def of(self, event: Event) -> str:
        parts = (event.tenant, event.aggregate_type, event.aggregate_id, event.type)
        return ".".join((self.prefix, *map(token, parts)))

    def aggregate(self, tenant: str, aggregate_type: str, aggregate_id: str) -> str:
        """One aggregate's subjects; each part must be a single token (no wildcard can widen it)."""
        return f"{self.prefix}.{token(tenant)}.{token(aggregate_type)}.{token(aggregate_id)}.*"

    def aggregate_in_any_tenant(self, aggregate_type: str, aggregate_id: str) -> str:
        """One aggregate's subjects in whichever subsidiary holds it (ids are unique across them)."""
        return f"{self.prefix}.*.{token(aggregate_type)}.{token(aggregate_id)}.*"

    def of_type(self, event_type: str, tenant: str = "*") -> str:
        return f"{self.prefix}.{tenant}.*.*.{event_type}"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    sequence: int
    event: Event


@dataclass(frozen=True, slots=True)
class Appended:
    sequence: int
    duplicate: bool
    """True when the broker already held this event id (a retried publish)."""


@dataclass(frozen=True, slots=True)
class History:
    """An aggregate's events in order, with what a guarded append needs next."""

    events: tuple[StoredEvent, ...]

    @property
    def version(self) -> int:
        """Stream sequence of the last event, 0 for an aggregate that does not exist."""
        return self.events[-1].sequence if self.events else 0

    @property
    def last_hash(self) -> str:
        return self.events[-1].event.hash if self.events else GENESIS_HASH


class AggregateKey(NamedTuple):
    """Which aggregate: the subjects of its history and the version that guards it."""

    tenant: str
    aggregate_type: str
    aggregate_id: str

    @classmethod
    def of(cls, event: Event) -> AggregateKey:
        return cls(event.tenant, event.aggregate_type, event.aggregate_id)


Decision = Callable[[Mapping[AggregateKey, History]], Sequence[Event]]
"""Given each aggregate's history, the new events in the order they are to be appended."""


class AggregateStore(abc.ABC):
    """What command handlers need of the event log, and the one way they change it.

    A store gives guarded ``append`` and ``load``; ``decide_many`` is written once over
    them, so a command takes the same path on the broker and in memory.
    """

    stream: str
    subjects: Subjects
    topology: Topology = Topology()

    @abc.abstractmethod
    async def append(self, event: Event, *, expected_version: int) -> Appended:
        """Append ``event`` if its aggregate's last sequence is ``expected_version`` (0: new).

        An event id already stored is not stored again: ``Appended(its sequence,
        duplicate=True)``, whatever the guard says. Else a stale guard raises
        ``ConcurrencyError``.
        """

    @abc.abstractmethod
    async def append_many(self, items: Sequence[tuple[Event, int]]) -> list[Appended]:
        """``append`` each ``(event, expected_version)``, one per distinct aggregate; the
        first failure is raised after all the others are stored."""

    @abc.abstractmethod
    async def load(self, tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        """An aggregate's full history in order (empty, version 0, if it does not exist)."""

    @abc.abstractmethod
    async def first_event(self, aggregate_type: str, aggregate_id: str) -> StoredEvent | None:
        """An aggregate's first event, in whichever subsidiary holds it (None if none does)."""

    @abc.abstractmethod
    async def last_sequence(self) -> int:
        """The log's last sequence number (0 when empty)."""

    async def decide(
        self, tenant: str, aggregate_type: str, aggregate_id: str, decision: Callable[[History], Sequence[Event]], *, attempts: int = 3
    ) -> list[Event]:
        """``decide_many`` for one aggregate: ``decision`` gets its history, returns its new events."""
        key = AggregateKey(tenant, aggregate_type, aggregate_id)
        return await self.decide_many([key], lambda histories: decision(histories[key]), attempts=attempts)

    async def decide_new(self, event: Event, decision: Callable[[History], Sequence[Event]], *, attempts: int = 3) -> list[Event]:
        """``decide`` for an aggregate that is new as a rule, ``event`` being what ``decision``
        makes of an empty history: appended at version 0 without loading first.

        A new report's id is derived from its Idempotency-Key, so its aggregate has no
        history unless this very command, or another one with the same id, got there first.
        Only then (the guard is lost, or the event id is already stored) is the aggregate
        loaded and ``decision`` made on what it holds, as ``decide`` makes it; a command
        already recorded appends nothing. One broker round trip fewer for a new aggregate.
        """
        try:
            appended = await self.append(event, expected_version=0)
        except ConcurrencyError:
            pass
        else:
            if not appended.duplicate:
                return [event]
        return await self.decide(*AggregateKey.of(event), decision, attempts=attempts)

    async def decide_many(self, keys: Sequence[AggregateKey], decision: Decision, *, attempts: int = 3) -> list[Event]:
        """Load the aggregates of ``keys``, let ``decision`` choose new events, append them guarded.

        ``decision`` gets each aggregate's ``History`` by key and returns the new events in
        the order they are to be appended, each of one of ``keys`` (else ``ValueError``,
        before anything is appended). Each event expects its own aggregate's version: the
        one loaded, then the sequence of that aggregate's event before it in the decision.
        A lost race on any of them loads all again and decides again, up to ``attempts``
        (then ``ConcurrencyError``): the loser sees the winner's events and gets the
        domain's own answer (a 409 naming the state, say).

        Appends to several aggregates are not one transaction. What landed before a lost
        race stays in the log, and the next decision sees it in the histories, so the
        domain completes or compensates it: a budget commitment taken for an approval that
        then lost its race on the reward is released by the next decision. A decision cut
        short by an outage is completed or compensated so when the same command comes again.
        """
        keys = list(dict.fromkeys(keys))
        first = keys[0] if keys else None
        report_id = first.aggregate_id if first is not None and first.aggregate_type == "report" else None
        with bound(tenant=first.tenant if first else None, report_id=report_id), tracing.deciding(keys):
            return await self._decide(keys, decision, attempts)

    async def _decide(self, keys: list[AggregateKey], decision: Decision, attempts: int) -> list[Event]:
        for attempt in range(1, attempts + 1):
            histories = {key: await self.load(*key) for key in keys}
            events = list(decision(histories))
            if stranger := next((AggregateKey.of(e) for e in events if AggregateKey.of(e) not in histories), None):
                raise ValueError(f"a decision returned an event of {stranger}, an aggregate it did not load")
            versions = {key: history.version for key, history in histories.items()}
            try:
                for event in events:
                    key = AggregateKey.of(event)
                    appended = await self.append(event, expected_version=versions[key])
                    versions[key] = max(versions[key], appended.sequence)  # a duplicate answers with its older sequence
                return events
            except ConcurrencyError:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")


def cloudevents_headers(event: Event, source: str) -> dict[str, str]:
    """The envelope as CloudEvents binary-mode headers, for subscribers without our code."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": str(event.event_id),
        "ce-source": source,
        "ce-type": f"hazardloop.{event.type}.v{event.schema_version}",
        "ce-time": event.occurred_at.isoformat(),
        "ce-subject": event.aggregate_id,
        "ce-datacontenttype": "application/json",
        "ce-tenant": event.tenant,
        "ce-aggregatetype": event.aggregate_type,
        "ce-correlationid": str(event.correlation_id),
    }
    if event.causation_id is not None:
        headers["ce-causationid"] = str(event.causation_id)
    return headers


class EventStore(AggregateStore):
    """Appends to and reads from the one stream of the bounded context (JetStream)."""

    def __init__(
        self,
        nc: nats.aio.client.Client,
        *,
        stream: str = "HAZARDLOOP",
        subjects: Subjects | None = None,
        source: str = "hazardloop",
        timeout: float = 2.0,
        settle: float = 10.0,
        topology: Topology | None = None,
    ) -> None:
        """``nc``: the broker connection (JetStream calls wait ``timeout`` seconds, and
        pipelined appends publish on it directly); ``settle``: seconds an append whose
        acknowledgement is late may take to find out its outcome before it raises
        ``AppendOutcomeUnknown``; ``topology``: which subsidiaries live in another site's
        stream (loaded through that site's JetStream domain), default one cluster."""
        self._nc = nc
        self.stream = stream
        self.subjects = subjects or Subjects()
        self._source = source
        self._timeout = timeout
        self._settle = settle
        self._acks: _AckPipeline | None = None
        self.topology = topology or Topology()
        self._remote: dict[str, JetStreamContext] = {}

    @functools.cached_property
    def _js(self) -> JetStreamContext:
        """Made on first use: a store used only for its stream and subject names has no connection."""
        return self._nc.jetstream(timeout=self._timeout)

    def _home(self, tenant: str) -> tuple[JetStreamContext, str]:
        """The API and stream holding ``tenant``'s aggregates: this log, or its site's."""
        domain = self.topology.domain_of(tenant)
        if domain is None:
            return self._js, self.stream
        if domain not in self._remote:
            self._remote[domain] = self._nc.jetstream(timeout=self._timeout, domain=domain)
        return self._remote[domain], self.topology.site_stream

    async def ensure_stream(self, *, replicas: int = 1, duplicate_window: float = 120.0, update: bool = True) -> None:
        """Create the stream, or bring an existing one to this configuration (idempotent).

        ``update=False`` leaves an existing stream as it is: for a reader of the log, whose
        broker user may create a missing stream but not reconfigure the one it finds.
        """
        subjects = self.topology.stream_subjects(self.subjects.prefix)
        if subjects is None:
            await self._require_group_stream()
            return
        config = api.StreamConfig(
            name=self.stream,
            subjects=subjects,
            storage=api.StorageType.FILE,
            retention=api.RetentionPolicy.LIMITS,
            num_replicas=replicas,
            deny_delete=True,
            deny_purge=True,
            duplicate_window=duplicate_window,
            description="hazardloop event log: the auditable source of truth",
        )
        for attempt in range(1, 4):
            try:
                async with self._guard():
                    try:
                        await self._js.stream_info(self.stream)
                    except NotFoundError:
                        await self._js.add_stream(config)
                    else:
                        if update:
                            await self._js.update_stream(config)
                return
            except EventStoreUnavailable:
                # Several services creating a replicated stream at once can leave one
                # without an answer although the stream was made: look again.
                if attempt == 3:
                    raise

    async def _require_group_stream(self) -> None:
        """The hub's group stream is made by ``hazardloop hub sources``, never by a service:
        one made here would store every subject and take the sites' events a second time."""
        async with self._guard():
            try:
                await self._js.stream_info(self.stream)
            except NotFoundError:
                raise EventStoreUnavailable(
                    f"the group stream {self.stream} does not exist yet: run `hazardloop hub sources`"
                ) from None

    def _headers(self, event: Event, expected_version: int) -> dict[str, str]:
        return {
            api.Header.MSG_ID: str(event.event_id),
            api.Header.EXPECTED_STREAM: self._home(event.tenant)[1],
            "Nats-Expected-Last-Subject-Sequence": str(expected_version),
            "Nats-Expected-Last-Subject-Sequence-Subject": self.subjects.aggregate(
                event.tenant, event.aggregate_type, event.aggregate_id
            ),
            **cloudevents_headers(event, self._source),
            **tracing.event_headers(),  # the appending span: where the event's consumers continue its trace
        }

    async def append(self, event: Event, *, expected_version: int) -> Appended:
        """Append one event if its aggregate is still at ``expected_version``.

        Appending an event that is already stored (a retry) is a no-op that reports
        ``duplicate``, inside or after the broker's duplicate window. An append left
        without an answer is settled before this returns (see ``_settle_one``).
        """
        with tracing.appending((event,)):
            return await self._append(event, expected_version)

    async def _append(self, event: Event, expected_version: int) -> Appended:
        deadline = asyncio.get_running_loop().time() + self._settle
        subject, payload, headers = self.subjects.of(event), encode_event(event), self._headers(event, expected_version)
        try:
            async with self._guard():
                ack = await self._js.publish(subject, payload, timeout=self._timeout, headers=headers)
        except ConcurrencyError:
            return await self._already_stored(event)
        except EventStoreUnavailable as exc:
            if not _unanswered(exc.__cause__):
                raise
            return await self._settle_one(event, subject, payload, headers, deadline)
        return Appended(ack.seq, bool(ack.duplicate))

    async def _settle_one(self, event: Event, subject: str, payload: bytes, headers: dict[str, str], deadline: float) -> Appended:
        """Find out what became of a publish that got no answer, by sending it again.

        The copy carries the same ``Nats-Msg-Id`` and guard, so the broker either
        stores it (the first never arrived) or points at the stored one (a duplicate,
        or a guard that now sees it). Only when the broker stays silent until
        ``deadline`` is the outcome unknown.
        """
        loop = asyncio.get_running_loop()
        while (left := deadline - loop.time()) > 0:
            try:
                try:
                    async with self._guard():
                        ack = await self._js.publish(subject, payload, timeout=min(self._timeout, left), headers=headers)
                except ConcurrencyError:
                    return await self._already_stored(event, sent_by_this_call=True)
                if not ack.duplicate:
                    return Appended(ack.seq, duplicate=False)
                return await self._already_stored(event, sent_by_this_call=True)
            except EventStoreUnavailable:
                await asyncio.sleep(min(0.05, max(left, 0.0)))  # an immediate refusal (reconnecting) must not spin
        raise AppendOutcomeUnknown(event)

    async def _already_stored(self, event: Event, *, sent_by_this_call: bool = False) -> Appended:
        """Resolve a lost guard: our own earlier append of this event, or a real race.

        The broker checks the expected sequence before the message id, so a retried
        publish of a stored event is refused as a conflict rather than deduplicated.
        When this call's own unanswered publish may be the stored copy, an identical
        stored event is this call's and is not reported as a duplicate.
        """
        history = await self.load(event.tenant, event.aggregate_type, event.aggregate_id)
        for stored in history.events:
            if stored.event.event_id == event.event_id:
                return Appended(stored.sequence, duplicate=not (sent_by_this_call and stored.event == event))
        raise ConcurrencyError(f"{event.aggregate_type} {event.aggregate_id} changed concurrently")

    async def append_many(self, items: Sequence[tuple[Event, int]]) -> list[Appended]:
        """Pipeline appends of ``(event, expected_version)``, one per distinct aggregate.

        Every publish goes out before any acknowledgement is awaited; each append is
        still guarded on its own, and one left without an answer is settled as
        ``append`` settles it. The first failure is raised after all have settled.
        """
        if not items:
            return []
        with tracing.appending([event for event, _ in items]):
            return await self._append_many(items)

    async def _append_many(self, items: Sequence[tuple[Event, int]]) -> list[Appended]:
        if self._acks is None:
            self._acks = _AckPipeline(self._nc)
        deadline = asyncio.get_running_loop().time() + self._settle
        futures: list[asyncio.Future[Appended] | None] = [None] * len(items)
        try:
            try:
                async with self._guard():
                    for index, (event, expected) in enumerate(items):
                        subject, payload = self.subjects.of(event), encode_event(event)
                        futures[index] = await self._acks.publish(subject, payload, self._headers(event, expected), self._timeout)
            except EventStoreUnavailable as exc:
                if not _unanswered(exc.__cause__) and all(future is None for future in futures):
                    raise  # nothing went out
                # What went out may be stored; the rest never left: each is settled below.
            sent = [future for future in futures if future is not None]
            if sent:
                await asyncio.wait(sent, timeout=self._timeout + 0.001 * len(sent))
            results = await asyncio.gather(
                *(self._outcome(event, expected, future, deadline) for (event, expected), future in zip(items, futures, strict=True)),
                return_exceptions=True,
            )
        finally:
            for future in futures:
                if future is not None:
                    future.cancel()  # no-op for settled ones; frees the slots of the rest
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)

    async def _outcome(self, event: Event, expected: int, future: asyncio.Future[Appended] | None, deadline: float) -> Appended:
        """What became of one pipelined append: its answer, else settled by sending it again."""
        if future is not None and future.done() and not future.cancelled():
            if (error := future.exception()) is None:
                return future.result()
            translated = _translate(error)
            if isinstance(translated, ConcurrencyError):
                return await self._already_stored(event)
            if translated is error:
                raise error
            if not _unanswered(error):
                raise translated from error
        headers = self._headers(event, expected)
        return await self._settle_one(event, self.subjects.of(event), encode_event(event), headers, deadline)

    async def load(self, tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        """An aggregate's full history, read from the log (never from a projection)."""
        subject = self.subjects.aggregate(tenant, aggregate_type, aggregate_id)
        js, stream = self._home(tenant)
        events: list[StoredEvent] = []
        sequence = 1
        async with self._guard():
            while True:
                try:
                    msg = await asyncio.wait_for(
                        js.get_msg(stream, seq=sequence, subject=subject, next=True),  # leader read: never stale
                        self._timeout,
                    )
                except NotFoundError:
                    break
                events.append(StoredEvent(msg.seq, decode_event(msg.data)))
                sequence = msg.seq + 1
        return History(tuple(events))

    async def first_event(self, aggregate_type: str, aggregate_id: str) -> StoredEvent | None:
        """An aggregate's first event, in whichever subsidiary holds it (None if none does)."""
        try:
            subject = self.subjects.aggregate_in_any_tenant(aggregate_type, aggregate_id)
        except InvalidSubjectToken:
            return None  # not a subject token: no aggregate can have this id
        async with self._guard():
            try:
                msg = await asyncio.wait_for(self._js.get_msg(self.stream, seq=1, subject=subject, next=True), self._timeout)
            except NotFoundError:
                return None
        return StoredEvent(msg.seq, decode_event(msg.data))

    async def last_sequence(self) -> int:
        """The stream's last sequence number (0 when empty)."""
        async with self._guard():
            info = await asyncio.wait_for(self._js.stream_info(self.stream), self._timeout)
        return info.state.last_seq

    def _guard(self) -> contextlib.AbstractAsyncContextManager[None]:
        return broker_errors()


class _AckPipeline:
    """Many JetStream publishes in flight on one connection, each with its own future.

    nats-py's ``publish_async`` raises a refused append inside its reply callback
    instead of failing the future, so a lost guard would hang until the timeout.
    """

    def __init__(self, nc: nats.aio.client.Client, max_in_flight: int = 8192) -> None:
        self._nc = nc
        self._prefix = ""
        self._futures: dict[str, asyncio.Future[Appended]] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._next = 0

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str], wait: float
    ) -> asyncio.Future[Appended]:
        """Send one publish; the future settles with its acknowledgement or refusal."""
        if not self._prefix:
            self._prefix = self._nc.new_inbox()
            await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)
        if self._slots.locked():  # all slots in flight: wait, but only so long
            await asyncio.wait_for(self._slots.acquire(), wait)
        else:
            await self._slots.acquire()
        self._next += 1
        token = str(self._next)
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        future.add_done_callback(lambda _: self._release(token))
        self._futures[token] = future
        try:
            await self._nc.publish(subject, payload, reply=f"{self._prefix}.{token}", headers=headers)
        except BaseException:
            future.cancel()  # frees its slot: nothing will ever answer it
            raise
        return future

    def _release(self, token: str) -> None:
        self._futures.pop(token, None)
        self._slots.release()

    async def _on_reply(self, msg: nats.aio.msg.Msg) -> None:
        future = self._futures.get(msg.subject.rpartition(".")[2])
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == "503":
            future.set_exception(nats.js.errors.NoStreamResponseError())
            return
        reply = json.loads(msg.data)
        if "error" in reply:
            future.set_exception(APIError(**reply["error"]))
        else:
            future.set_result(Appended(reply["seq"], bool(reply.get("duplicate", False))))


@contextlib.asynccontextmanager
async def broker_errors() -> AsyncIterator[None]:
    """Translate broker failures into the two typed errors callers handle."""
    try:
        yield
    except Exception as exc:
        translated = _translate(exc)
        if translated is exc:
            raise
        raise translated from exc


def _unanswered(exc: BaseException | None) -> bool:
    """Whether a failed publish may have reached the broker: it was sent, no answer came."""
    return isinstance(exc, TimeoutError)  # nats' and asyncio's timeouts are TimeoutErrors


def _translate(exc: BaseException) -> BaseException:
    if isinstance(exc, APIError) and exc.err_code in _CONFLICT_CODES:
        return ConcurrencyError(exc.description or "the aggregate changed concurrently")
    if isinstance(exc, _UNAVAILABLE) or (isinstance(exc, APIError) and exc.code == 503):
        return EventStoreUnavailable(f"event log unavailable: {type(exc).__name__}")
    if isinstance(exc, nats.js.errors.NoStreamResponseError):
        return EventStoreUnavailable("event log unavailable: no stream responded")
    if isinstance(exc, nats.js.errors.ServiceUnavailableError):  # no JetStream answers: a site cut off from here
        return EventStoreUnavailable("event log unavailable: JetStream did not respond")
    return exc
