"""Keeping each subsidiary's directory over HTTP: people, endpoints, or a whole document."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from hazardloop.events import (
    DirectoryRole,
    DisplayName,
    EmailAddress,
    EndpointEntry,
    EndpointFormat,
    Language,
    PersonEntry,
    TenantId,
    WebhookUrl,
    WorkPlace,
)
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.web.validation import IdInPath
from hazardloop_notifications import commands
from hazardloop_notifications.directory import listed_entries
from hazardloop_notifications.domain import DirectoryDocument
from hazardloop_notifications.payloads import endpoint_secret
from hazardloop_notifications.store import directory_entries

routes = APIRouter(tags=["directory"])

Keeper = Annotated[Principal, Depends(require(Role.MANAGER, Role.OPERATOR))]
Reader = Annotated[Principal, Depends(require(Role.MANAGER, Role.OPERATOR, Role.LEADER, Role.AUDITOR))]
Tenant = Annotated[TenantId, Query(description="The subsidiary.")]
PersonName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f-\x9f/\u2028\u2029\u202a-\u202e\u2066-\u2069]+$",
        description="The person's directory name: no slash, control or text-direction characters.",
    ),
]


class PersonBody(Command):
    name: DisplayName | None = None
    email: EmailAddress | None = None
    language: Language = Language.ZH_CN
    roles: Annotated[list[DirectoryRole], Field(max_length=len(DirectoryRole))] = []
    work_places: Annotated[list[WorkPlace], Field(max_length=50, description="Sites or areas where they work (rewards' fraud signals).")] = []


class EndpointBody(Command):
    url: WebhookUrl
    format: EndpointFormat = EndpointFormat.WEBHOOK
    language: Language = Language.ZH_CN
    roles: Annotated[list[DirectoryRole], Field(min_length=1, max_length=len(DirectoryRole))]


class Changed(BaseModel):
    changed: bool


def _now(request: Request):
    return request.app.state.clock.now()


@routes.get("/directory")
def read_directory(runtime: RuntimeDep, principal: Reader, tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """The subsidiary's people and endpoints as the log has them."""
    check_tenant(principal, tenant)
    with runtime.engine.connect() as db:
        rows = db.execute(select(directory_entries).where(directory_entries.c.tenant == tenant).order_by(directory_entries.c.name)).all()
    listed: dict[str, list[dict[str, Any]]] = {"people": [], "endpoints": []}
    for row in rows:
        entry = json.loads(row.entry)
        if entry:
            listed["people" if row.kind == "person" else "endpoints"].append(entry)
    return listed


@routes.put("/directory/people/{person}", response_model=Changed)
async def set_person(runtime: RuntimeDep, request: Request, principal: Keeper, tenant: Tenant, person: PersonName, body: PersonBody) -> Changed:
    check_tenant(principal, tenant)
    entry = PersonEntry(person=person, **body.model_dump())
    changed = await commands.set_entry(runtime.event_store(), tenant, entry, actor=principal.subject, now=_now(request))
    return Changed(changed=changed)


@routes.delete("/directory/people/{person}", response_model=Changed)
async def remove_person(runtime: RuntimeDep, request: Request, principal: Keeper, tenant: Tenant, person: PersonName) -> Changed:
    check_tenant(principal, tenant)
    changed = await commands.remove_entry(runtime.event_store(), tenant, "person", person, actor=principal.subject, now=_now(request))
    return Changed(changed=changed)


@routes.put("/directory/endpoints/{endpoint}", response_model=Changed)
async def set_endpoint(runtime: RuntimeDep, request: Request, principal: Keeper, tenant: Tenant, endpoint: IdInPath, body: EndpointBody) -> Changed:
    check_tenant(principal, tenant)
    entry = EndpointEntry(endpoint=endpoint, **body.model_dump())
    changed = await commands.set_entry(runtime.event_store(), tenant, entry, actor=principal.subject, now=_now(request))
    return Changed(changed=changed)


@routes.delete("/directory/endpoints/{endpoint}", response_model=Changed)
async def remove_endpoint(runtime: RuntimeDep, request: Request, principal: Keeper, tenant: Tenant, endpoint: IdInPath) -> Changed:
    check_tenant(principal, tenant)
    changed = await commands.remove_entry(runtime.event_store(), tenant, "endpoint", endpoint, actor=principal.subject, now=_now(request))
    return Changed(changed=changed)


@routes.post("/directory")
async def load_directory(
    runtime: RuntimeDep, request: Request, principal: Keeper, tenant: Tenant, body: DirectoryDocument
) -> dict[str, int]:
    """Set every entry of a directory document (unchanged entries add nothing); ``prune``
    removes the entries it does not list."""
    check_tenant(principal, tenant)
    listed = await asyncio.to_thread(listed_entries, runtime.engine, tenant)
    return await commands.load_directory(runtime.event_store(), tenant, body, actor=principal.subject, now=_now(request), listed=listed)


@routes.get("/directory/endpoints/{endpoint}/signing-secret")
async def signing_secret(
    runtime: RuntimeDep, request: Request, principal: Annotated[Principal, Depends(require(Role.OPERATOR))], tenant: Tenant, endpoint: IdInPath
) -> dict[str, str]:
    """The HMAC secret our webhook to this endpoint is signed with, for its receiver to check.

    Only for an endpoint the directory lists (as the log has it, so right after it is set).
    """
    check_tenant(principal, tenant)
    listed = await commands.directory_entry(runtime.event_store(), tenant, "endpoint", endpoint)
    if listed.entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no endpoint {endpoint!r} in the directory of {tenant}")
    settings = request.app.state.settings
    return {"endpoint": endpoint, "secret": endpoint_secret(settings.webhook_signing_key(), tenant, endpoint), "algorithm": "hmac-sha256"}
