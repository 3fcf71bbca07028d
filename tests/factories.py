"""Builders of valid events and commands for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hazardloop.events import GENESIS_HASH, Location, ReportFiled, RewardPolicy, Verified
from hazardloop.log.eventstore import History, StoredEvent
from tests.waiting import wait_for

REPORTER = "p-" + "ab" * 16


def new_id() -> str:
    return str(uuid.uuid4())


def report_filed(tenant: str = "refinery", report_id: str | None = None, **overrides) -> ReportFiled:
    fields = {
        "category": "unsafe_equipment",
        "subtype": "safety_device_disabled_or_damaged",
        "description": "Gas detector alarm disabled",
        "location": Location(site="North", area="Unit 2", spot="AT-2031", place_id="at-2031", equipment_tag="AT-2031"),
        "observed_at": datetime.now(UTC) - timedelta(minutes=5),
        "reporter": REPORTER,
    } | overrides
    return ReportFiled.record(
        prev_hash=GENESIS_HASH, tenant=tenant, aggregate_id=report_id or new_id(), actor="reporter:x", **fields
    )


def verified(
    filed: ReportFiled, outcome: str = "confirmed_hazard", grade: str | None = "general", occurred_at: datetime | None = None
) -> Verified:
    return Verified.record(
        prev_hash=filed.hash,
        tenant=filed.tenant,
        aggregate_id=filed.aggregate_id,
        actor="verifier-1",
        occurred_at=occurred_at,
        outcome=outcome,
        grade=grade,
        risk_colour={"general": "yellow", "larger": "orange", "major": "red"}.get(grade),
        factors={} if grade else None,
    )


CATALOGUE = [
    {"place_id": "north", "kind": "site", "name": "North"},
    {"place_id": "pipe-rack", "kind": "area", "parent_id": "north", "name": "Pipe rack"},
    {"place_id": "bay-3", "kind": "spot", "parent_id": "pipe-rack", "name": "Bay 3", "equipment_tag": "PR-3"},
]
"""Places every test subsidiary has; ``report_body`` files at ``bay-3``."""


def seed_catalogue(intake, manager: dict[str, str], tenants: list[str]) -> None:
    """Post ``CATALOGUE`` into each subsidiary through intake's API and wait until it reads back."""
    for tenant in tenants:
        for place in CATALOGUE:
            intake.post("/catalogue/places", json={"tenant": tenant, **place}, headers=manager).raise_for_status()
    for tenant in tenants:
        wait_for(lambda t=tenant: len(intake.get("/catalogue", params={"tenant": t}, headers=manager).json()) == len(CATALOGUE))


def report_body(tenant: str = "refinery", **overrides) -> dict:
    return {
        "tenant": tenant,
        "category": "unsafe_behaviour",
        "subtype": "no_protective_equipment",
        "description": "Worker at height without harness",
        "place_id": "bay-3",
        "observed_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    } | overrides


def paid_report():
    """A report's whole healthy trail: filed, verified, proposed, committed, approved, paid."""
    from hazardloop_rewards.domain import (  # a service's domain, for its tests only
        Budget,
        Reward,
        decide_on_verification,
    )

    when, someone = datetime(2026, 6, 1, tzinfo=UTC), "p-" + "cd" * 16
    filed = report_filed()
    check = verified(filed, "confirmed_hazard", "larger")
    proposal = decide_on_verification(check, filed, RewardPolicy(), policy_effective_from=None)
    budget = Budget(filed.tenant, 2026)
    reward = Reward.from_history(filed.tenant, filed.aggregate_id, History((StoredEvent(1, proposal),)))
    [approval] = reward.approve(amount_fen=None, reason=None, actor="head-liu", pseudonym=someone, now=when, budget=budget)
    commitment = budget.commit(filed.aggregate_id, approval.amount_fen, actor="head-liu", now=when)
    [grant] = reward.pay(reference="PAY-1", voucher_digest=None, actor="finance-zhao", pseudonym=someone, now=when)
    return filed, check, proposal, commitment, approval, grant
