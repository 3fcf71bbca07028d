"""Reporter identities over HTTP: disclosed only to those who need them, erased on request."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from hazardloop.events import Pseudonym, TenantId
from hazardloop.privacy.identity import Identity
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.web.validation import IdInPath
from hazardloop_intake.api.reports import IntakeDep
from hazardloop_intake.commands import handle_disclose_identity, handle_erase_reporter
from hazardloop_intake.disclosure import DISCLOSERS, disclosing_role
from hazardloop_intake.queries import disclosures_of
from hazardloop_intake.store import disclosures

Purpose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]


class DisclosureRequest(Command):
    tenant: TenantId
    purpose: Purpose


class Disclosure(BaseModel):
    report_id: str
    reporter: str
    identity: Identity
    disclosure_id: str


class ErasureRequest(Command):
    tenant: TenantId
    reason: Purpose


class Erasure(BaseModel):
    reporter: str
    erased_at: datetime
    event_id: str


class MyDisclosure(BaseModel):
    """One look at the reporter's identity, as the reporter sees it."""

    report_id: str
    tenant: str
    who: str
    """The member of staff who opened it."""
    role: str
    """In which role: the confidentiality officer's, or finance's to pay a reward."""
    purpose: str
    occurred_at: datetime


class DisclosureRecord(BaseModel):
    report_id: str
    reporter: str
    purpose: str
    role: str
    actor: str
    occurred_at: datetime


M = TypeVar("M", bound=BaseModel)

routes = APIRouter(tags=["identity"])


@routes.post("/reports/{report_id}/identity", response_model=Disclosure)
async def disclose(
    report_id: IdInPath, body: DisclosureRequest, intake: IntakeDep, principal: Annotated[Principal, Depends(require(*DISCLOSERS))]
) -> Disclosure:
    """Decrypt the reporter's identity: the confidentiality officer for any report, finance
    only to pay a reward granted through payroll. The disclosure, with its purpose, is recorded first."""
    check_tenant(principal, body.tenant)
    identity, event = await handle_disclose_identity(
        intake, body.tenant, report_id, purpose=body.purpose, role=disclosing_role(principal.roles), actor=f"staff:{principal.subject}"
    )
    return Disclosure(report_id=report_id, reporter=event.aggregate_id, identity=identity, disclosure_id=str(event.event_id))


@routes.post("/reporters/{reporter}/erasure", response_model=Erasure)
async def erase(
    reporter: Pseudonym,
    body: ErasureRequest,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(Role.CONFIDENTIALITY_OFFICER))],
) -> Erasure:
    """Erase a reporter's data key and the text keys of the reports they filed: every identity
    they gave, and those reports' free text, become unreadable; history stays."""
    check_tenant(principal, body.tenant)
    event = await handle_erase_reporter(intake, body.tenant, reporter, reason=body.reason, actor=f"staff:{principal.subject}")
    return Erasure(reporter=reporter, erased_at=event.occurred_at, event_id=str(event.event_id))


async def opened(runtime: Runtime, records: list[M]) -> list[M]:
    """The records with their purposes opened (sealed under each report's text key)."""
    plain = await runtime.texts.reveal([record.model_dump() for record in records])
    return [type(record).model_validate(fields) for record, fields in zip(records, plain, strict=True)]


@routes.get("/disclosures", response_model=list[DisclosureRecord])
async def disclosure_log(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(Role.CONFIDENTIALITY_OFFICER, Role.AUDITOR))],
    tenant: Annotated[TenantId, Query()],
    reporter: Annotated[Pseudonym | None, Query()] = None,
) -> list[DisclosureRecord]:
    """Who saw which identity, when and why."""
    check_tenant(principal, tenant)
    query = select(disclosures).where(disclosures.c.tenant == tenant).order_by(disclosures.c.occurred_at)
    if reporter is not None:
        query = query.where(disclosures.c.reporter == reporter)

    def read() -> list[DisclosureRecord]:
        with runtime.engine.connect() as db:
            return [DisclosureRecord(**{k: v for k, v in r._mapping.items() if k in DisclosureRecord.model_fields}) for r in db.execute(query)]

    return await opened(runtime, await asyncio.to_thread(read))


@routes.get("/my/disclosures", response_model=list[MyDisclosure])
async def my_disclosures(runtime: RuntimeDep, principal: Annotated[Principal, Depends(authenticated)]) -> list[MyDisclosure]:
    """Who opened the signed-in reporter's identity, in which role, when and why, newest first.

    Found through the caller's own pseudonyms: after an erasure there are none, and the
    disclosures before it stay in the log, attributed to nobody.
    """
    mine = await runtime.pseudonyms_of(principal)

    def read() -> list[MyDisclosure]:
        with runtime.engine.connect() as db:
            return [
                MyDisclosure(
                    report_id=r.report_id, tenant=r.tenant, who=r.actor.removeprefix("staff:"), role=r.role, purpose=r.purpose,
                    occurred_at=r.occurred_at,
                )
                for r in disclosures_of(db, mine)
            ]

    return await opened(runtime, await asyncio.to_thread(read))
