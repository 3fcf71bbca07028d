"""Intake's read model: reports as their reporters and the safety desk see them, and the catalogue."""

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from hazardloop.projections import bookkeeping_tables
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()

reports = Table(
    "intake_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("reporter", String(40), nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False),
    Column("receipt_digest", String(64), unique=True),
    Column("category", String(40), nullable=False),
    Column("subtype", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("place_id", String(64)),
    Column("equipment_tag", String(40)),
    Column("channel", String(16), nullable=False),
    Column("entered_by", String(40)),
    Column("cause_analysis", Text),
    Column("suggested_fix", Text),
    Column("emergency_action", Text),
    Column("possible_duplicate_of", String(64), index=True),
    Column("observed_at", UtcDateTime(), nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("status", String(24), nullable=False),
    Column("accepted_at", UtcDateTime()),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("verified_at", UtcDateTime()),
    Column("deadline", UtcDateTime()),
    Column("assigned_at", UtcDateTime()),
    Column("measures", Text),
    Column("rectified_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("reward_fen", BigInteger),
    Column("reward_declined", Text, comment="the reason, when the reward was declined"),
    Column("reward_decided_at", UtcDateTime()),
    Column("text_shredded_at", UtcDateTime(), comment="when the report's text key was destroyed"),
    Column("updated_at", UtcDateTime(), nullable=False),
    # The possible-duplicate check at every filing: a spot's (or a piece of equipment's)
    # reports of one category within the window are a range of these, however many
    # reports the spot gathered over the years, rather than all of them.
    Index("ix_intake_reports_place_recent", "place_id", "category", "filed_at"),
    Index("ix_intake_reports_equipment_recent", "equipment_tag", "category", "filed_at"),
)
"""A report as it stands, with when it reached each step: its timeline is read from here.

Each step (filed, verified, rectified, reward decided) happens at most once per report,
so it is a few columns of the row that every event of the report updates anyway. A
table of steps added a row and randomly keyed index entries per event, which cost a
rebuild as much as the rest of intake's read model together. (A step that can repeat
would need a table of its own.)
"""

attachments = Table(
    "intake_attachments",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("digest", String(64), primary_key=True, index=True),
    Column("tenant", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("content_type", String(60), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("thumbnail", String(64)),
)

places = Table(
    "intake_places",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("place_id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("parent_id", String(64)),
    Column("name", String(80), nullable=False),
    Column("name_en", String(80)),
    Column("equipment_tag", String(40)),
    Column("retired", Boolean, nullable=False),
    Column("catalogued_at", UtcDateTime(), nullable=False),
)

disclosures = Table(
    "intake_disclosures",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("reporter", String(40), nullable=False, index=True),
    Column("report_id", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("role", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
)
"""Who saw which reporter's identity, and why: for the reporter's and the auditors' trust."""

thread = Table(
    "intake_thread",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("report_id", String(64), nullable=False, index=True),
    Column("tenant", String(64), nullable=False),
    Column("from_reporter", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("written_at", UtcDateTime(), nullable=False),
)
"""A report's thread: the reporter's messages, the safety department's answers and feedback."""

rewards = Table(
    "intake_rewards",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("claimed", Boolean, nullable=False),
    Column("channel", String(16)),
    Column("updated_at", UtcDateTime(), nullable=False),
)
"""Where a report's reward stands, as its reporter's page shows it (and offers to claim it)."""

bookkeeping_tables(metadata)

kept = MetaData()
"""Tables that are not folded from the log (reporters' sessions, sign-ins under way, kept
drafts), so a rebuild of the projection signs nobody out and loses no typed report."""
