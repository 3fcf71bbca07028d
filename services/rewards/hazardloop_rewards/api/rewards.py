"""Rewards' command routes: approve, refer, decline, pay, revoke, claim; each checks role and tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import select

from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.privacy.receipts import ReceiptCode, receipt_digest
from hazardloop.projections.catchup import projected
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import ALL_TENANTS, Principal, Role, require
from hazardloop.web.edge import Command
from hazardloop.web.recorded import CREATED, Recorded, recorded
from hazardloop.web.validation import IdInPath, reason_required_unless
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.store import reports, rewards

routes = APIRouter(tags=["rewards"])

RewardAmount = Annotated[int, Field(gt=0, le=100_000_000, strict=True, description="Integer fen (1 yuan = 100 fen).")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]


async def commands_of(request: Request) -> RewardCommands:
    """The command handlers, once the service is connected to the broker."""
    commands = request.app.state.commands
    if commands is None:
        raise EventStoreUnavailable("the service is not connected to the broker yet")
    return commands


CommandsDep = Annotated[RewardCommands, Depends(commands_of)]


class Approval(Command):
    approve: bool
    amount_fen: RewardAmount | None = Field(None, description="Adjust the proposed amount (a reason is then required).")
    reason: Reason | None = Field(None, validate_default=True)

    _decline_gives_reason = reason_required_unless("approve", "declining")

    @field_validator("amount_fen")
    @classmethod
    def _amount_only_to_approve(cls, amount: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("approve") is False and amount is not None:
            raise ValueError("amount_fen applies only to an approval")
        return amount


class HqDecision(Command):
    approve: bool
    reason: Reason | None = Field(None, validate_default=True)

    _decline_gives_reason = reason_required_unless("approve", "declining")


class Payment(Command):
    payment_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[^\x00-\x1f\x7f]+$")]
    voucher_code: Annotated[str, StringConstraints(min_length=10, max_length=40)] | None = Field(
        None, description="For an anonymous reward: the voucher the claimant shows."
    )


class Revocation(Command):
    reason: Reason


class Recognition(Command):
    consent: bool
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] | None = Field(
        None, validate_default=True, description="How the public notice names you; required with consent."
    )

    @field_validator("display_name")
    @classmethod
    def _name_with_consent(cls, name: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("consent") and not name:
            raise ValueError("display_name is required to consent")
        return name if info.data.get("consent") else None


class Voucher(BaseModel):
    report_id: str
    voucher_code: str
    """Shown once: collect the payout with it. Nobody, finance included, learns who you are."""


async def tenant_of(runtime: Runtime, principal: Principal, report_id: str) -> str:
    """The reward's subsidiary, from the read model (once it holds a reward just proposed);
    hidden if the caller may not see it."""

    def lookup() -> str | None:
        with runtime.engine.connect() as db:
            return db.execute(select(rewards.c.tenant).where(rewards.c.report_id == report_id)).scalar()

    tenant = await projected(runtime, lookup, aggregate_type="reward", aggregate_id=report_id, visible=principal.may_access)
    if tenant is None or not principal.may_access(tenant):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no reward for report {report_id!r} visible to you")
    return tenant


@routes.post("/rewards/{report_id}/approval", **CREATED)
async def approve(
    report_id: IdInPath,
    body: Approval,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER))],
) -> Recorded:
    """The department head approves (possibly adjusting, with a reason) or declines.

    Above the policy's cap, or beyond what is left of the year's budget, the approval
    is referred to group HQ instead.
    """
    tenant = await tenant_of(runtime, principal, report_id)
    if body.approve:
        events = await commands.approve(tenant, report_id, amount_fen=body.amount_fen, reason=body.reason, actor=principal.subject)
    else:
        events = await commands.decline(tenant, report_id, reason=body.reason, actor=principal.subject)
    return recorded(report_id, events)


@routes.post("/rewards/{report_id}/hq-decision", **CREATED)
async def hq_decision(
    report_id: IdInPath,
    body: HqDecision,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
) -> Recorded:
    """Group HQ decides an exceptional award or one beyond the budget."""
    if ALL_TENANTS not in principal.tenants:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only group headquarters decides referred rewards")
    tenant = await tenant_of(runtime, principal, report_id)
    if body.approve:
        events = await commands.approve_at_hq(tenant, report_id, reason=body.reason, actor=principal.subject)
    else:
        events = await commands.decline(tenant, report_id, reason=body.reason, actor=principal.subject, hq=True)
    return recorded(report_id, events)


@routes.post("/rewards/{report_id}/payment", **CREATED)
async def pay(
    report_id: IdInPath,
    body: Payment,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.FINANCE))],
) -> Recorded:
    """Finance records the payout of an approved reward, with its payment reference."""
    tenant = await tenant_of(runtime, principal, report_id)
    events = await commands.pay(tenant, report_id, reference=body.payment_reference, voucher_code=body.voucher_code, actor=principal.subject)
    return recorded(report_id, events)


@routes.post("/rewards/{report_id}/revocation", **CREATED)
async def revoke(
    report_id: IdInPath,
    body: Revocation,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
) -> Recorded:
    """Revoke a paid reward found unjustified (proven fraud): a new event with the reason."""
    tenant = await tenant_of(runtime, principal, report_id)
    return recorded(report_id, await commands.revoke(tenant, report_id, reason=body.reason, actor=principal.subject))


@routes.post("/rewards/{report_id}/recognition", **CREATED)
async def recognition(
    report_id: IdInPath,
    body: Recognition,
    runtime: RuntimeDep,
    commands: CommandsDep,
    principal: Annotated[Principal, Depends(require(Role.REPORTER))],
) -> Recorded:
    """The reporter consents to be named on the public notice (or withdraws it); until then,
    and for anonymous reports always, the notice shows their pseudonym."""
    tenant = await tenant_of(runtime, principal, report_id)
    events = await commands.recognise(tenant, report_id, body.display_name if body.consent else None, subject=principal.subject)
    return recorded(report_id, events)


@routes.post("/rewards/{report_id}/claim", status_code=status.HTTP_201_CREATED, response_model=Voucher)
async def claim(
    report_id: IdInPath,
    runtime: RuntimeDep,
    commands: CommandsDep,
    receipt_code: Annotated[ReceiptCode, Header(alias="Receipt-Code", description="The code given at filing.")],
) -> Voucher:
    """An anonymous reporter claims their reward with the receipt code: no token, no name."""
    with runtime.engine.connect() as db:
        row = db.execute(select(reports.c.tenant, reports.c.receipt_digest).where(reports.c.report_id == report_id)).first()
    if row is None or row.receipt_digest is None or row.receipt_digest != receipt_digest(receipt_code):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no anonymous report with this receipt code")
    return Voucher(report_id=report_id, voucher_code=await commands.claim(row.tenant, report_id, receipt_code))
