"""Checks elsewhere over HTTP: headquarters raises and closes checks and decides on more time;
each subsidiary's safety officers see their tasks and answer them. Routes only translate.

A check is visible to whoever may see the original report's subsidiary (every task of it);
a subsidiary sees its own task of a check, and nothing of the others'.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel

from hazardloop.events import EscalationStep, Event, TenantId, stable_id
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require, unknown_tenant
from hazardloop.web.validation import IdInPath
from hazardloop_verification import check_queries
from hazardloop_verification.api.cases import STAFF, tenant_of
from hazardloop_verification.check_commands import CheckWork
from hazardloop_verification.checks import AnswerCheck, CloseCheck, DecideCheckExtension, RaiseCheck, RequestCheckExtension

routes = APIRouter(tags=["checks elsewhere"])

RAISERS = (Role.VERIFIER, Role.MANAGER)
"""Who raises and closes checks: the safety department (group headquarters' for a group-wide one)."""
ANSWERERS = (Role.VERIFIER, Role.MANAGER)
"""Who answers for a subsidiary: its safety officers."""
DECIDERS = (Role.MANAGER, Role.LEADER)
"""Who gives a subsidiary more time."""
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")
]


async def checks_of(request: Request) -> CheckWork:
    checks = request.app.state.checks
    if checks is None:
        raise EventStoreUnavailable("the service is not connected to the broker yet")
    return checks


ChecksDep = Annotated[CheckWork, Depends(checks_of)]


class CheckRecorded(BaseModel):
    check_id: str
    events: list[dict[str, str]]


def recorded(check_id: str, events: list[Event]) -> CheckRecorded:
    return CheckRecorded(check_id=check_id, events=[{"event": e.type, "event_id": str(e.event_id), "tenant": e.tenant} for e in events])


class TaskView(BaseModel):
    check_id: str
    tenant: str
    origin_tenant: str
    report_id: str
    category: str
    equipment: str | None
    look_for: str
    opened_at: datetime
    deadline: datetime
    escalation: list[EscalationStep]
    answer: str | None
    found_report_id: str | None
    note: str | None
    answered_by: str | None
    answered_at: datetime | None
    extension_requested_by: str | None
    extension_requested_deadline: datetime | None
    extension_reason: str | None
    overdue_since: datetime | None
    escalation_step: int | None
    closed: bool = False


class CheckView(BaseModel):
    check_id: str
    tenant: str
    report_id: str
    grade: str
    category: str
    equipment: str | None
    look_for: str
    subsidiaries: list[str]
    all_subsidiaries: bool
    due: datetime | None
    raised_by: str
    raised_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    tasks: list[TaskView]
    missing: list[str] = []
    """Addressed subsidiaries whose task is not (yet) in the read model."""


def _addressed(principal: Principal, command: RaiseCheck) -> list[str]:
    """Every subsidiary the check addresses: each known to the group and reachable by the raiser."""
    if command.all_subsidiaries:
        if not all(principal.may_access(t) for t in principal.subsidiaries):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only group headquarters addresses every subsidiary")
        return sorted(principal.subsidiaries)
    for index, tenant in enumerate(command.subsidiaries):
        if tenant not in principal.subsidiaries:
            message = f"unknown subsidiary {tenant!r}"
            raise HTTPException(422, detail=[{"loc": ["body", "subsidiaries", index], "msg": message, "type": "value_error"}])
        if not principal.may_access(tenant):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"subsidiaries.{index}: no access to subsidiary {tenant!r}")
    return list(command.subsidiaries)


@routes.post("/reports/{report_id}/checks", status_code=status.HTTP_201_CREATED, response_model=CheckRecorded)
async def raise_check(
    report_id: IdInPath,
    command: RaiseCheck,
    response: Response,
    runtime: RuntimeDep,
    checks: ChecksDep,
    principal: Annotated[Principal, Depends(require(*RAISERS))],
    idempotency_key: IdempotencyKey = None,
) -> CheckRecorded:
    """Ask subsidiaries whether this verified hazard occurs with them too. The same
    Idempotency-Key again finds the same check (200) and opens any task still missing."""
    subsidiaries = _addressed(principal, command)
    tenant = await tenant_of(runtime, principal, report_id)
    key = idempotency_key or uuid.uuid4().hex
    check_id = str(stable_id("check", tenant, report_id, principal.subject, key))
    events = await checks.raise_check(
        tenant, report_id, check_id, command, principal.subject, subsidiaries=subsidiaries, all_subsidiaries=command.all_subsidiaries
    )
    if not any(e.type == "CheckRaised" for e in events):
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/checks/{check_id}"
    return recorded(check_id, events)


