"""Notifications' projection, its read-model handlers: follow each report, and turn events
into inbox messages and deliveries to make, in the same transaction as the checkpoint.

Nothing is sent from here. The sender drains ``notification_deliveries`` and records
each outcome as an event, which this projection applies in turn; so a replay rebuilds
the inbox and the delivery log, finds every delivery the log says was made already
made, and sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from hashlib import sha1
from typing import Any

from sqlalchemy import and_, func, select

from hazardloop.events import (
    CheckEscalationRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
    STABLE_ID_NAMESPACE,
    Accepted,
    DeliveryChannel,
    DigestDue,
    DirectoryEntryRemoved,
    DirectoryEntrySet,
    EscalationRaised,
    Event,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    Language,
    MessageRead,
    NotificationFailed,
    NotificationRetried,
    NotificationSent,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    RectificationReminderDue,
    Rectified,
    ReporterFedBack,
    ReporterWrote,
    ReportFiled,
    ReportTextShredded,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    SlaBreached,
    StaffWrote,
    Verified,
    stable_id,
)
from hazardloop.log.eventstore import EventStore
from hazardloop.privacy.sealing import forget, text_token
from hazardloop.projections import Projection, Writer
from hazardloop.runtime.rounds import Wake
from hazardloop.timing.instants import shifted
from hazardloop_notifications import directory
from hazardloop_notifications.routing import NEEDS_OWNER, REPORTER, Notice, digest_notices, notices_for, report_id_of
from hazardloop_notifications.store import deliveries, digests, inbox, metadata, reports

OPEN_STAGES = ("filed", "accepted", "verified", "rectifying", "under_review")


def delivery_key(source_event_id: str, channel: str, recipient: str) -> str:
    """The idempotency key of one message to one recipient through one channel. It names
    the delivery's events in the log, so a replay must derive it unchanged.

    It is ``str(stable_id("delivery", source_event_id, channel, recipient))`` (RFC 4122's
    name-based UUID, version 5), written out from the SHA-1 digest's hex: building a
    ``uuid.UUID`` per message made a notifications rebuild ~19% slower. A test pins it to
    ``uuid.uuid5`` over generated inputs."""
    h = sha1(_KEY_PREFIX + f"{source_event_id}\x1f{channel}\x1f{recipient}".encode()).hexdigest()
    # the version (5) in the 13th digit, the RFC 4122 variant in the top bits of the 17th
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_KEY_PREFIX = STABLE_ID_NAMESPACE.bytes + b"delivery\x1f"
_VARIANT = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


_PARAMS_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""Made once: ``json.dumps`` with these options builds an encoder per call."""


def encode_params(params: dict[str, Any]) -> str:
    """Parameters as stored: canonical JSON, text as written."""
    return _PARAMS_JSON.encode(params)


