"""The subsidiary's catalogue of places: sites, their areas, and spots or equipment in them."""

from __future__ import annotations

from datetime import datetime
from pydantic import Field, ValidationInfo, field_validator

from hazardloop.web.edge import Command
from hazardloop.errors import Invalid
from hazardloop.events import GENESIS_HASH, PARENT_KIND, EquipmentTag, PlaceCatalogued, PlaceKind, PlaceName, TenantId, Token
from hazardloop_intake.domain import Place


class CataloguePlace(Command):
    tenant: TenantId
    place_id: Token
    kind: PlaceKind
    parent_id: Token | None = Field(None, validate_default=True)
    name: PlaceName
    name_en: PlaceName | None = None
    equipment_tag: EquipmentTag | None = None

    @field_validator("parent_id")
    @classmethod
    def _parent_fits_kind(cls, parent_id: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == PlaceKind.SITE and parent_id is not None:
            raise ValueError("a site is the top of the catalogue and has no parent")
        if kind is not None and kind != PlaceKind.SITE and parent_id is None:
            raise ValueError(f"a {kind.value} needs its parent {PARENT_KIND[kind].value}")
        return parent_id

    @field_validator("equipment_tag")
    @classmethod
    def _tag_on_spots(cls, tag: str | None, info: ValidationInfo) -> str | None:
        if tag is not None and info.data.get("kind") != PlaceKind.SPOT:
            raise ValueError("only a spot carries an equipment tag")
        return tag


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
