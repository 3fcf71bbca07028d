"""Notifications' read model: reports as far as messages need them, inboxes, the directory,
the deliveries to make (the outbox for e-mail and endpoints; an inbox message is its own
delivery record), reminders (on the report's row) and digests.

Everything here is projected from the log, in the same transaction as the checkpoint,
so a replay rebuilds it exactly. What the sender learns while sending (attempts, the
last error) is kept apart in ``notification_attempts``, which a rebuild leaves alone.
"""

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    case,
    func,
    literal,
    null,
    select,
    text,
)

from hazardloop.projections import bookkeeping_tables
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()

reports = Table(
    "notification_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("reporter", String(40), nullable=False, index=True, comment="pseudonym: whose inbox"),
    Column("anonymous", Boolean, nullable=False),
    Column("receipt_digest", String(64), comment="anonymous reports: their inbox's key"),
    Column("category", String(40), nullable=False),
    Column("subtype", String(64), nullable=False),
    Column("place", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("stage", String(24), nullable=False),
    Column("grade", String(16)),
    Column("owner", String(128)),
    Column("deadline", UtcDateTime()),
    Column("overdue", Boolean, nullable=False),
    Column("reward", String(16), comment="proposed, referred, approved, granted, declined"),
    Column("next_reminder_at", UtcDateTime(), comment="when the owner is next reminded of the deadline"),
    Column("reminder_lead", Integer, comment="hours before the deadline, of that reminder"),
    Column("reminder_hours", String(40), comment="the leads the assignment carried, comma-separated"),
    # Most reports have neither (named reporters, no reminder ahead): index only those that do.
    *(
        Index(f"ix_notification_reports_{name}", name, sqlite_where=text(f"{name} IS NOT NULL"), postgresql_where=text(f"{name} IS NOT NULL"))
        for name in ("receipt_digest", "next_reminder_at")
    ),
)

REPORT_CONTEXT = (reports.c.place, reports.c.category, reports.c.description)
"""The report's columns a message is rendered with: selected beside it, never copied into it."""

inbox = Table(
    "notification_inbox",
    metadata,
    Column("box", String(140), primary_key=True, comment="a report id (its reporter's messages) or @<person>"),
    Column("message_id", String(36), primary_key=True, comment="the id of the event that caused it"),
    Column("tenant", String(64), nullable=False),
    Column("report_id", String(64)),
    Column("kind", String(40), nullable=False),
    Column("params", Text, nullable=False, comment="JSON: rendered in the reader's language when read"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("read_at", UtcDateTime()),
    # The message is also the record of its delivery through the inbox channel: nothing
    # is sent for it, so it needs no row in the outbox, only its outcome in the log.
    Column("key", String(36), nullable=False, comment="the delivery's idempotency key (channel inbox)"),
    Column("language", String(8), nullable=False),
    Column("status", String(8), nullable=False, comment="pending, sent, failed"),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("settled_at", UtcDateTime()),
    Index(
        "ix_notification_inbox_pending", "created_at",
        sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
    ),
    Column("quotes", String(64), comment="the report whose sealed text the parameters quote, if any"),
    Index(
        "ix_notification_inbox_quotes", "quotes", sqlite_where=text("quotes IS NOT NULL"), postgresql_where=text("quotes IS NOT NULL")
    ),
)
"""Keyed by box, then message: one index keeps messages unique and serves the reporter's
join through ``notification_reports`` as well as a person's own box. The sender finds
the messages whose delivery is not yet in the log through a partial index, which only
holds those: once the log says they were delivered, they leave it."""

deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("key", String(36), primary_key=True, comment="idempotency key: derived from cause, channel, recipient"),
    Column("tenant", String(64), nullable=False),
    Column("report_id", String(64)),
    Column("kind", String(40), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", String(140), nullable=False),
    Column("address", String(2000), comment="e-mail address or URL, as the directory had it"),
    Column("format", String(16), comment="endpoints: webhook, wecom, dingtalk, feishu"),
    Column("language", String(8), nullable=False),
    Column("params", Text, nullable=False),
    Column("source_event_id", String(36), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("status", String(8), nullable=False, comment="pending, sent, failed"),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("settled_at", UtcDateTime()),
    Index("ix_notification_deliveries_status", "status", "created_at"),
    Column("quotes", String(64), comment="the report whose sealed text the parameters quote, if any"),
    Index(
        "ix_notification_deliveries_quotes", "quotes", sqlite_where=text("quotes IS NOT NULL"),
        postgresql_where=text("quotes IS NOT NULL"),
    ),
)
"""The outbox: deliveries through e-mail and endpoints, which the sender must send."""


def inbox_deliveries() -> Select:
    """Inbox messages as delivery records, in the columns (and order) of ``deliveries``."""
    return select(
        inbox.c.key,
        inbox.c.tenant,
        inbox.c.report_id,
        inbox.c.kind,
        literal("inbox", String).label("channel"),
        case((inbox.c.box.startswith("@"), func.substr(inbox.c.box, 2)), else_=literal("reporter", String)).label("recipient"),
        null().cast(String).label("address"),
        null().cast(String).label("format"),
        inbox.c.language,
        inbox.c.params,
        inbox.c.message_id.label("source_event_id"),
        inbox.c.created_at,
        inbox.c.status,
        inbox.c.attempts,
        inbox.c.error,
        inbox.c.settled_at,
        inbox.c.quotes,
    )


INBOX_PENDING = text("notification_inbox.status = 'pending'")
"""The partial index's own condition, written alike so that the database uses the index."""

directory_entries = Table(
    "notification_directory",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True, comment="person or endpoint"),
    Column("name", String(128), primary_key=True),
    Column("entry", Text, nullable=False, comment="JSON of the entry as set"),
    Column("updated_at", UtcDateTime(), nullable=False),
)

directory_roles = Table(
    "notification_directory_roles",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("role", String(32), primary_key=True),
    Column("members", Text, nullable=False, comment="JSON list of the entries holding the role"),
)
"""Who holds a role, in one row: routing a message reads it by key, never scans."""

digests = Table(
    "notification_digests",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

bookkeeping_tables(metadata)

# --- the sender's own notes (not projected: a rebuild keeps them) ------------------------

sender_metadata = MetaData()

attempts = Table(
    "notification_attempts",
    sender_metadata,
    Column("key", String(36), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("last_error", Text),
    Column("done", Boolean, nullable=False, comment="sent and recorded in the log"),
)