class Notifier:
    """The projection's handlers, with the service's reminder leads and the directory cache.

    Handlers write blind (updates by key, without reading the row first) and read the
    report only for the few events whose notices go to its current owner: a read per
    event through SQLAlchemy would cost a rebuild more than everything else together.
    """

    def __init__(self, reminder_hours: Sequence[int], *, wake: Wake | None = None) -> None:
        """``wake``: nudged when a committed batch may have made deliveries, for the sender."""
        self.reminder_hours = tuple(sorted(set(reminder_hours), reverse=True))
        self.wake = wake

    # --- following the report -------------------------------------------------------------

    def when_report_filed(self, event: ReportFiled, db: Writer, listing: directory.Listing) -> None:
        where = event.location
        db.insert(
            reports,
            report_id=event.aggregate_id,
            tenant=event.tenant,
            reporter=event.reporter,
            anonymous=event.anonymous,
            receipt_digest=event.receipt_digest,
            category=event.category.value,
            subtype=event.subtype,
            place=f"{where.site} / {where.area} / {where.spot}",
            description=text_token(event.tenant, event.description),
            filed_at=event.occurred_at,
            stage="filed",
            overdue=False,
        )  # grade, owner, deadline, reward and the next reminder: NULL until they are known
        notify(db, listing, event, notices_for(event))

    def when_report_moved(self, event: Event, db: Writer, listing: directory.Listing) -> None:
        """Casework events: move the report's stage and reminder, tell whom it concerns."""
        owner = None
        changes = self._changes(event)
        if isinstance(event, NEEDS_OWNER):
            report = db.get(reports, report_id=event.aggregate_id)
            if report is None:
                return  # filed before this log began
            owner = report["owner"]
            if isinstance(event, ExtensionGranted):
                changes |= self._next_reminder(event.deadline, after=event.occurred_at, leads=self._leads(report))
            elif isinstance(event, RectificationRejected) and report["deadline"] is not None:
                changes |= self._next_reminder(report["deadline"], after=event.occurred_at, leads=self._leads(report))
        if changes:
            db.update(reports, {"report_id": event.aggregate_id}, **changes)
        notify(db, listing, event, notices_for(event, owner))

    def _changes(self, event: Event) -> dict[str, Any]:
        match event:
            case Accepted():
                return {"stage": "accepted"}
            case Verified():
                stage = {
                    Outcome.CONFIRMED_HAZARD: "verified",
                    Outcome.VALID_NOT_HAZARD: "closed",
                    Outcome.NOT_CONFIRMED: "not_confirmed",
                    Outcome.DUPLICATE: "duplicate",
                }[event.outcome]
                return {"stage": stage, "grade": event.grade.value if event.grade else None}
            case RectificationAssigned():
                leads = self.reminder_hours if event.reminders is None else tuple(sorted(set(event.reminders), reverse=True))
                return {"stage": "rectifying", "owner": event.owner, "deadline": event.deadline, "overdue": False,
                        "reminder_hours": ",".join(map(str, leads)), **self._next_reminder(event.deadline, after=event.occurred_at, leads=leads)}
            case ExtensionGranted():
                return {"deadline": event.deadline, "overdue": False}  # its next reminder: see when_report_moved
            case Rectified():
                return {"stage": "closed" if event.on_the_spot else "under_review", **NO_REMINDER}
            case RectificationRejected():
                return {"stage": "rectifying"}
            case RectificationAccepted():
                return {"stage": "closed", **NO_REMINDER}
            case RectificationOverdue():
                return {"overdue": True, **NO_REMINDER}
        return {}

    def _leads(self, report: Any) -> tuple[int, ...]:
        """The reminder leads the report's assignment carried (the subsidiary's policy then)."""
        stored = report["reminder_hours"] if report is not None else None
        return tuple(int(h) for h in stored.split(",") if h) if stored is not None else self.reminder_hours

    def _next_reminder(self, deadline: Any, *, after: Any, leads: Sequence[int], below: int | None = None) -> dict[str, Any]:
        """The first reminder still ahead for ``deadline``: the longest lead not yet past
        (and shorter than ``below``, the one just sent)."""
        for hours in leads:
            due = shifted(deadline, -timedelta(hours=hours))
            if due > after and (below is None or hours < below):
                return {"next_reminder_at": due, "reminder_lead": hours}
        return dict(NO_REMINDER)

    def when_reward_moved(self, event: Event, db: Writer, listing: directory.Listing) -> None:
        db.update(reports, {"report_id": report_id_of(event)}, reward=REWARD_STATUS[type(event)])
        notify(db, listing, event, notices_for(event))

    def when_check_moved(self, event: Event, db: Writer, listing: directory.Listing) -> None:
        """A check's task opened, went overdue or escalated: tell the subsidiary it concerns."""
        notify(db, listing, event, notices_for(event))

    def when_reminder_due(self, event: RectificationReminderDue, db: Writer, listing: directory.Listing) -> None:
        after = shifted(event.deadline, -timedelta(hours=event.hours_before))
        leads = self._leads(db.get(reports, report_id=event.report_id))
        db.update(reports, {"report_id": event.report_id}, **self._next_reminder(event.deadline, after=after, leads=leads, below=event.hours_before))
        notify(db, listing, event, notices_for(event))

    def when_digest_due(self, event: DigestDue, db: Writer, listing: directory.Listing) -> None:
        db.insert(digests, tenant=event.tenant, day=event.day, created_at=event.occurred_at)
        notify(db, listing, event, digest_notices(digest_of(db, event)))

    # --- the projection --------------------------------------------------------------------

    def projection(self, _: EventStore | None = None) -> Projection:
        """A fresh projection with its own directory cache (a rebuild must not see the old one's)."""
        listing = directory.Listing()

        def bound(handler: Any) -> Any:
            return lambda event, db: handler(event, db, listing)

        moved, reward = bound(self.when_report_moved), bound(self.when_reward_moved)
        return Projection(
            name="notifications",
            metadata=metadata,
            handlers={
                ReportFiled: bound(self.when_report_filed),
                **{
                    kind: moved
                    for kind in (
                        Accepted, Verified, RectificationAssigned, ExtensionRequested, ExtensionGranted, ExtensionRefused,
                        Rectified, RectificationAccepted, RectificationRejected, ReporterFedBack, SlaBreached,
                        RectificationOverdue, EscalationRaised, ExternallyEscalated, ReporterWrote, StaffWrote,
                    )
                },
                **{kind: reward for kind in (RewardProposed, RewardReferred, RewardApproved, RewardGranted, RewardDeclined)},
                **{kind: bound(self.when_check_moved) for kind in (CheckTaskOpened, CheckTaskOverdue, CheckEscalationRaised)},
                RectificationReminderDue: bound(self.when_reminder_due),
                DigestDue: bound(self.when_digest_due),
                DirectoryEntrySet: bound(listing.when_entry_set),
                DirectoryEntryRemoved: bound(listing.when_entry_removed),
                NotificationSent: when_delivery_settled,
                NotificationFailed: when_delivery_settled,
                NotificationRetried: when_delivery_retried,
                MessageRead: when_message_read,
                ReportTextShredded: when_text_shredded_forget_it,
            },
            committed=self.committed if self.wake is not None else None,
        )

    def committed(self, events: Sequence[Event]) -> None:
        """Wake the sender after a batch that may have made deliveries: not after one holding
        only the sender's own outcomes (or reads, directory changes), which would wake it
        for nothing once per round it made."""
        if self.wake is not None and any(type(event) not in MAKE_NO_DELIVERIES for event in events):
            self.wake.set()


