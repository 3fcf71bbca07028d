"""The reward pages' questions to the console's store: rewards at a step, paged; the
budgets of the year; each subsidiary's reward policy versions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, select

from hazardloop.events import RewardPolicy
from hazardloop_console.store import budgets, cases, reward_policies, steps


def at_step(engine: Engine, tenants: list[str], status: str, page: int, size: int) -> tuple[list[dict[str, Any]], bool]:
    """A page of the rewards at ``status`` in ``tenants``, oldest first (first come, first decided),
    and whether another page follows. Each carries its breakdown and the last comment on it."""
    query = (
        select(cases)
        .where(cases.c.tenant.in_(tenants), cases.c.reward_status == status)
        .order_by(cases.c.updated_at, cases.c.report_id)
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    with engine.connect() as db:
        rows = [dict(row._mapping) for row in db.execute(query)]
        for row in rows[:size]:
            row["breakdown"] = json.loads(row["reward_breakdown"] or "[]")
            last = db.execute(
                select(steps.c.detail, steps.c.actor)
                .where(steps.c.report_id == row["report_id"], steps.c.type == "RewardReferred")
                .order_by(steps.c.position.desc()).limit(1)
            ).first()
            row["referral_comment"] = last.detail if last else None
            row["referred_by"] = last.actor if last else None
    return rows[:size], len(rows) > size


def budgets_of(engine: Engine, tenants: list[str], years: list[int]) -> list[dict[str, Any]]:
    """Each subsidiary's budget for each of ``years`` (those with none set show none), with what is left."""
    with engine.connect() as db:
        found = {(r.tenant, r.year): r for r in db.execute(select(budgets).where(budgets.c.tenant.in_(tenants)))}
    years = sorted({*years, *(year for _, year in found)}, reverse=True)
    rows = []
    for year in years:
        for tenant in tenants:
            row = found.get((tenant, year))
            amount, committed = (row.amount_fen, row.committed_fen) if row else (None, 0)
            if row is None and year != years[0]:
                continue
            rows.append({"tenant": tenant, "year": year, "amount_fen": amount, "committed_fen": committed,
                         "remaining_fen": None if amount is None else amount - committed})
    return rows


def policy_versions(engine: Engine, tenant: str, now: datetime) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """The version in force now (None: the defaults), those to come, and the earlier ones (newest first).

    Of versions with the same start, the one set last is in force, as rewards decides.
    """
    with engine.connect() as db:
        rows = db.execute(
            select(reward_policies).where(reward_policies.c.tenant == tenant)
            .order_by(reward_policies.c.effective_from, reward_policies.c.set_at)
        ).all()
    versions = [{**row._mapping, "policy": RewardPolicy.model_validate_json(row.policy)} for row in rows]
    started = [v for v in versions if v["effective_from"] <= now]
    upcoming = [v for v in versions if v["effective_from"] > now]
    current = started[-1] if started else None
    return current, upcoming, list(reversed(started[:-1]))


def one_reward(engine: Engine, report_id: str) -> dict[str, Any] | None:
    with engine.connect() as db:
        row = db.execute(select(cases).where(and_(cases.c.report_id == report_id, cases.c.reward_status.is_not(None)))).first()
    return dict(row._mapping) if row else None
