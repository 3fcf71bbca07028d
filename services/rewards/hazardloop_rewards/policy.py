"""The policy engine: a verified report and the policy in force give an amount, line by line.

Pure integer arithmetic in fen. Each multiplier rounds half up to the fen at its own
step, so the breakdown a department head reads adds up exactly to the amount proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from hazardloop.events import BreakdownLine, Grade, Outcome, RewardFactors, RewardPolicy, RewardPolicySet

FACTORS = ("at_height", "outside_patrol_area", "high_risk", "at_night", "bad_weather", "hard_to_handle")
FACTOR_LABELS = {
    "at_height": "work at height",
    "outside_patrol_area": "outside the reporter's patrol area",
    "high_risk": "high risk",
    "at_night": "at night",
    "bad_weather": "in bad weather",
    "hard_to_handle": "hard to handle",
}


class Precedence(StrEnum):
    """Where a report stands among the reports of the same hazard."""

    ONLY = "only"
    FIRST = "first"
    LATER = "later"


def percent(amount: int, pct: int) -> int:
    """``amount`` × ``pct`` / 100, rounded half up to the fen."""
    return (amount * pct + 50) // 100


def in_force(history: Sequence[RewardPolicySet], at) -> RewardPolicySet | None:
    """The policy in force at ``at``: the latest effective on or before it (then the latest set)."""
    effective = [p for p in history if p.effective_from <= at]
    return max(reversed(effective), key=lambda p: p.effective_from, default=None)  # on a tie, max keeps the first: the latest set


def reward_amount(
    policy: RewardPolicy,
    *,
    outcome: Outcome,
    grade: Grade | None,
    factors: RewardFactors | None,
    within_routine_duties: bool,
    precedence: Precedence = Precedence.ONLY,
) -> tuple[int, tuple[BreakdownLine, ...]]:
    """The amount due, capped at the policy's cap, and the lines that produced it."""
    outcome, grade = Outcome(outcome), Grade(grade) if grade else None
    lines: list[BreakdownLine] = []

    def step(rule: str, detail: str, amount: int) -> int:
        lines.append(BreakdownLine(rule=rule, detail=detail, amount_fen=amount))
        return amount

    if outcome == Outcome.VALID_NOT_HAZARD:
        amount = step("base", "a valid safety issue, not a hazard", policy.base.valid_not_hazard)
    elif outcome == Outcome.CONFIRMED_HAZARD and grade is not None:
        amount = step("base", f"a confirmed {grade.value} hazard", getattr(policy.base, grade.value))
        for name in FACTORS:
            if factors is not None and getattr(factors, name):
                rule = getattr(policy.factors, name)
                detail = f"{FACTOR_LABELS[name]}: ×{rule.multiplier_percent}%" + (f" + {rule.bonus_fen} fen" if rule.bonus_fen else "")
                amount = step(name, detail, percent(amount, rule.multiplier_percent) + rule.bonus_fen)
    else:
        raise ValueError(f"no reward is due for a report verified as {outcome.value}")
    if within_routine_duties:
        amount = step("routine_duty", f"within the reporter's routine duties: {policy.routine_duty_percent}%", percent(amount, policy.routine_duty_percent))
    if precedence == Precedence.LATER:
        amount = step("duplicate", f"a later report of a hazard already reported: {policy.duplicate_percent}%", percent(amount, policy.duplicate_percent))
    if amount > policy.cap_fen:
        amount = step("cap", f"capped at {policy.cap_fen} fen (more needs group HQ)", policy.cap_fen)
    return amount, tuple(lines)
