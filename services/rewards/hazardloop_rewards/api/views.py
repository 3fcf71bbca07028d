"""Rewards' read routes: rewards and their breakdowns, totals, the policy and budget of each
subsidiary, recognition (leaderboard, public notices) and the payroll export."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel
from sqlalchemy import Select, and_, func, select

from hazardloop.events import BreakdownLine, RewardPolicy, TenantId
from hazardloop.exports.spreadsheet import spreadsheet_safe
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.web.validation import IdInPath
from hazardloop_rewards.api.signals import SIGNAL_READERS, signals_for
from hazardloop_rewards.domain import Stage
from hazardloop_rewards.signals.shown import SignalView
from hazardloop_rewards.store import budgets, policies, reports, rewards

routes = APIRouter(tags=["rewards: views"])

Reader = Annotated[Principal, Depends(require(Role.FINANCE, Role.MANAGER, Role.LEADER, Role.AUDITOR, Role.VERIFIER))]
Period = Annotated[str, Query(pattern=r"^2[01]\d{2}(-(0[1-9]|1[0-2]))?$", description="A year (2026) or a month (2026-11) of the group's local time (HAZARDLOOP_TIMEZONE).")]


class RewardView(BaseModel):
    report_id: str
    tenant: str
    reporter: str
    anonymous: bool
    status: Stage
    outcome: str | None
    grade: str | None
    proposer: str | None
    proposed_fen: int
    amount_fen: int
    breakdown: list[BreakdownLine]
    policy: str | None
    cap_fen: int | None
    first_report_id: str | None
    referred_for: str | None
    approver: str | None
    approval_level: str | None
    claimed: bool
    payer: str | None
    payment_reference: str | None
    channel: str | None
    reason: str | None
    proposed_at: datetime | None
    decided_at: datetime
    paid_at: datetime | None
    revoked_at: datetime | None
    signals: list[SignalView] = []
    """Fraud signals on this report and its reporter, for those who decide or audit rewards
    (open and confirmed ones): shown beside the reward, never deciding it."""


class Totals(BaseModel):
    tenant: str
    proposed: int
    approved: int
    granted: int
    declined: int
    amount_fen: int
    """Paid, less revoked."""


def _view(row: Any) -> RewardView:
    values = dict(row._mapping)
    values["breakdown"] = json.loads(values["breakdown"] or "[]")
    return RewardView.model_validate(values)


@routes.get("/rewards", response_model=list[RewardView])
async def list_rewards(
    runtime: RuntimeDep,
    principal: Reader,
    tenant: Annotated[TenantId, Query()],
    status_: Annotated[Stage | None, Query(alias="status", description="Only rewards at this step (proposed: awaiting approval).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RewardView]:
    """Rewards of a subsidiary, newest decision first."""
    check_tenant(principal, tenant)
    query = select(rewards).where(rewards.c.tenant == tenant)
    if status_ is not None:
        query = query.where(rewards.c.status == status_.value)

    def read() -> list[dict[str, Any]]:
        with runtime.engine.connect() as db:
            return [_view(row).model_dump() for row in db.execute(query.order_by(rewards.c.decided_at.desc(), rewards.c.report_id).limit(limit))]

    return [RewardView.model_validate(view) for view in await runtime.texts.reveal(await asyncio.to_thread(read))]


@routes.get("/rewards/totals", response_model=Totals)
def totals(runtime: RuntimeDep, principal: Reader, tenant: Annotated[TenantId, Query()]) -> Totals:
    check_tenant(principal, tenant)
    counts = {s: func.count().filter(rewards.c.status == s.value) for s in (Stage.PROPOSED, Stage.APPROVED, Stage.GRANTED, Stage.DECLINED)}
    paid = func.coalesce(func.sum(rewards.c.amount_fen).filter(rewards.c.status == Stage.GRANTED.value), 0)
    with runtime.engine.connect() as db:
        row = db.execute(select(*counts.values(), paid).where(rewards.c.tenant == tenant)).one()
    return Totals(tenant=tenant, proposed=row[0], approved=row[1], granted=row[2], declined=row[3], amount_fen=int(row[4]))


@routes.get("/rewards/{report_id}", response_model=RewardView)
async def read(report_id: IdInPath, runtime: RuntimeDep, principal: Reader) -> RewardView:
    """One report's reward, with the policy's line-by-line breakdown."""

    def found() -> Any:
        with runtime.engine.connect() as db:
            return db.execute(select(rewards).where(rewards.c.report_id == report_id)).first()

    row = await asyncio.to_thread(found)
    if row is None or not principal.may_access(row.tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no reward for report {report_id!r}")
    view = await runtime.texts.reveal_model(_view(row))
    if principal.has_any(SIGNAL_READERS):
        signals = await signals_for(runtime, row.tenant, [report_id], [row.reporter])
        view = view.model_copy(update={"signals": [s for s in signals if s.status != "dismissed"]})
    return view


# --- policy and budget ---------------------------------------------------------------------


class PolicyInForce(BaseModel):
    tenant: str
    effective_from: datetime | None
    policy: RewardPolicy
    upcoming: list[dict[str, Any]] = []


@routes.get("/policy", response_model=PolicyInForce)
def policy(runtime: RuntimeDep, principal: Reader, tenant: Annotated[TenantId, Query()]) -> PolicyInForce:
    """The reward policy in force now (the defaults until one is set), and any set to come."""
    check_tenant(principal, tenant)
    now = datetime.now(UTC)
    with runtime.engine.connect() as db:
        rows = db.execute(select(policies).where(policies.c.tenant == tenant).order_by(policies.c.effective_from)).all()
    current = [r for r in rows if r.effective_from <= now]
    upcoming = [{"effective_from": r.effective_from, "policy": json.loads(r.policy)} for r in rows if r.effective_from > now]
    if not current:
        return PolicyInForce(tenant=tenant, effective_from=None, policy=RewardPolicy(), upcoming=upcoming)
    return PolicyInForce(tenant=tenant, effective_from=current[-1].effective_from, policy=RewardPolicy.model_validate_json(current[-1].policy), upcoming=upcoming)


class BudgetView(BaseModel):
    tenant: str
    year: int
    amount_fen: int | None
    committed_fen: int
    paid_fen: int
    remaining_fen: int | None


@routes.get("/budgets", response_model=BudgetView)
def budget(runtime: RuntimeDep, principal: Reader, tenant: Annotated[TenantId, Query()], year: Annotated[int, Query(ge=2000, le=2200)]) -> BudgetView:
    """The year's budget: set, committed by approvals, paid, and what is left."""
    check_tenant(principal, tenant)
    return budget_of(runtime, tenant, year)


