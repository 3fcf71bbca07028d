"""Reconciliation from the log alone: no reward paid wrongly, none missed.

Pure over the stored events, so an auditor's archive or a live stream give the same
answer; on a healthy system every check finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from hazardloop.events import (
    GENESIS_HASH,
    BudgetCommitted,
    BudgetReleased,
    Event,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    Verified,
)

REWARD_TYPES = ("Verified", "RewardProposed", "RewardDeclined", "RewardApproved", "RewardGranted", "BudgetCommitted", "BudgetReleased")
"""The event types the reward checks read."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    tenant: str
    report_id: str
    sequence: int
    """Where in the log to look."""
    detail: str


@dataclass
class _Trail:
    """One report's reward-relevant events."""

    verified: int | None = None
    decisions: list[int] = field(default_factory=list)
    declined: int | None = None
    approved: tuple[int, RewardApproved] | None = None
    grants: list[tuple[int, RewardGranted]] = field(default_factory=list)
    commitment: tuple[int, BudgetCommitted] | None = None


def reconcile_rewards(log: Iterable[tuple[int, Event]]) -> list[Finding]:
    """Every verified report without a reward decision, or with two; every report paid
    twice, or paid and declined; every payment without an approval, or of another amount; every budget commitment without
    an approval, and every approval that took nothing from the budget."""
    trails: dict[tuple[str, str], _Trail] = defaultdict(_Trail)
    for sequence, event in log:
        match event:
            case Verified():
                trails[(event.tenant, event.aggregate_id)].verified = sequence
            case RewardProposed() | RewardDeclined():
                trail = trails[(event.tenant, event.report_id)]
                if event.prev_hash == GENESIS_HASH:  # the reward's first event: the decision on the verification
                    trail.decisions.append(sequence)
                if isinstance(event, RewardDeclined):
                    trail.declined = sequence
            case RewardApproved():
                trails[(event.tenant, event.aggregate_id)].approved = (sequence, event)
            case RewardGranted():
                trails[(event.tenant, event.report_id)].grants.append((sequence, event))
            case BudgetCommitted():
                trails[(event.tenant, event.report_id)].commitment = (sequence, event)
            case BudgetReleased():
                trails[(event.tenant, event.report_id)].commitment = None
    findings: list[Finding] = []
    for (tenant, report_id), trail in sorted(trails.items()):
        for kind, sequence, detail in _anomalies(trail):
            findings.append(Finding(kind, tenant, report_id, sequence, detail))
    return findings


def _anomalies(trail: _Trail) -> Iterable[tuple[str, int, str]]:
    if trail.verified is not None and not trail.decisions:
        yield "verified, no reward decision", trail.verified, "no RewardProposed or RewardDeclined"
    if len(trail.decisions) > 1:
        yield "decided twice", trail.decisions[1], f"{len(trail.decisions)} reward decisions on one verification"
    if trail.declined is not None and trail.grants:
        yield "paid and declined", trail.grants[0][0], f"declined at sequence {trail.declined}, yet paid"
    if len(trail.grants) > 1:
        references = ", ".join(grant.payment_reference for _, grant in trail.grants)
        yield "paid twice", trail.grants[1][0], f"{len(trail.grants)} payments: {references}"
    for sequence, grant in trail.grants:
        if trail.approved is None:
            yield "paid without approval", sequence, f"{grant.amount_fen} fen, reference {grant.payment_reference}"
        elif grant.amount_fen != trail.approved[1].amount_fen:
            yield "paid another amount", sequence, f"paid {grant.amount_fen} fen, approved {trail.approved[1].amount_fen} fen"
    if trail.commitment is not None and trail.approved is None:
        yield "budget taken, no approval", trail.commitment[0], f"{trail.commitment[1].amount_fen} fen committed"
    if trail.approved is not None and trail.commitment is None:
        yield "approved outside the budget", trail.approved[0], f"{trail.approved[1].amount_fen} fen approved, none committed"
    elif trail.approved is not None and trail.commitment[1].amount_fen != trail.approved[1].amount_fen:
        yield "budget and approval differ", trail.commitment[0], f"committed {trail.commitment[1].amount_fen}, approved {trail.approved[1].amount_fen} fen"