def _visible_tasks(principal: Principal, check: dict[str, Any], tasks: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Every task for whoever sees the original report's subsidiary; else only their own (None: none)."""
    if principal.may_access(check["tenant"]):
        return tasks
    own = [t for t in tasks if principal.may_access(t["tenant"])]
    return own or None


def _view(check: dict[str, Any], tasks: list[dict[str, Any]], *, everyone: bool) -> CheckView:
    closed = check["closed_at"] is not None
    present = {t["tenant"] for t in tasks}
    missing = sorted(set(check["subsidiaries"]) - present) if everyone else []
    shown = check if everyone else check | {"subsidiaries": sorted(present)}
    return CheckView(**shown, tasks=[TaskView(**t, closed=closed) for t in tasks], missing=missing)


@routes.get("/checks", response_model=list[CheckView])
async def list_checks(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(*STAFF))],
    tenant: Annotated[TenantId | None, Query(description="Only checks raised on this subsidiary's reports.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CheckView]:
    """Checks raised on the reports of the subsidiaries the caller sees, the latest first, each
    with every subsidiary's task: who answered, what they found, what is overdue."""
    if tenant is not None:
        check_tenant(principal, tenant)
    tenants = [tenant] if tenant else principal.tenants_within(sorted(principal.subsidiaries))

    def read() -> list[CheckView]:
        rows = check_queries.raised_in(runtime.engine, tenants, limit, offset)
        tasks = check_queries.tasks_of(runtime.engine, [r["check_id"] for r in rows])
        return [_view(row, tasks.get(row["check_id"], []), everyone=True) for row in rows]

    return [CheckView.model_validate(v) for v in await runtime.texts.reveal([v.model_dump() for v in await asyncio.to_thread(read)])]


@routes.get("/checks/{check_id}", response_model=CheckView)
async def read_check(check_id: IdInPath, runtime: RuntimeDep, principal: Annotated[Principal, Depends(require(*STAFF))]) -> CheckView:
    """One check: all of its tasks for headquarters, a subsidiary's own task for that subsidiary."""

    def read() -> CheckView | None:
        check = check_queries.check_row(runtime.engine, check_id)
        if check is None:
            return None
        tasks = _visible_tasks(principal, check, check_queries.tasks_of(runtime.engine, [check_id]).get(check_id, []))
        return None if tasks is None else _view(check, tasks, everyone=principal.may_access(check["tenant"]))

    view = await asyncio.to_thread(read)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no check {check_id!r} visible to you")
    return await runtime.texts.reveal_model(view)


@routes.get("/check-tasks", response_model=list[TaskView])
async def list_tasks(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require(*STAFF))],
    tenant: Annotated[TenantId, Query(description="The subsidiary whose tasks to list.")],
    open_only: Annotated[bool, Query(alias="open", description="Only tasks still awaiting an answer.")] = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TaskView]:
    """A subsidiary's check tasks, the nearest deadline first."""
    check_tenant(principal, tenant)
    rows = await asyncio.to_thread(check_queries.tasks_in, runtime.engine, [tenant], open_only=open_only, limit=limit)
    return [TaskView.model_validate(v) for v in await runtime.texts.reveal(rows)]


def _task_tenant(principal: Principal, tenant: str) -> None:
    if tenant not in principal.subsidiaries:
        raise unknown_tenant(tenant)
    if not principal.may_access(tenant):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"no access to tenant {tenant!r}")


@routes.post("/checks/{check_id}/tasks/{tenant}/answer", status_code=status.HTTP_201_CREATED, response_model=CheckRecorded)
async def answer(
    check_id: IdInPath, tenant: IdInPath, command: AnswerCheck, checks: ChecksDep,
    principal: Annotated[Principal, Depends(require(*ANSWERERS))],
) -> CheckRecorded:
    """The subsidiary checked and the hazard is not present (found: file the report, linked to the check, at intake)."""
    _task_tenant(principal, tenant)
    return recorded(check_id, await checks.answer(tenant, check_id, command, principal.subject))


@routes.post("/checks/{check_id}/tasks/{tenant}/extension", status_code=status.HTTP_201_CREATED, response_model=CheckRecorded)
async def request_extension(
    check_id: IdInPath, tenant: IdInPath, command: RequestCheckExtension, checks: ChecksDep,
    principal: Annotated[Principal, Depends(require(*ANSWERERS))],
) -> CheckRecorded:
    """The subsidiary asks for more time, with a reason."""
    _task_tenant(principal, tenant)
    return recorded(check_id, await checks.request_extension(tenant, check_id, command, principal.subject))


@routes.post("/checks/{check_id}/tasks/{tenant}/extension/decision", status_code=status.HTTP_201_CREATED, response_model=CheckRecorded)
async def decide_extension(
    check_id: IdInPath, tenant: IdInPath, command: DecideCheckExtension, runtime: RuntimeDep, checks: ChecksDep,
    principal: Annotated[Principal, Depends(require(*DECIDERS))],
) -> CheckRecorded:
    """Whoever oversees the check (the original report's subsidiary, or headquarters) gives more time or refuses it."""
    check = await asyncio.to_thread(check_queries.check_row, runtime.engine, check_id)
    if check is None or not principal.may_access(check["tenant"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no check {check_id!r} visible to you")
    _task_tenant(principal, tenant)
    return recorded(check_id, await checks.decide_extension(tenant, check_id, command, principal.subject))


@routes.post("/checks/{check_id}/closure", status_code=status.HTTP_201_CREATED, response_model=CheckRecorded)
async def close(
    check_id: IdInPath, command: CloseCheck, runtime: RuntimeDep, checks: ChecksDep,
    principal: Annotated[Principal, Depends(require(*RAISERS))],
) -> CheckRecorded:
    """Close the check once every subsidiary answered or was escalated as overdue; no answer is taken after."""
    check = await asyncio.to_thread(check_queries.check_row, runtime.engine, check_id)
    if check is None or not principal.may_access(check["tenant"]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no check {check_id!r} visible to you")
    return recorded(check_id, await checks.close(check["tenant"], check_id, command, principal.subject))
