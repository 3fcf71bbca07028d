"""Intake's read model: each report as its reporter and the safety desk see it."""

from sqlalchemy import BigInteger, Boolean, Column, MetaData, String, Table, Text

from hazardloop.db import UtcDateTime
from hazardloop.projection import bookkeeping_tables

metadata = MetaData()

reports = Table(
    "intake_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("reporter", String(40), nullable=False, index=True),
    Column("anonymous", Boolean, nullable=False),
    Column("category", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("observed_at", UtcDateTime(), nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("status", String(24), nullable=False),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("measures", Text),
    Column("reward_fen", BigInteger),
    Column("updated_at", UtcDateTime(), nullable=False),
)

bookkeeping_tables(metadata)
