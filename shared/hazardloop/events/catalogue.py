"""The place aggregate: each subsidiary's catalogue of sites, areas and spots."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import StringConstraints

from hazardloop.events.envelope import EquipmentTag, Event, PlaceName, Token


class PlaceKind(StrEnum):
    SITE = "site"
    AREA = "area"
    """A unit, plant or area within a site."""
    SPOT = "spot"
    """A spot or a piece of equipment within an area."""


PARENT_KIND = {PlaceKind.SITE: None, PlaceKind.AREA: PlaceKind.SITE, PlaceKind.SPOT: PlaceKind.AREA}


class PlaceCatalogued(Event):
    """A place was added to the subsidiary's catalogue, so reports can name it."""

    aggregate_type: ClassVar[str] = "place"
    type: Literal["PlaceCatalogued"] = "PlaceCatalogued"
    kind: PlaceKind
    parent_id: Token | None = None
    name: PlaceName
    name_en: PlaceName | None = None
    equipment_tag: EquipmentTag | None = None


class PlaceRetired(Event):
    """A place no longer takes new reports (its history stays)."""

    aggregate_type: ClassVar[str] = "place"
    type: Literal["PlaceRetired"] = "PlaceRetired"
    reason: Annotated[str, StringConstraints(min_length=1, max_length=400)]
