from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hazardloop.errors import Invalid
from hazardloop.events import SUBTYPES, Category, PlaceKind
from hazardloop_intake.domain import FileReport, Place, Reporter, file_report, locate, same_report
from tests.factories import REPORTER, new_id, report_body

NOW = datetime.now(UTC)
SPOT = Place("bay-3", PlaceKind.SPOT, "North", "Pipe rack", "Bay 3", "PR-3", retired=False)
AREA = Place("pipe-rack", PlaceKind.AREA, "North", "Pipe rack", None, None, retired=False)
NAMED = Reporter(REPORTER, None, None, None)


def filed(command: FileReport, place: Place = SPOT, **overrides):
    fields = dict(
        report_id=new_id(), event_id=new_id(), location=locate(command, place), reporter=NAMED, attachments=[],
        possible_duplicate_of=None, now=datetime.now(UTC),  # the clock as the report is filed, not as this module loaded
    ) | overrides
    return file_report(command, **fields)


def test_filing_records_the_catalogued_place_and_the_pseudonym_not_the_person():
    event = filed(FileReport.model_validate(report_body()))
    assert event.reporter == REPORTER and event.actor == f"reporter:{REPORTER}"
    assert (event.location.site, event.location.area, event.location.spot) == ("North", "Pipe rack", "Bay 3")
    assert event.location.place_id == "bay-3" and event.location.equipment_tag == "PR-3"


def test_a_report_on_an_area_says_where_in_it():
    command = FileReport.model_validate(report_body(place_id="pipe-rack"))
    with pytest.raises(Invalid) as refused:
        locate(command, AREA)
    assert refused.value.field == "spot_detail"
    precise = command.model_copy(update={"spot_detail": "Ladder at bay 7"})
    assert locate(precise, AREA).spot == "Ladder at bay 7"


@pytest.mark.parametrize(
    "place, message",
    [(None, "no place"), (Place("north", PlaceKind.SITE, "North", None, None, None, False), "area or spot"),
     (Place("bay-3", PlaceKind.SPOT, "North", "Pipe rack", "Bay 3", None, True), "retired")],
)
def test_reports_name_a_real_place_that_takes_reports(place, message):
    with pytest.raises(Invalid, match=message) as refused:
        locate(FileReport.model_validate(report_body()), place)
    assert refused.value.field == "place_id"


@pytest.mark.parametrize("observed", [NOW + timedelta(hours=1), NOW - timedelta(days=400)])
def test_observation_time_must_be_plausible(observed):
    command = FileReport.model_validate(report_body(observed_at=observed.isoformat()))
    with pytest.raises(Invalid) as refused:
        filed(command)
    assert refused.value.field == "observed_at"


@pytest.mark.parametrize(
    "overrides, field",
    [({"category": "gossip"}, "category"), ({"description": "   "}, "description"),
     ({"observed_at": "2026-01-01T10:00:00"}, "observed_at"), ({"place_id": "Bay 3"}, "place_id"),
     ({"tenant": "Bad Tenant"}, "tenant"), ({"reporter_name": "Li"}, "reporter_name"),
     ({"subtype": "missing_warning_sign"}, "subtype must be one of unsafe_behaviour"),
     ({"anonymous": True, "reporter": {"employee_number": "E1"}}, "anonymous report names no reporter"),
     ({"attachments": ["a" * 64, "a" * 64]}, "listed twice"), ({"attachments": ["x"]}, "attachments"),
     ({"equipment_tag": "tag with spaces"}, "equipment_tag")],
)
def test_bad_reports_name_the_field(overrides, field):
    with pytest.raises(ValidationError, match=field):
        FileReport.model_validate(report_body(**overrides))


@pytest.mark.parametrize("category", list(Category))
def test_every_category_offers_its_subtypes_and_other(category):
    assert "other" in SUBTYPES[category]
    for subtype in SUBTYPES[category]:
        FileReport.model_validate(report_body(category=category.value, subtype=subtype))


def test_a_retry_is_recognised_as_the_same_report():
    command = FileReport.model_validate(report_body())
    stored = filed(command)
    opened = command.description
    assert same_report(stored, command, description=opened)
    assert not same_report(stored, command.model_copy(update={"description": "different"}), description=opened)
    assert not same_report(stored, command.model_copy(update={"place_id": "bay-4"}), description=opened)
