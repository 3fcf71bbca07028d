"""Notifications' read model: who reported what, and the messages about each report.

An inbox is the messages of the reports its owner filed (a join), so projecting a
message never needs to look up its reporter.
"""

from sqlalchemy import Column, MetaData, String, Table, Text

from hazardloop.db import UtcDateTime
from hazardloop.projection import bookkeeping_tables

metadata = MetaData()

reporters = Table(
    "notification_reporters",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("reporter", String(40), nullable=False, index=True),
)

inbox = Table(
    "notification_inbox",
    metadata,
    Column("report_id", String(64), primary_key=True, comment="whose inbox: see notification_reporters"),
    Column("message_id", String(36), primary_key=True, comment="the id of the event that caused it"),
    Column("tenant", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
"""Keyed by report, then message: one index both keeps messages unique and serves the
inbox's join, where a separate report index cost a replay another random insert per message."""

bookkeeping_tables(metadata)
