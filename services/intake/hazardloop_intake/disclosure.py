"""Who may open a reporter's identity, and in which state of the report's reward.

The confidentiality officer may, for any report, with a recorded purpose: that is the
office's job (a retaliation complaint, an investigation, an erasure request). Finance
may only to pay a reward granted through payroll, where payroll must turn the
reporter's pseudonym into an employee; in any other state finance has no reason to
know who reported. Every look is recorded on the reporter's record before anyone reads
the identity. Pure: the caller reads the report's and the reward's history from the log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from hazardloop.errors import DomainError, NotFound
from hazardloop.events import (
    Event,
    IdentityDisclosed,
    PayoutChannel,
    ReportFiled,
    RewardApproved,
    RewardClaimed,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    SealedIdentity,
)
from hazardloop.log.eventstore import History
from hazardloop.web.auth import Role


class RewardState(StrEnum):
    NONE = "none"
    """No reward decided yet: filed, accepted or verified."""
    PROPOSED = "proposed"
    REFERRED = "referred"
    APPROVED = "approved"
    CLAIMED = "claimed"
    GRANTED_PAYROLL = "granted_payroll"
    GRANTED_VOUCHER = "granted_voucher"
    DECLINED = "declined"
    REVOKED = "revoked"


DISCLOSERS: dict[Role, frozenset[RewardState]] = {
    Role.CONFIDENTIALITY_OFFICER: frozenset(RewardState),
    Role.FINANCE: frozenset({RewardState.GRANTED_PAYROLL}),
}
"""The policy: each role that may disclose, and the reward states in which it may."""

_STEPS = {
    RewardProposed: RewardState.PROPOSED,
    RewardReferred: RewardState.REFERRED,
    RewardApproved: RewardState.APPROVED,
    RewardClaimed: RewardState.CLAIMED,
    RewardDeclined: RewardState.DECLINED,
    RewardRevoked: RewardState.REVOKED,
}


class DisclosureRefused(DomainError):
    """The policy does not let this role open the identity in the reward's present state."""

    status_code = 403


FINAL = frozenset({RewardState.DECLINED, RewardState.REVOKED})
"""A decline or a revocation is the reward's last word for disclosure: nothing recorded after
it (a grant, say, however it came into the log) lets finance open the identity again."""


def reward_state(history: History) -> RewardState:
    """Where the report's reward stands, from the reward aggregate's events."""
    state = RewardState.NONE
    for stored in history.events:
        event = stored.event
        if state in FINAL:
            break
        if isinstance(event, RewardGranted):
            state = RewardState.GRANTED_PAYROLL if event.channel is PayoutChannel.PAYROLL else RewardState.GRANTED_VOUCHER
        else:
            state = _STEPS.get(type(event), state)  # recognition changes nothing here
    return state


def disclosing_role(roles: frozenset[Role]) -> Role:
    """The role a disclosure is made in: the confidentiality officer's when a person holds both."""
    return next(role for role in DISCLOSERS if role in roles)


def check_disclosure(role: Role, reward: RewardState) -> None:
    if reward not in DISCLOSERS.get(role, frozenset()):
        raise DisclosureRefused(
            f"{role.value} may not open a reporter's identity here: finance only to pay a reward granted "
            "through payroll, the confidentiality officer for any report",
            state=reward.value,
        )


def identity_to_open(filed: ReportFiled | None, *, role: Role, reward: RewardState, tenant: str, report_id: str) -> SealedIdentity:
    """The sealed identity ``role`` may open now, or the reason it may not."""
    if filed is None:
        raise NotFound(f"no report {report_id!r} in {tenant}")
    check_disclosure(role, reward)
    if filed.identity is None:
        raise DomainError("the report was filed anonymously: there is no identity to disclose", state="anonymous")
    return filed.identity


def disclose(
    history: History, *, filed: ReportFiled, purpose: str, role: Role, actor: str, now: datetime
) -> list[Event]:
    """The look at the identity, recorded on its reporter's record: each look is one more."""
    return [
        IdentityDisclosed.record(
            prev_hash=history.last_hash, tenant=filed.tenant, aggregate_id=filed.reporter, actor=actor, occurred_at=now,
            report_id=filed.aggregate_id, purpose=purpose, role=role.value,
        )
    ]
