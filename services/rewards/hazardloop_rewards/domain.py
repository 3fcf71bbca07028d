"""Reward policy: small hazard, small reward; big hazard, big reward. Amounts in fen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from hazardloop.events import Fen, Grade, Outcome, RewardDeclined, RewardGranted, Verified, GENESIS_HASH


class GradeTable(BaseModel):
    """Reward per verification outcome and hazard grade, in integer fen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "grade-table-v1"
    valid_not_hazard: Fen = 2_000
    general: Fen = 10_000
    larger: Fen = 50_000
    major: Fen = 200_000

    def amount(self, outcome: Outcome, grade: Grade | None) -> int | None:
        """The reward due, or None when nothing is due."""
        if outcome == Outcome.VALID_NOT_HAZARD:
            return self.valid_not_hazard
        if outcome == Outcome.CONFIRMED_HAZARD and grade is not None:
            return getattr(self, grade.value)
        return None


def decide_reward(verified: Verified, *, reporter: str, table: GradeTable) -> RewardGranted | RewardDeclined:
    """The one reward decision for a verified report, with an id derived from the verification."""
    common = {
        "prev_hash": GENESIS_HASH,
        "tenant": verified.tenant,
        "aggregate_id": verified.aggregate_id,
        "actor": "policy:rewards",
        "event_id": verified.derived_id("reward-decision"),
        "report_id": verified.aggregate_id,
        "reporter": reporter,
        **verified.caused(),
    }
    amount = table.amount(verified.outcome, verified.grade)
    if amount is None:
        return RewardDeclined.record(**common, reason=f"verification outcome: {verified.outcome.value}")
    return RewardGranted.record(
        **common, amount_fen=amount, outcome=verified.outcome, grade=verified.grade, policy=table.name
    )
