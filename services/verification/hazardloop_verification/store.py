"""Verification's read model: the triage queue and each case's stage."""

from sqlalchemy import Column, MetaData, String, Table, Text

from hazardloop.db import UtcDateTime
from hazardloop.projection import bookkeeping_tables

metadata = MetaData()

cases = Table(
    "verification_cases",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("stage", String(24), nullable=False, index=True),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("verified_by", String(200)),
    Column("verified_at", UtcDateTime()),
    Column("measures", Text),
    Column("rectified_at", UtcDateTime()),
)

bookkeeping_tables(metadata)
