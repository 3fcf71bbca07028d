"""Verification's read models: each report's case (queue, board, overdue list, ledger row),
the timers the closed loop is waiting on, and each subsidiary's casework policy."""

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

from hazardloop.projections import bookkeeping_tables
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()

cases = Table(
    "verification_cases",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("category", String(40), nullable=False),
    Column("subtype", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("place_id", String(64)),
    Column("equipment_tag", String(40)),
    Column("reporter", String(40), nullable=False),
    Column("receipt_digest", String(64)),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("stage", String(24), nullable=False),
    Column("accepted_at", UtcDateTime()),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("risk_colour", String(8)),
    Column("factors", Text),
    Column("within_routine_duties", Boolean),
    Column("duplicate_of", String(64)),
    Column("first_report_id", String(64)),
    Column("verified_by", String(200)),
    Column("verified_at", UtcDateTime()),
    Column("owner", String(128)),
    Column("deadline", UtcDateTime()),
    Column("plan", Text),
    Column("ladder", Text),
    Column("extension_requested_by", String(200)),
    Column("extension_requested_deadline", UtcDateTime()),
    Column("extension_reason", Text),
    Column("measures", Text),
    Column("rectified_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("fed_back_at", UtcDateTime()),
    Column("sla_breaches", Text, nullable=False),
    Column("overdue_since", UtcDateTime()),
    Column("escalation_step", Integer),
    Column("externally_escalated_at", UtcDateTime()),
    Column("authority", String(80)),
    Column("recurrence_of", String(64)),
    # A queue's page is a range of this index in its order, ties between reports filed at
    # the same instant included: no sort of the stage's reports on either store.
    Index("ix_verification_cases_queue", "tenant", "stage", "filed_at", "report_id"),
)

timers = Table(
    "verification_timers",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime()),
    Column("step", Integer),
    Column("status", String(12), nullable=False),
    Index("ix_verification_timers_due", "status", "due_at"),
)
"""Every clock a report started: pending, suspended (work under review), fired or stopped."""

policies = Table(
    "verification_policies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("policy", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

bookkeeping_tables(metadata)

checks = Table(
    "verification_checks",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("report_id", String(64), nullable=False),
    Column("grade", String(16), nullable=False),
    Column("category", String(40), nullable=False),
    Column("equipment", String(40)),
    Column("look_for", Text, nullable=False),
    Column("subsidiaries", Text, nullable=False),
    Column("all_subsidiaries", Boolean, nullable=False),
    Column("due", UtcDateTime()),
    Column("raised_by", String(200), nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("closed_by", String(200)),
    Column("closed_at", UtcDateTime()),
    Index("ix_verification_checks_raised", "tenant", "raised_at"),
)
"""Every check elsewhere, in the subsidiary of the report it learns from."""

check_tasks = Table(
    "verification_check_tasks",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("origin_tenant", String(64), nullable=False),
    Column("report_id", String(64), nullable=False),
    Column("category", String(40), nullable=False),
    Column("equipment", String(40)),
    Column("look_for", Text, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("ladder", Text, nullable=False),
    Column("answer", String(16)),
    Column("found_report_id", String(64)),
    Column("note", Text),
    Column("answered_by", String(200)),
    Column("answered_at", UtcDateTime()),
    Column("extension_requested_by", String(200)),
    Column("extension_requested_deadline", UtcDateTime()),
    Column("extension_reason", Text),
    Column("overdue_since", UtcDateTime()),
    Column("escalation_step", Integer),
    Index("ix_verification_check_tasks_tenant", "tenant", "answer", "deadline"),
)
"""Each addressed subsidiary's task of a check: its deadline, its answer, how late it is."""

check_timers = Table(
    "verification_check_timers",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime()),
    Column("step", Integer),
    Column("status", String(12), nullable=False),
    Index("ix_verification_check_timers_due", "status", "due_at"),
)
"""The overdue and escalation clocks of each task: pending, fired or stopped."""
