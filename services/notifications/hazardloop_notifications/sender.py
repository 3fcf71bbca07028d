"""The sender: drains the deliveries the projection wrote, and records each outcome in the log.

For each pending delivery it first reads the delivery's own history in the log: one
the log says was sent is never sent again, even when this store has not caught up (a
rebuild, a restart mid-batch). Then it sends, and only then appends ``NotificationSent``,
whose id is derived from the delivery's key. Dying between the two is the one way a
message goes out twice; the receiver then sees the same ``Idempotency-Key`` (webhooks)
or ``Message-ID`` (e-mail) and can drop it. Failures are retried with exponential
backoff, each delivery on its own, so one dead endpoint delays nothing else; after
``delivery_max_attempts`` the delivery is dead-lettered with ``NotificationFailed``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import OperationalError

from hazardloop.log.eventstore import EventStore, EventStoreUnavailable
from hazardloop.runtime import tracing
from hazardloop.runtime.logs import bound
from hazardloop.runtime.rounds import Wake, every
from hazardloop.runtime.service import Runtime
from hazardloop.timing.clock import Clock
from hazardloop.web.labels import label
from hazardloop_notifications import commands, mail, payloads
from hazardloop_notifications.domain import Outgoing, report_context
from hazardloop_notifications.render import Renderer
from hazardloop_notifications.settings import NotificationsSettings
from hazardloop_notifications.store import (
    INBOX_PENDING,
    REPORT_CONTEXT,
    attempts,
    deliveries,
    inbox,
    inbox_deliveries,
    reports,
    sender_metadata,
)

log = logging.getLogger("hazardloop.notifications.sender")


class DeliveryFailed(Exception):
    """The channel did not take the message (refused, unreachable, too slow)."""


class Note(NamedTuple):
    """What the sender keeps of one attempt at a delivery: done, or when to try again."""

    key: str
    tried: int | None = None
    """Attempts so far (None: leave the count as it is)."""
    error: str | None = None
    retry_at: datetime | None = None
    done: bool = False


class Sender:
    def __init__(
        self,
        settings: NotificationsSettings,
        renderer: Renderer,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        batch: int = 500,
        wake: Wake | None = None,
    ) -> None:
        """``wake``: set when the projection has stored deliveries, to send them at once
        rather than at the next ``delivery_interval``."""
        self.settings = settings
        self.renderer = renderer
        self.clock = clock
        self._transport = transport
        self._batch = batch
        self._wake = wake
        self._runtime: Runtime | None = None
        self._http: httpx.AsyncClient | None = None
        self._warned_no_smtp = False

    # --- the worker -------------------------------------------------------------------

    async def run(self, runtime: Runtime) -> None:
        """The service's background loop: send what is due, then wait for new deliveries or
        the next tick (which finds the retries whose backoff is over)."""
        self._runtime = runtime
        await asyncio.to_thread(sender_metadata.create_all, runtime.engine)
        timeout = httpx.Timeout(self.settings.webhook_timeout)
        async with httpx.AsyncClient(timeout=timeout, transport=self._transport, follow_redirects=False) as http:
            self._http = http
            await every(self.settings.delivery_interval, self.send_due, what="deliveries", log=log, wake=self._wake)

    @property
    def store(self) -> EventStore:
        assert self._runtime is not None
        return self._runtime.event_store()

    async def send_due(self) -> int:
        """Work through the deliveries due now; how many were settled (sent or dead-lettered).

        A round takes at most ``batch`` of the outbox's and of the inbox's. When either was
        full and the round got on with it, more is most likely waiting (a burst, a channel
        back after an outage, a rebuilt store): the next round starts at once instead of a
        ``delivery_interval`` later, which would hold a backlog to ``batch`` a tick."""
        rows = await asyncio.to_thread(self._due)
        inbox = [row for row in rows if row["channel"] == "inbox"]
        external = [row for row in rows if row["channel"] != "inbox"]
        if not self.settings.smtp_host and any(row["channel"] == "email" for row in external):
            if not self._warned_no_smtp:
                log.warning("e-mails wait: no SMTP server is configured (HAZARDLOOP_SMTP_HOST)")
                self._warned_no_smtp = True
            external = [row for row in external if row["channel"] != "email"]
        settled = await self._record_inbox(inbox)
        limit = asyncio.Semaphore(self.settings.delivery_concurrency)
        notes: list[Note] = []

        async def one(row: dict[str, Any]) -> bool:
            async with limit:
                return await self._deliver(row, notes)

        results = await asyncio.gather(*(one(row) for row in external), return_exceptions=True)
        if notes:  # the round's notes in one transaction, not one each
            await asyncio.to_thread(self._note, notes)
        for row, result in zip(external, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, EventStoreUnavailable | OperationalError):
                    raise result
                log.error("delivery %s: %r", row["key"], result)
        settled += sum(1 for r in results if r is True)
        if settled and self._wake is not None and self._batch in (len(inbox), len(rows) - len(inbox)):
            self._wake.set()
        return settled

    def _due(self) -> list[dict[str, Any]]:
        """Pending deliveries not noted done or waiting out a backoff: the outbox's, with
        their report's context to render them, then the inbox messages' (recorded, not sent)."""
        now = self.clock.now()
        due = or_(attempts.c.key.is_(None), and_(attempts.c.done.is_(False), attempts.c.next_attempt_at <= now))
        tried = (attempts.c.attempts.label("tried"), attempts.c.last_error, attempts.c.done)
        outbox = (
            select(deliveries, *tried, *REPORT_CONTEXT)
            .select_from(
                deliveries.outerjoin(attempts, attempts.c.key == deliveries.c.key).outerjoin(reports, reports.c.report_id == deliveries.c.report_id)
            )
            .where(deliveries.c.status == "pending", due)
            .order_by(deliveries.c.created_at, deliveries.c.key)
            .limit(self._batch)
        )
        messages = (
            inbox_deliveries()
            .add_columns(*tried)
            .select_from(inbox.outerjoin(attempts, attempts.c.key == inbox.c.key))
            .where(INBOX_PENDING, due)
            .order_by(inbox.c.created_at, inbox.c.key)
            .limit(self._batch)
        )
        assert self._runtime is not None
        with self._runtime.engine.connect() as db:
            return [dict(row._mapping) for query in (outbox, messages) for row in db.execute(query)]

    # --- inbox: the message is there already; record it --------------------------------

    async def _record_inbox(self, rows: list[dict[str, Any]]) -> int:
        """An inbox message is delivered once projected: record it, pipelined, each once."""
        if not rows:
            return 0
        outgoing = [Outgoing.from_row(row) for row in rows]
        with tracing.following("notifications record inbox", [o.source_event_id for o in outgoing], {"messaging.batch.message_count": len(rows)}):
            recorded = await commands.record_inbox_deliveries(self.store, outgoing, now=self.clock.now())
        await asyncio.to_thread(self._note, [Note(row["key"], tried=1, done=True) for row in rows])
        return recorded

    # --- e-mail and webhooks -------------------------------------------------------------

    async def _deliver(self, row: dict[str, Any], notes: list[Note]) -> bool:
        """Send one delivery and record it in the log; what to note of it goes to ``notes``."""
        outgoing = Outgoing.from_row(row)
        attributes = {"hazardloop.tenant": outgoing.tenant, "hazardloop.notification.kind": outgoing.kind, "hazardloop.notification.channel": outgoing.channel}
        if outgoing.report_id is not None:
            attributes["hazardloop.report.id"] = outgoing.report_id
        with (
            bound(tenant=outgoing.tenant, report_id=outgoing.report_id),
            tracing.following(f"notifications deliver {outgoing.channel}", [outgoing.source_event_id], attributes),
        ):
            return await self._deliver_once(row, outgoing, notes)

    async def _deliver_once(self, row: dict[str, Any], outgoing: Outgoing, notes: list[Note]) -> bool:
        key = row["key"]
        logged = await commands.delivery(self.store, outgoing.tenant, key)
        if logged.sent:
            notes.append(Note(key, done=True))  # sent before; this store had not caught up
            return False
        if logged.dead_lettered:
            return False  # the projection will say so
        tried = row["tried"] or 0
        if tried >= self.settings.delivery_max_attempts:
            return await self._dead_letter(outgoing, tried, row["last_error"] or "gave up")
        attempt = tried + 1
        try:
            await self._send(row)
        except Exception as exc:  # noqa: BLE001 - any failure of the channel is retried
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning("delivery %s (%s to %s) failed, attempt %d: %s", key, row["channel"], row["recipient"], attempt, error)
            if attempt >= self.settings.delivery_max_attempts:
                notes.append(Note(key, tried=attempt, error=error))
                return await self._dead_letter(outgoing, attempt, error)
            notes.append(Note(key, tried=attempt, error=error, retry_at=self.clock.now() + self.backoff(attempt)))
            return False
        await commands.record_sent(self.store, outgoing, attempts=attempt, now=self.clock.now())
        notes.append(Note(key, tried=attempt, done=True))
        return True

    def backoff(self, attempt: int) -> timedelta:
        """Wait after the ``attempt``-th failure: doubling from the configured first wait, capped."""
        seconds = self.settings.delivery_backoff_seconds * 2 ** (attempt - 1)
        return timedelta(seconds=min(seconds, self.settings.delivery_backoff_max_seconds))

    async def _dead_letter(self, outgoing: Outgoing, tried: int, error: str) -> bool:
        await commands.dead_letter(self.store, outgoing, attempts=tried, error=error, now=self.clock.now())
        log.error("delivery %s dead-lettered after %d attempts: %s", outgoing.key, tried, error)
        return True

    async def _send(self, row: dict[str, Any]) -> None:
        staff = row["channel"] == "email"  # a person handling the report; never a group chat or webhook
        assert self._runtime is not None
        context, params = await self._runtime.texts.reveal(
            [report_context(row, staff=staff), _params(row)], erased=label("erased_text", row["language"])
        )  # sealed text opened only to be sent: the store keeps it sealed
        rendered = self.renderer.render(row["kind"], row["language"], context | params)
        if row["channel"] == "email":
            message = mail.compose(self.settings, to=row["address"], rendered=rendered, key=row["key"], language=row["language"])
            await mail.send(self.settings, message)
            return
        endpoint = row["recipient"].removeprefix("endpoint:")
        request = payloads.build(
            row | {"params": json.dumps(params, ensure_ascii=False)},
            rendered,
            now=self.clock.now().timestamp(),
            webhook_secret=payloads.endpoint_secret(self.settings.webhook_signing_key(), row["tenant"], endpoint),
            chatbot_secret=self.settings.chatbot_secret(row["tenant"], endpoint),
        )
        assert self._http is not None
        response = await self._http.post(request.url, content=request.body, headers=request.headers)
        refused = payloads.accepted(row["format"], response.status_code, response.content)
        if refused is not None:
            raise DeliveryFailed(refused)

    # --- notes ---------------------------------------------------------------------------

    def _note(self, notes: list[Note]) -> None:
        """Keep the notes of a round in one transaction: one commit however many deliveries."""
        assert self._runtime is not None
        now = self.clock.now()
        with self._runtime.engine.begin() as db:
            known = set(db.execute(select(attempts.c.key).where(attempts.c.key.in_([note.key for note in notes]))).scalars())
            fresh = []
            for note in notes:
                values: dict[str, Any] = {"done": note.done, "next_attempt_at": note.retry_at or now}
                if note.tried is not None:
                    values["attempts"] = note.tried
                if note.error is not None:
                    values["last_error"] = note.error[-4000:]
                if note.key in known:
                    db.execute(attempts.update().where(attempts.c.key == note.key).values(**values))
                else:
                    fresh.append({"key": note.key, "attempts": 0, "last_error": None} | values)
            if fresh:
                db.execute(attempts.insert(), fresh)

    def forget(self, key: str) -> None:
        """Start a delivery's attempts afresh (an operator retried it)."""
        assert self._runtime is not None
        with self._runtime.engine.begin() as db:
            db.execute(attempts.delete().where(attempts.c.key == key))


def _params(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["params"])
