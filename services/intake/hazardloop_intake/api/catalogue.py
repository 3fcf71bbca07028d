"""The catalogue of places over HTTP: safety managers keep it, everyone of the subsidiary reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from hazardloop.events import TenantId
from hazardloop.runtime.service import RuntimeDep
from hazardloop.web.auth import Principal, Role, authenticated, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.web.validation import IdInPath
from hazardloop_intake.api.reports import IntakeDep
from hazardloop_intake.commands import handle_catalogue_place, handle_retire_place
from hazardloop_intake.domain import CataloguePlace
from hazardloop_intake.store import places

KEEPERS = (Role.MANAGER, Role.OPERATOR)


class PlaceView(BaseModel):
    place_id: str
    kind: str
    parent_id: str | None
    name: str
    name_en: str | None
    equipment_tag: str | None
    retired: bool
    catalogued_at: datetime


class Retirement(Command):
    tenant: TenantId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


routes = APIRouter(tags=["catalogue"])


@routes.post("/catalogue/places", status_code=status.HTTP_201_CREATED, response_model=PlaceView)
async def add_place(
    command: CataloguePlace,
    response: Response,
    intake: IntakeDep,
    principal: Annotated[Principal, Depends(require(*KEEPERS))],
) -> PlaceView:
    """Add a site, an area within a site, or a spot or piece of equipment within an area."""
    check_tenant(principal, command.tenant)
    event, created = await handle_catalogue_place(intake, command, actor=f"staff:{principal.subject}")
    if not created:
        response.status_code = status.HTTP_200_OK
    return PlaceView(
        place_id=event.aggregate_id, kind=event.kind.value, parent_id=event.parent_id, name=event.name, name_en=event.name_en,
        equipment_tag=event.equipment_tag, retired=False, catalogued_at=event.occurred_at,
    )


@routes.post("/catalogue/places/{place_id}/retirement", status_code=status.HTTP_204_NO_CONTENT)
async def retire_place(
    place_id: IdInPath, body: Retirement, intake: IntakeDep, principal: Annotated[Principal, Depends(require(*KEEPERS))]
) -> None:
    """Stop a place taking new reports; its reports and history stay."""
    check_tenant(principal, body.tenant)
    await handle_retire_place(intake, body.tenant, place_id, reason=body.reason, actor=f"staff:{principal.subject}")


@routes.get("/catalogue", response_model=list[PlaceView])
def catalogue(
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(authenticated)],
    tenant: Annotated[TenantId, Query(description="The subsidiary whose places to list.")],
    include_retired: bool = False,
) -> list[PlaceView]:
    """The subsidiary's places, parents before children."""
    check_tenant(principal, tenant)
    query = select(places).where(places.c.tenant == tenant).order_by(places.c.kind != "site", places.c.kind != "area", places.c.place_id)
    if not include_retired:
        query = query.where(places.c.retired.is_(False))
    with runtime.engine.connect() as db:
        return [PlaceView(**{k: v for k, v in row._mapping.items() if k in PlaceView.model_fields}) for row in db.execute(query)]
