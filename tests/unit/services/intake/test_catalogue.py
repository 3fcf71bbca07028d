from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hazardloop.errors import Invalid
from hazardloop.events import PlaceKind
from hazardloop_intake.catalogue import CataloguePlace, catalogue_place, same_place
from hazardloop_intake.domain import Place

NOW = datetime.now(UTC)
SITE = Place("north", PlaceKind.SITE, "North", None, None, None, retired=False)
AREA = Place("pipe-rack", PlaceKind.AREA, "North", "Pipe rack", None, None, retired=False)


def place(**fields) -> CataloguePlace:
    return CataloguePlace.model_validate({"tenant": "refinery", "place_id": "bay-3", "kind": "spot", "parent_id": "pipe-rack", "name": "Bay 3"} | fields)


def test_a_spot_goes_in_an_area_and_keeps_its_equipment_tag():
    event = catalogue_place(place(equipment_tag="P-101A"), parent=AREA, actor="staff:m", event_id=None, now=NOW)
    assert (event.aggregate_id, event.kind, event.parent_id, event.equipment_tag) == ("bay-3", PlaceKind.SPOT, "pipe-rack", "P-101A")


@pytest.mark.parametrize(
    "parent, message",
    [(None, "no place"), (SITE, "belongs in a area"), (Place("pipe-rack", PlaceKind.AREA, "North", "Pipe rack", None, None, True), "retired")],
)
def test_the_parent_must_exist_be_of_the_right_kind_and_be_in_use(parent, message):
    with pytest.raises(Invalid, match=message) as refused:
        catalogue_place(place(), parent=parent, actor="staff:m", event_id=None, now=NOW)
    assert refused.value.field == "parent_id"


@pytest.mark.parametrize(
    "fields, message",
    [({"kind": "site"}, "has no parent"), ({"kind": "area", "parent_id": None}, "needs its parent site"),
     ({"kind": "area", "equipment_tag": "P-1"}, "only a spot"), ({"place_id": "Bay 3"}, "place_id")],
)
def test_malformed_places_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        place(**fields)


def test_repeating_a_request_is_the_same_place_and_a_reused_id_is_not():
    event = catalogue_place(place(), parent=AREA, actor="staff:m", event_id=None, now=NOW)
    assert same_place(event, place())
    assert not same_place(event, place(name="Bay 4"))