def budget_of(runtime: Runtime, tenant: str, year: int) -> BudgetView:
    """The year's budget as the read model has it."""
    with runtime.engine.connect() as db:
        row = db.execute(select(budgets).where(and_(budgets.c.tenant == tenant, budgets.c.year == year))).first()
    amount, committed, paid = (row.amount_fen, row.committed_fen, row.paid_fen) if row else (None, 0, 0)
    remaining = None if amount is None else amount - committed
    return BudgetView(tenant=tenant, year=year, amount_fen=amount, committed_fen=committed, paid_fen=paid, remaining_fen=remaining)


# --- recognition and payroll ---------------------------------------------------------------


def _paid_in(query: Select, period: str, timezone: str) -> Select:
    """Rewards paid in the period, a year or a month of the group's local time."""
    year, _, month = period.partition("-")
    zone = ZoneInfo(timezone)
    start = datetime(int(year), int(month or 1), 1, tzinfo=zone)
    end = datetime(int(year) + (not month or int(month) == 12), (int(month) % 12 + 1) if month else 1, 1, tzinfo=zone)
    return query.where(rewards.c.status == Stage.GRANTED.value, rewards.c.paid_at >= start, rewards.c.paid_at < end)


class Standing(BaseModel):
    name: str
    rewarded_reports: int
    amount_fen: int


READERS = frozenset({Role.FINANCE, Role.MANAGER, Role.LEADER, Role.AUDITOR, Role.VERIFIER})
"""Who may rank reporters by pseudonym: staff who handle rewards and see pseudonyms anyway."""


