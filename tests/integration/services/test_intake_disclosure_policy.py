"""Identity disclosure against the policy, on a real broker: every role, every state of a report.

Reports are filed through intake; the casework and reward events that verification and
rewards would append are appended to the same log, so intake decides on the log as it
stands in each state.
"""

from __future__ import annotations

import asyncio

import nats
import pytest

from hazardloop.events import (
    Accepted,
    RecognitionConsented,
    RewardApproved,
    RewardClaimed,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
)
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from tests.factories import report_body, verified

AMOUNT = 20_000
VERIFIED = ["verified"]
PROPOSED = [*VERIFIED, "proposed"]
APPROVED = [*PROPOSED, "approved"]
PAID = [*APPROVED, "granted via payroll"]
STATES: dict[str, list[str]] = {
    "filed": [],
    "accepted": ["accepted"],
    "verified": VERIFIED,
    "reward proposed": PROPOSED,
    "reward referred to group HQ": [*PROPOSED, "referred"],
    "reward approved": APPROVED,
    "reward claimed": [*APPROVED, "claimed"],
    "reward granted via payroll": PAID,
    "reward granted via payroll, reporter named on the notice": [*PAID, "named"],
    "reward granted via voucher": [*APPROVED, "claimed", "granted via voucher"],
    "reward declined": [*VERIFIED, "declined"],
    "reward revoked after payroll": [*PAID, "revoked"],
    "reward revoked after payroll, reporter named on the notice since": [*PAID, "revoked", "named"],
    "reward declined after approval": [*APPROVED, "declined"],
    "reward declined after a payroll grant": [*PAID, "declined"],
    "reward declined, then granted via payroll": [*VERIFIED, "declined", "proposed", "approved", "granted via payroll"],
    "reward revoked, then granted via payroll again": [*PAID, "revoked", "approved", "granted via payroll"],
}
"""Each state of a report, as the steps that lead to it."""

PAID_THROUGH_PAYROLL = {"reward granted via payroll", "reward granted via payroll, reporter named on the notice"}
"""The states in which finance may: a reward granted through payroll, never declined or revoked
(in whatever order the log holds them)."""


def allowed(role: Role, state: str) -> bool:
    """The policy as README states it."""
    return role is Role.CONFIDENTIALITY_OFFICER or (role is Role.FINANCE and state in PAID_THROUGH_PAYROLL)


def reward_step(step: str, report_id: str, reporter: str) -> tuple[type, dict]:
    common = {"report_id": report_id, "reporter": reporter}
    granted = common | {
        "amount_fen": AMOUNT, "outcome": "confirmed_hazard", "grade": "general", "policy": "default",
        "payment_reference": "PAY-2026-11-001", "approved_by": "head-liu",
    }
    return {
        "proposed": (RewardProposed, common | {
            "proposer": "safety-li", "outcome": "confirmed_hazard", "grade": "general", "amount_fen": AMOUNT, "breakdown": (),
            "policy": "default", "cap_fen": 10 * AMOUNT,
        }),
        "referred": (RewardReferred, {"amount_fen": AMOUNT, "reason": "above_cap"}),
        "approved": (RewardApproved, {"amount_fen": AMOUNT, "proposed_fen": AMOUNT, "budget_year": 2026}),
        "claimed": (RewardClaimed, {"voucher_digest": "c" * 64}),
        "granted via payroll": (RewardGranted, granted | {"channel": "payroll"}),
        "granted via voucher": (RewardGranted, granted | {"channel": "voucher"}),
        "named": (RecognitionConsented, {"display_name": "Zhang"}),
        "declined": (RewardDeclined, common | {"reason": "not a hazard"}),
        "revoked": (RewardRevoked, common | {"amount_fen": AMOUNT, "reason": "proven fraud"}),
    }[step]


def bring_to(harness, report_id: str, steps: list[str]) -> None:
    """Append the steps' events as verification and rewards would, each guarded on its aggregate."""

    async def run() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
            report = await store.load("refinery", "report", report_id)
            filed = report.events[0].event
            reward = await store.load("refinery", "reward", report_id)
            version, last_hash = reward.version, reward.last_hash
            for step in steps:
                if step == "accepted":
                    event = Accepted.record(prev_hash=filed.hash, tenant="refinery", aggregate_id=report_id, actor="safety-li")
                    await store.append(event, expected_version=report.version)
                elif step == "verified":
                    await store.append(verified(filed), expected_version=report.version)
                else:
                    kind, payload = reward_step(step, report_id, filed.reporter)
                    event = kind.record(prev_hash=last_hash, tenant="refinery", aggregate_id=report_id, actor="rewards", **payload)
                    version, last_hash = (await store.append(event, expected_version=version)).sequence, event.hash
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture
def intake(harness):
    return harness.start("intake")


def test_every_role_against_every_state_of_a_report(harness, intake):
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    reports = {}
    for state, steps in STATES.items():
        body = report_body(channel="hotline", reporter={"employee_number": "E-77123", "name": "Zhang Xiaoming", "phone": "+86 139 1234 5678"})
        filed = intake.post("/reports", json=body, headers=officer)
        assert filed.status_code == 201, filed.text
        reports[state] = filed.json()["report_id"]
        bring_to(harness, reports[state], steps)

    answers, expected = {}, {}
    for state, report_id in reports.items():
        for role in Role:
            before = len(harness.raw_log("reporter"))
            response = intake.post(
                f"/reports/{report_id}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
                headers=harness.headers(f"{role.value}-1", roles=[role]),
            )
            recorded = len(harness.raw_log("reporter")) - before
            answers[state, role.value] = (response.status_code, recorded)
            expected[state, role.value] = (200, 1) if allowed(role, state) else (403, 0)
            if response.status_code == 200:
                assert response.json()["identity"]["employee_number"] == "E-77123"
            elif role in (Role.FINANCE, Role.CONFIDENTIALITY_OFFICER):
                assert response.json()["state"], response.text  # a refused discloser is told the reward's state
    assert answers == expected
