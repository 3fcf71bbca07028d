"""The hazard ledger of a subsidiary and period, folded from the log alone.

One row per report filed in the period: when and where it was reported, what was
seen, how it was graded, what was done by when, when it was closed, and the reward.
Times are shown in the subsidiary's own time zone (its casework policy's), since the
ledger is the subsidiary's document; the reporter appears only as a pseudonym.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hazardloop.events import (
    CaseworkPolicy,
    CaseworkPolicySet,
    Event,
    ExtensionGranted,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReportFiled,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    Verified,
)
from hazardloop.privacy.sealing import text_token

LEDGER_TYPES = tuple(kind.model_fields["type"].default for kind in (
    CaseworkPolicySet, ReportFiled, Verified, RectificationAssigned, ExtensionGranted, Rectified, RectificationRejected,
    RectificationAccepted, RectificationOverdue, RewardProposed, RewardReferred, RewardApproved, RewardGranted,
    RewardDeclined, RewardRevoked,
))  # fmt: skip
"""The event types the ledger reads."""

_STATUS_BY_VERDICT = {Outcome.VALID_NOT_HAZARD: "closed", Outcome.NOT_CONFIRMED: "not_confirmed", Outcome.DUPLICATE: "duplicate"}


@dataclass
class LedgerRow:
    report_id: str
    reported_at: datetime
    site: str
    area: str
    spot: str
    equipment_tag: str | None
    category: str
    subtype: str
    situation: str
    """Sealed (``hazardloop.privacy.sealing``) as the log has it: whoever shows it opens it, or withholds it."""
    reporter: str
    outcome: str | None = None
    grade: str | None = None
    risk_colour: str | None = None
    status: str = "filed"
    owner: str | None = None
    measures: str | None = None
    deadline: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None
    reward_fen: int | None = None
    reward_status: str | None = None
    """A code of ``hazardloop.web.labels.REWARD_STATUSES``, as ``status`` is one of its ``CASE_STATUSES``."""
    reward_decided_at: datetime | None = None
    """When the reward was approved or declined."""
    reward_paid_at: datetime | None = None
    payout_channel: str | None = None
    payment_reference: str | None = None

    @property
    def reward_yuan(self) -> Decimal | None:
        return None if self.reward_fen is None else Decimal(self.reward_fen) / 100


@dataclass
class Ledger:
    tenant: str
    timezone: str
    rows: list[LedgerRow] = field(default_factory=list)
    through_sequence: int = 0
    """The last log sequence read: the ledger is the state as of then."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def build_ledger(
    log: Iterable[tuple[int, Event]], tenant: str, *, since: datetime | None = None, until: datetime | None = None
) -> Ledger:
    """Fold the log into the ledger of reports filed in ``[since, until)`` in ``tenant``."""
    rows: dict[str, LedgerRow] = {}
    policy, last = CaseworkPolicy(), 0
    for sequence, event in log:
        last = sequence
        if event.tenant != tenant:
            continue
        if isinstance(event, CaseworkPolicySet):
            policy = event.policy
            continue
        if isinstance(event, ReportFiled):
            where = event.location
            rows[event.aggregate_id] = LedgerRow(
                event.aggregate_id, event.occurred_at, where.site, where.area, where.spot, where.equipment_tag,
                event.category.value, event.subtype, text_token(event.tenant, event.description), event.reporter,
            )
            continue
        row = rows.get(getattr(event, "report_id", None) or event.aggregate_id)
        if row is not None:
            _apply(row, event)
    chosen = [row for row in rows.values() if (since is None or row.reported_at >= since) and (until is None or row.reported_at < until)]
    chosen.sort(key=lambda row: (row.reported_at, row.report_id))
    return Ledger(tenant, policy.timezone, chosen, last)


def _apply(row: LedgerRow, event: Event) -> None:  # noqa: C901 - one case per event type reads best flat
    match event:
        case Verified():
            row.outcome, row.grade = event.outcome.value, event.grade.value if event.grade else None
            row.risk_colour = event.risk_colour.value if event.risk_colour else None
            row.status = _STATUS_BY_VERDICT.get(event.outcome, "verified")
            if event.outcome == Outcome.VALID_NOT_HAZARD:
                row.closed_at = event.occurred_at
        case RectificationAssigned():
            row.owner, row.deadline, row.status = event.owner, event.deadline, "rectifying"
            if event.plan is not None:
                row.measures = event.plan.measures
        case ExtensionGranted():
            row.deadline = event.deadline
        case RectificationOverdue():
            if row.closed_at is None:
                row.status = "overdue"
        case Rectified():
            row.measures, row.rectified_at = event.measures, event.occurred_at
            row.status = "closed" if event.on_the_spot else "under_review"
            if event.on_the_spot:
                row.closed_at = event.occurred_at
        case RectificationRejected():
            row.rectified_at, row.status = None, "rectifying"
        case RectificationAccepted():
            row.closed_at, row.status = event.occurred_at, "closed"
        case RewardProposed():
            row.reward_fen, row.reward_status = event.amount_fen, "proposed"
        case RewardReferred():
            row.reward_fen, row.reward_status = event.amount_fen, "referred"
        case RewardApproved():
            row.reward_fen, row.reward_status, row.reward_decided_at = event.amount_fen, "approved", event.occurred_at
        case RewardGranted():
            row.reward_fen, row.reward_status, row.reward_paid_at = event.amount_fen, "granted", event.occurred_at
            row.payout_channel, row.payment_reference = event.channel.value, event.payment_reference
        case RewardDeclined():
            row.reward_fen, row.reward_status, row.reward_decided_at = 0, "declined", event.occurred_at
        case RewardRevoked():
            row.reward_status = "revoked"