@routes.get("/leaderboard", response_model=list[Standing])
def leaderboard(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    tenant: Annotated[TenantId, Query()],
    period: Period,
    by: Annotated[
        Literal["team", "area", "reporter"],
        Query(description="The reporters' teams, the workshops or units where hazards were found, or reporters (pseudonyms: staff only)."),
    ] = "team",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Standing]:
    """Who reports well, by rewarded reports in the period: teams, workshops, or reporters by pseudonym.

    Ranking reporters is for staff who handle rewards: shown to everyone, a pseudonym's
    count and amount would match a named notice entry and give the name its other rewards.
    """
    check_tenant(principal, tenant)
    if by == "reporter" and not principal.has_any(READERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="by: ranking reporters is for staff who handle rewards; rank by team or area")
    key = {"team": func.coalesce(reports.c.team, "(no team given)"), "area": reports.c.area, "reporter": rewards.c.reporter}[by]
    query = (
        select(key.label("name"), func.count().label("rewarded_reports"), func.sum(rewards.c.amount_fen).label("amount_fen"))
        .join(reports, reports.c.report_id == rewards.c.report_id)
        .where(rewards.c.tenant == tenant)
        .group_by(key)
        .order_by(func.count().desc(), func.sum(rewards.c.amount_fen).desc(), key)
        .limit(limit)
    )
    with runtime.engine.connect() as db:
        return [Standing.model_validate(row._mapping) for row in db.execute(_paid_in(query, period, runtime.settings.timezone))]


def notice_reference(report_id: str) -> str:
    """An entry's own reference on the public notice: one-way from its report, so it names
    that entry alone (its reporter, who knows the report, can find it) and joins nothing."""
    return "N-" + hashlib.sha256(f"notice\x1f{report_id}".encode()).hexdigest()[:10].upper()


class Notice(BaseModel):
    reference: str
    """This entry's reference, unrelated to any other entry's."""
    paid_at: datetime
    place: str
    grade: str | None
    amount_fen: int
    named: str | None
    """The name the reporter consented to be shown by on this entry; else nobody is named."""


@routes.get("/notices", response_model=list[Notice])
async def notices(
    runtime: RuntimeDep, principal: Annotated[Principal, Depends(authenticated)], tenant: Annotated[TenantId, Query()], period: Period
) -> list[Notice]:
    """The public notice of rewarded reports: anyone in the subsidiary may read it.

    No entry carries the reporter's pseudonym or report: a reporter who consents to be
    named on one entry is named there alone, and nothing joins it to their other entries.
    """
    check_tenant(principal, tenant)
    query = (
        select(rewards.c.report_id, rewards.c.paid_at, reports.c.site, reports.c.area, rewards.c.grade, rewards.c.amount_fen, rewards.c.display_name)
        .join(reports, reports.c.report_id == rewards.c.report_id)
        .where(rewards.c.tenant == tenant)
        .order_by(rewards.c.paid_at.desc(), rewards.c.report_id)
    )

    def read() -> list[dict[str, Any]]:
        with runtime.engine.connect() as db:
            return [
                Notice(
                    reference=notice_reference(r.report_id), paid_at=r.paid_at, place=f"{r.site} / {r.area}", grade=r.grade,
                    amount_fen=r.amount_fen, named=r.display_name,
                ).model_dump()
                for r in db.execute(_paid_in(query, period, runtime.settings.timezone))
            ]

    return [Notice.model_validate(notice) for notice in await runtime.texts.reveal(await asyncio.to_thread(read))]


PAYROLL_COLUMNS = ("payment_reference", "report_id", "reporter", "amount_fen", "amount_yuan", "channel", "approver", "paid_at")


@routes.get("/payroll", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def payroll(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.FINANCE, Role.AUDITOR))],
    tenant: Annotated[TenantId, Query()],
    period: Period,
) -> Response:
    """Rewards paid in the period, one CSV row each, for the payroll system.

    Reporters appear as pseudonyms; payroll resolves them through a recorded identity
    disclosure (intake's ``POST /reports/{id}/identity``, purpose: payout).
    """
    check_tenant(principal, tenant)
    query = _paid_in(select(rewards).where(rewards.c.tenant == tenant), period, runtime.settings.timezone).order_by(rewards.c.paid_at, rewards.c.report_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYROLL_COLUMNS)
    with runtime.engine.connect() as db:
        for r in db.execute(query):
            yuan = f"{r.amount_fen // 100}.{r.amount_fen % 100:02d}"
            cells = [r.payment_reference, r.report_id, r.reporter, r.amount_fen, yuan, r.channel, r.approver, r.paid_at.isoformat()]
            writer.writerow([spreadsheet_safe(cell) for cell in cells])
    filename = f"rewards-{tenant}-{period}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