MAKE_NO_DELIVERIES = frozenset(
    {NotificationSent, NotificationFailed, MessageRead, DirectoryEntrySet, DirectoryEntryRemoved, ReportTextShredded}
)
"""The events this projection applies that never make a delivery due."""

NO_REMINDER = {"next_reminder_at": None, "reminder_lead": None}
REWARD_STATUS = {
    RewardProposed: "proposed",
    RewardReferred: "referred",
    RewardApproved: "approved",
    RewardGranted: "granted",
    RewardDeclined: "declined",
}


def projection(store: EventStore | None = None, *, reminder_hours: Sequence[int] | None = None) -> Projection:
    """The projection for tools that replay it outside the service (audits): with the
    reminder leads the services are configured with (``HAZARDLOOP_REMINDER_HOURS``), since
    the read model's next-reminder times follow them."""
    if reminder_hours is None:
        from hazardloop_notifications.settings import NotificationsSettings

        reminder_hours = NotificationsSettings().reminder_hours
    return Notifier(reminder_hours).projection(store)


# --- from notices to inbox messages and deliveries --------------------------------------------


def notify(db: Writer, listing: directory.Listing, event: Event, notices: list[Notice]) -> None:
    """Write the inbox messages and the deliveries an event's notices call for.

    One message per recipient and channel, however many notices reach them (a person
    holding two of the roles told hears once); the first notice wins. An inbox message
    is its own delivery record (the inbox needs no sending); e-mails and endpoints get
    a row in the outbox.
    """
    made: set[tuple[str, str]] = set()
    source = str(event.event_id)
    tenant, at = event.tenant, event.occurred_at
    for notice in notices:
        params = notice.params
        report_id = params.get("report_id")
        if notice.to.reporter:  # most notices: the reporter's inbox, by their report
            if (_INBOX, REPORTER) in made:
                continue
            made.add((_INBOX, REPORTER))
            encoded = encode_params(params)
            db.insert(
                inbox, box=params["report_id"], message_id=source, tenant=tenant, report_id=report_id,
                kind=notice.kind, params=encoded, quotes=_quotes(encoded, report_id), created_at=at,
                key=delivery_key(source, _INBOX, REPORTER), language=_DEFAULT_LANGUAGE, status="pending", attempts=0,
            )  # read_at, and the delivery's error and settled_at: NULL until then
            continue
        encoded = None
        for channel, recipient, address, fmt, language, box in _recipients(db, listing, tenant, notice):
            if (channel, recipient) in made:
                continue
            made.add((channel, recipient))
            if encoded is None:
                encoded = encode_params(params)
            if box is not None:
                db.insert(
                    inbox, box=box, message_id=source, tenant=tenant, report_id=report_id,
                    kind=notice.kind, params=encoded, quotes=_quotes(encoded, report_id), created_at=at,
                    key=delivery_key(source, channel, recipient), language=language, status="pending", attempts=0,
                )
                continue
            db.insert(
                deliveries,
                key=delivery_key(source, channel, recipient),
                tenant=tenant,
                report_id=report_id,
                kind=notice.kind,
                channel=channel,
                recipient=recipient,
                address=address,
                format=fmt,
                language=language,
                params=encoded,
                quotes=_quotes(encoded, report_id),
                source_event_id=source,
                created_at=at,
                status="pending",
                attempts=0,
                error=None,
                settled_at=None,
            )


