"""The console's read model: one row per report across the closed loop, its steps and photos.

Everything a list, a search or a dashboard shows comes from here, folded from the log;
the console never reads another service's database.
"""

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, MetaData, String, Table, Text

from hazardloop.projections import bookkeeping_tables
from hazardloop.projections.definition import NEEDS_TEXT_KEYS
from hazardloop.projections.db import UtcDateTime

metadata = MetaData()

cases = Table(
    "console_cases",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("filed_at", UtcDateTime(), nullable=False),
    Column("observed_at", UtcDateTime()),
    Column("week", String(10), nullable=False),
    # Monday of the filing week in the group's zone (YYYY-MM-DD): what weekly charts group by.
    Column("category", String(32), nullable=False),
    Column("subtype", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("site", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("spot", String(120), nullable=False),
    Column("place_id", String(64)),
    Column("equipment_tag", String(64)),
    Column("channel", String(16), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("reporter", String(40), nullable=False),
    # The reporter's pseudonym: the console never holds an identity.
    Column("entered_by", String(128)),
    Column("possible_duplicate_of", String(64)),
    Column("photos", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("outcome", String(24)),
    Column("grade", String(16)),
    Column("risk_colour", String(8)),
    Column("accept_due_at", UtcDateTime()),
    Column("verify_due_at", UtcDateTime()),
    Column("feedback_due_at", UtcDateTime()),
    Column("accepted_at", UtcDateTime()),
    Column("verified_at", UtcDateTime()),
    Column("verified_by", String(128)),
    Column("owner", String(128)),
    Column("deadline", UtcDateTime()),
    Column("plan", Text),
    # The five fixed items of a major hazard's rectification, as JSON.
    Column("extension_requested_until", UtcDateTime()),
    Column("extension_reason", Text),
    Column("measures", Text),
    Column("rectified_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("fed_back_at", UtcDateTime()),
    Column("overdue", Boolean, nullable=False),
    Column("escalation_step", Integer),
    Column("externally_escalated", Boolean, nullable=False),
    Column("sla_breaches", String(40), nullable=False),
    Column("reward_status", String(16)),
    Column("reward_fen", BigInteger),
    Column("reward_level", String(16)),
    Column("reward_decided_at", UtcDateTime()),
    Column("reward_paid_at", UtcDateTime()),
    Column("reward_proposed_fen", BigInteger),
    Column("reward_breakdown", Text),
    # The proposal's lines (rule, detail, amount), as JSON: what an approver weighs.
    Column("reward_referred_for", String(16)),
    Column("reward_reference", String(80)),
    Column("reward_reason", Text),
    Column("steps", Integer, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # Kept by ``tallies.derived`` for the dashboard: the last due time on which a figure
    # turns, and each measured clock's seconds from filing to done.
    Column("turns_until", UtcDateTime()),
    Column("accept_seconds", Float),
    Column("verify_seconds", Float),
    Column("close_seconds", Float),
    Index("ix_console_cases_tenant_state", "tenant", "state", "filed_at"),
    Index("ix_console_cases_tenant_filed", "tenant", "filed_at"),
    Index("ix_console_cases_owner", "owner", "deadline"),
    Index("ix_console_cases_reward", "tenant", "reward_status"),
    Index("ix_console_cases_week", "week", "tenant"),
    # Covering indexes of the dashboard's figures and the queue's order: a range of them
    # is read without touching the (wide) rows, so 100,000 reports aggregate fast.
    Index(
        "ix_console_cases_figures", "tenant", "filed_at", "week", "category", "grade", "state", "reporter", "overdue",
        "escalation_step", "externally_escalated", "accept_due_at", "verify_due_at", "deadline", "accepted_at",
        "verified_at", "closed_at", "site", "area", "spot", "report_id",
    ),
    Index("ix_console_cases_paid", "reward_status", "tenant", "reward_paid_at", "reward_fen"),
    # The dashboard over a long period: the cases whose due times are ahead, and the medians, by seek.
    Index(
        "ix_console_cases_turning", "tenant", "turns_until", "week", "state", "overdue", "accept_due_at",
        "verify_due_at", "deadline", "accepted_at", "verified_at", "closed_at",
    ),
    Index("ix_console_cases_accept_seconds", "tenant", "accept_seconds", "filed_at"),
    Index("ix_console_cases_verify_seconds", "tenant", "verify_seconds", "filed_at"),
    Index("ix_console_cases_close_seconds", "tenant", "close_seconds", "filed_at"),
    # A place's or a reporter's reports within a period, by seek.
    Index("ix_console_cases_place", "tenant", "site", "area", "spot", "filed_at"),
    Index("ix_console_cases_reporter", "tenant", "reporter", "filed_at"),
    # A piece of equipment's earlier reports (similar cases), by seek.
    Index("ix_console_cases_equipment", "tenant", "equipment_tag", "filed_at"),
)

text_index = Table(
    "console_text_index",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("digest", String(16), primary_key=True),
    # A token of a report's description as its keyed digest (``similar.tokens``): never the word.
    Column("report_id", String(64), primary_key=True),
    Index("ix_console_text_index_report", "report_id"),
    info={NEEDS_TEXT_KEYS: True},
)
"""The blind index of descriptions: which reports hold each token, per subsidiary. Folded
from the sealed text, opened with the subsidiaries' keys; a report's rows go when its text
is erased."""

tallies = Table(
    "console_tallies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("week", String(10), primary_key=True),
    Column("measure", String(64), primary_key=True),
    # ``reports <category> <grade>``.
    Column("amount", Integer, nullable=False),
)
"""Each subsidiary's reports of a filing week by category and grade."""

WEEK_FIGURES = ["overdue", "escalated"] + [f"{clock}_{part}" for clock in ("accept", "verify", "close")
                                           for part in ("measured", "within", "late")]
week_figures = Table(
    "console_week_figures",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("week", String(10), primary_key=True),
    *(Column(name, Integer, nullable=False) for name in WEEK_FIGURES),
)
"""What each subsidiary's reports of a filing week add to the dashboard's other figures,
one row a week, so a step moving several of them changes one row (``tallies.measures``)."""

place_tallies = Table(
    "console_place_tallies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("site", String(80), primary_key=True),
    Column("area", String(80), primary_key=True),
    Column("spot", String(120), primary_key=True),
    Column("reports", Integer, nullable=False),
    Index("ix_console_place_tallies_reports", "tenant", "reports"),
)
"""Reports ever filed at each place: no period holds more, so a few places bound the rest."""

paid_tallies = Table(
    "console_paid_tallies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    # The UTC day the rewards were paid: whole days inside a year of any zone sum exactly.
    Column("fen", BigInteger, nullable=False),
    Column("rewards", Integer, nullable=False),
)
"""Rewards paid (granted and not revoked) per subsidiary and UTC day."""

reporters = Table(
    "console_reporters",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("reporter", String(40), primary_key=True),
    Column("first_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Index("ix_console_reporters_span", "tenant", "first_at", "last_at", "reporter"),
)
"""Each subsidiary's reporters and when they first and last filed: a period holding
either is theirs without looking further."""

sums_owed = Table(
    "console_sums_owed",
    metadata,
    Column("owed", Integer, primary_key=True),
)
"""One row while a replay from an empty store has left the tables of sums above to be
summed at its end from the cases' final rows: whoever finds it there sums them before
moving any of them."""

steps = Table(
    "console_steps",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),
    # The step's place in its report's history: a timeline in the log's own order.
    Column("type", String(40), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor", String(128)),
    Column("detail", Text),
    # What a person reads of the step (plain text the event carried: a comment, measures, a reason).
)

photos = Table(
    "console_photos",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("stage", String(12), nullable=False),
    # ``report`` (sent by the reporter) or ``rectified`` (the owner's evidence).
    Column("kind", String(8), nullable=False),
    Column("thumbnail", String(64)),
    Column("position", Integer, nullable=False),
)

policies = Table(
    "console_casework_policies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("policy", Text, nullable=False),
)
"""Each subsidiary's casework policy in force: the clocks a new report starts."""

budgets = Table(
    "console_budgets",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("amount_fen", BigInteger),
    Column("committed_fen", BigInteger, nullable=False),
)

check_tasks = Table(
    "console_check_tasks",
    metadata,
    Column("check_id", String(64), primary_key=True),
    Column("tenant", String(64), primary_key=True),
    # The subsidiary asked to check: each has a task of its own.
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("answer", String(16)),
    # None until answered: ``not_present`` or ``found``.
    Column("answered_at", UtcDateTime()),
    Column("overdue", Boolean, nullable=False),
    # Its deadline passed with no answer (until more time is granted).
    Index("ix_console_check_tasks_opened", "tenant", "opened_at"),
)
"""Each subsidiary's task of each check elsewhere: what the dashboard counts of checks."""

signal_decisions = Table(
    "console_signal_decisions",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("signal_id", String(64), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    # ``dismissed`` or ``confirmed``.
    Column("decided_at", UtcDateTime(), nullable=False),
    Index("ix_console_signal_decisions_decided", "tenant", "decided_at"),
)
"""Every reviewer's decision on a fraud signal."""

signals_raised = Table(
    "console_signals_raised",
    metadata,
    Column("signal_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("raised_at", UtcDateTime(), nullable=False),
    # When the rule first fired (the event's ``raised_at``).
    Index("ix_console_signals_raised_raised", "tenant", "raised_at"),
)
"""Every fraud signal rewards recorded as raised (``SignalRaised``, once per signal)."""

reward_policies = Table(
    "console_reward_policies",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("effective_from", UtcDateTime(), nullable=False),
    Column("set_at", UtcDateTime(), nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("name", String(80), nullable=False),
    Column("policy", Text, nullable=False),
    # The RewardPolicy as JSON: base amounts, factors, cap, routine-duty and duplicate percentages.
    Index("ix_console_reward_policies_tenant", "tenant", "effective_from"),
)
"""Every version of each subsidiary's reward policy, as set: the one in force and its history."""

checkpoint, dead_letters = bookkeeping_tables(metadata)

kept = MetaData()
"""Tables that are not folded from the log, so a rebuild of the projection keeps them."""

log_checks = Table(
    "console_log_checks",
    kept,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ran_at", UtcDateTime(), nullable=False),
    Column("ran_by", String(128), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("complete", Boolean, nullable=False),
    # False when the time allowed ran out first: ``checked_through`` says how far it got.
    Column("checked_through", BigInteger, nullable=False),
    Column("last_sequence", BigInteger, nullable=False),
    Column("intact", Boolean),
    Column("faults", Integer, nullable=False),
    Column("first_fault", Text),
    # JSON: sequence, kind, detail, and the tenant, aggregate and event type stored there.
    Column("seals", Integer, nullable=False),
    Column("sealed_through", BigInteger, nullable=False),
    Column("last_seal", Text),
    # JSON: the range the last seal covers and when it was sealed.
    Column("findings", Text, nullable=False),
    # JSON list of the reconciliation's exceptions: kind, tenant, report_id, sequence, detail.
)
"""What each check of the log found (the auditor's page shows the latest)."""
