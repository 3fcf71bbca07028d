"""The subsidiary's catalogue of places: sites, their areas, and spots or equipment in them."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from hazardloop.errors import Invalid
from hazardloop.events import GENESIS_HASH, PARENT_KIND, EquipmentTag, PlaceCatalogued, PlaceKind, PlaceName, TenantId, Token
from hazardloop_intake.domain import Place


class CataloguePlace(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: TenantId
    place_id: Token
    kind: PlaceKind
    parent_id: Token | None = None
    name: PlaceName
    name_en: PlaceName | None = None
    equipment_tag: EquipmentTag | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.kind == PlaceKind.SITE and self.parent_id is not None:
            raise ValueError("a site is the top of the catalogue and has no parent")
        if self.kind != PlaceKind.SITE and self.parent_id is None:
            raise ValueError(f"a {self.kind.value} needs its parent {PARENT_KIND[self.kind].value}")
        if self.equipment_tag is not None and self.kind != PlaceKind.SPOT:
            raise ValueError("only a spot carries an equipment tag")
        return self


def catalogue_place(command: CataloguePlace, *, parent: Place | None, actor: str, event_id, now: datetime) -> PlaceCatalogued:
    expected = PARENT_KIND[command.kind]
    if expected is not None:
        if parent is None:
            raise Invalid(f"no place {command.parent_id!r} in {command.tenant}'s catalogue", field="parent_id")
        if parent.kind != expected:
            raise Invalid(f"a {command.kind.value} belongs in a {expected.value}, not a {parent.kind.value}", field="parent_id")
        if parent.retired:
            raise Invalid(f"place {command.parent_id!r} is retired", field="parent_id")
    return PlaceCatalogued.record(
        prev_hash=GENESIS_HASH,
        tenant=command.tenant,
        aggregate_id=command.place_id,
        actor=actor,
        event_id=event_id,
        occurred_at=now,
        **command.model_dump(exclude={"tenant", "place_id"}),
    )


def same_place(stored: PlaceCatalogued, command: CataloguePlace) -> bool:
    return stored.model_dump(include=set(command.model_dump(exclude={"tenant", "place_id"}))) == command.model_dump(
        exclude={"tenant", "place_id"}
    )