def _quotes(encoded: str, report_id: str | None) -> str | None:
    """The report whose sealed text a message's parameters quote: what its erasure rewrites
    (most messages quote none, and only those that do are indexed)."""
    return report_id if "sealed:v1:" in encoded else None


_INBOX, _EMAIL, _WEBHOOK = DeliveryChannel.INBOX.value, DeliveryChannel.EMAIL.value, DeliveryChannel.WEBHOOK.value
_DEFAULT_LANGUAGE = Language.ZH_CN.value


def _recipients(db: Writer, listing: directory.Listing, tenant: str, notice: Notice) -> list[tuple[str, str, str | None, str | None, str, str | None]]:
    """(channel, recipient, address, format, language, inbox box) for each way ``notice`` goes out.

    The reporter is reached only through the inbox of their report: by token for a
    named reporter, by receipt code for an anonymous one. Staff get their inbox, and
    e-mail when the directory has their address; endpoints get a webhook.
    """
    default = _DEFAULT_LANGUAGE
    if notice.to.reporter:
        return [(_INBOX, REPORTER, None, None, default, notice.params["report_id"])]
    if notice.to.person:
        listed = [listing.person(db, tenant, notice.to.person) or {"kind": "person", "person": notice.to.person}]
    else:
        listed = listing.members(db, tenant, notice.to.role)
    ways = []
    for member in listed:
        if member["kind"] == "endpoint":
            ways.append((_WEBHOOK, f"endpoint:{member['endpoint']}", member["url"], member["format"], member["language"], None))
            continue
        name, language = member["person"], member.get("language", default)
        ways.append((_INBOX, name, None, None, language, f"@{name}"))
        if member.get("email"):
            ways.append((_EMAIL, name, member["email"], None, language, None))
    return ways


