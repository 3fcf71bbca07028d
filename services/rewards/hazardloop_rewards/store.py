"""Rewards' read models: each report's reward, each year's budget, the policies set."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from hazardloop.projections import bookkeeping_tables
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()

reports = Table(
    "reward_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("reporter", String(40), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("receipt_digest", String(64), index=True),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("team", String(80)),
    Column("category", String(24)),
    Column("place_key", String(220)),
    Column("filed_at", UtcDateTime()),
    Index("ix_reward_reports_reporter", "tenant", "reporter"),
)
"""What rewards needs of each filing: who (as a pseudonym), where, what and when."""

rewards = Table(
    "rewards",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("reporter", String(40), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("proposer", String(128)),
    Column("proposed_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("breakdown", Text),
    Column("policy", String(80)),
    Column("cap_fen", BigInteger),
    Column("first_report_id", String(64)),
    Column("referred_for", String(16)),
    Column("approver", String(128)),
    Column("approval_level", String(16)),
    Column("budget_year", Integer),
    Column("claimed", Boolean, nullable=False),
    Column("payer", String(128)),
    Column("payment_reference", String(80)),
    Column("channel", String(16)),
    Column("reason", Text, comment="sealed (see hazardloop.privacy.sealing)"),
    Column("display_name", Text, comment="sealed (see hazardloop.privacy.sealing)"),
    Column("proposed_at", UtcDateTime()),
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("paid_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
    Index("ix_rewards_tenant_status", "tenant", "status"),
)

budgets = Table(
    "reward_budgets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("amount_fen", BigInteger),
    Column("committed_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
)

policies = Table(
    "reward_policies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("effective_from", UtcDateTime(), primary_key=True),
    Column("policy", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
)

signals = Table(
    "reward_signals",
    metadata,
    Column("signal_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("rule", String(24), nullable=False),
    Column("reporter", String(40)),
    Column("subject", JSON(none_as_null=True), nullable=False),
    Column("evidence_count", Integer, nullable=False),
    Column("figures", JSON(none_as_null=True), nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_reward_signals_tenant", "tenant", "rule"),
    Index("ix_reward_signals_reporter", "tenant", "reporter"),
)
"""Fraud signals the rules raised from the log: what about, how many reports show it (they
are in ``reward_signal_evidence``), the rule's figures when it last grew."""

signal_evidence = Table(
    "reward_signal_evidence",
    metadata,
    Column("signal_id", String(40), primary_key=True),
    Column("report_id", String(64), primary_key=True),
    Index("ix_reward_signal_evidence_report", "report_id"),
)
"""The reports each signal names, and so the signals on a report."""

signal_decisions = Table(
    "reward_signal_decisions",
    metadata,
    Column("signal_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("covered", Integer, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("reason", Text, comment="sealed (see hazardloop.privacy.sealing)"),
    Column("decided_at", UtcDateTime(), nullable=False),
)
"""A reviewer's last decision on a signal; a dismissal covers ``covered`` reports of evidence."""

signal_raised = Table(
    "reward_signal_raised",
    metadata,
    Column("signal_id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
)
"""The signals whose ``SignalRaised`` the log holds: filled from the log alone, so which
signals are still to be recorded never depends on when the rules write their rows."""

signal_rules = Table(
    "reward_signal_rules",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("rules", Text, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
)

work_places = Table(
    "reward_work_places",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("person", String(128), primary_key=True),
    Column("places", Text, nullable=False),
)
"""The work places directory entries list, by person (only people with some listed)."""

signals_owed = Table(
    "reward_signals_owed",
    metadata,
    Column("owed", Integer, primary_key=True),
)
"""One row while a replay from an empty store has left the signals to be counted at its end
(from the rows above): whoever finds it there counts them before counting anything else."""

bookkeeping_tables(metadata)
