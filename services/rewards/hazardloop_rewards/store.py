"""Rewards' read model: one decision row per report."""

from sqlalchemy import BigInteger, Column, MetaData, String, Table

from hazardloop.db import UtcDateTime
from hazardloop.projection import bookkeeping_tables

metadata = MetaData()

decisions = Table(
    "reward_decisions",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("reporter", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("grade", String(16)),
    Column("policy", String(80)),
    Column("reason", String(400)),
    Column("decided_at", UtcDateTime(), nullable=False),
)

bookkeeping_tables(metadata)