def digest_of(db: Writer, event: DigestDue) -> dict[str, Any]:
    """The subsidiary as the log stood when the digest fell due: nobody's identity in it."""
    db.flush()  # the batch's own changes must count
    tenant, since = event.tenant, event.since
    mine = reports.c.tenant == tenant
    is_open = reports.c.stage.in_(OPEN_STAGES)
    late = and_(mine, is_open, reports.c.overdue.is_(True))

    def count(*where: Any) -> int:
        return db.connection.execute(select(func.count()).select_from(reports).where(*where)).scalar() or 0

    overdue_rows = db.connection.execute(
        select(reports.c.report_id, reports.c.place, reports.c.owner, reports.c.deadline)
        .where(late)
        .order_by(reports.c.deadline, reports.c.report_id)
        .limit(20)
    )
    return {
        "report_id": None,
        "day": event.day,
        "filed": count(mine, reports.c.filed_at > since, reports.c.filed_at <= event.occurred_at),
        "open": count(mine, is_open),
        "overdue": count(late),
        "awaiting_approval": count(mine, reports.c.reward.in_(("proposed", "referred"))),
        "awaiting_payment": count(mine, reports.c.reward == "approved"),
        "overdue_reports": [
            {"report_id": r.report_id, "place": r.place, "owner": r.owner or "", "deadline": r.deadline.isoformat()} for r in overdue_rows
        ],
    }


def inbox_row(channel: str, recipient: str, report_id: str | None, source_event_id: str) -> dict[str, str] | None:
    """The inbox message that records a delivery through the inbox, by its primary key;
    None for a delivery through another channel (a row of the outbox)."""
    if channel != _INBOX:
        return None
    if recipient == REPORTER:
        return None if report_id is None else {"box": report_id, "message_id": source_event_id}
    return {"box": f"@{recipient}", "message_id": source_event_id}


def when_delivery_settled(event: NotificationSent | NotificationFailed, db: Writer) -> None:
    """Blind updates: a delivery this store never had (filed before the log began)
    matches no row, and a delivery is always projected before its outcome is logged."""
    failed = isinstance(event, NotificationFailed)
    outcome = {
        "status": "failed" if failed else "sent", "attempts": event.attempts,
        "error": event.error if failed else None, "settled_at": event.occurred_at,
    }
    message = inbox_row(event.channel.value, event.recipient, event.report_id, event.source_event_id)
    if message is not None:
        db.update(inbox, message, **outcome)
    else:
        db.update(deliveries, {"key": event.aggregate_id}, **outcome)


def when_delivery_retried(event: NotificationRetried, db: Writer) -> None:
    key = {"key": event.aggregate_id}
    if db.get(deliveries, **key) is not None:
        db.update(deliveries, key, status="pending", settled_at=None)
        return
    # Only a dead-lettered delivery is retried, and the inbox's never are; kept for a log
    # that says otherwise. The inbox is not indexed by key, so this scans it (rarely).
    db.flush()
    db.connection.execute(inbox.update().where(inbox.c.key == event.aggregate_id).values(status="pending", settled_at=None))


def when_text_shredded_forget_it(event: ReportTextShredded, db: Writer) -> None:
    """Forget the report's sealed text: its description, and the messages that quote it."""
    report_id = event.aggregate_id
    row = db.get(reports, report_id=report_id)
    if row is not None:
        db.update(reports, {"report_id": report_id}, description=forget(row.description, report_id))
    db.flush()
    for table, key in ((inbox, (inbox.c.box, inbox.c.message_id)), (deliveries, (deliveries.c.key,))):
        quoting = select(*key, table.c.params).where(table.c.quotes == report_id)
        for found in db.connection.execute(quoting).all():
            params = encode_params(forget(json.loads(found.params), report_id))
            db.connection.execute(table.update().where(*(c == found._mapping[c.name] for c in key)).values(params=params))


def when_message_read(event: MessageRead, db: Writer) -> None:
    """A blind update: a message this store never had matches no row."""
    db.update(inbox, {"box": event.box, "message_id": event.message_id}, read_at=event.occurred_at)
