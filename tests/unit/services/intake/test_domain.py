"""Intake's rules: filing a report, the catalogue of places, erasing what a reporter gave."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    SUBTYPES,
    Category,
    Channel,
    PlaceKind,
    PlaceRetired,
    ReporterKeyShredded,
    ReportTextShredded,
    ShredReason,
)
from hazardloop.log.eventstore import History, StoredEvent
from hazardloop_intake.domain import (
    CataloguePlace,
    Filer,
    FileReport,
    Place,
    Reporter,
    catalogue,
    catalogue_place,
    file_report,
    first_filing,
    locate,
    named_reporter,
    place_in,
    repeated_filing,
    report_id_for,
    retire,
    same_place,
    same_report,
    shred_report_text,
    shred_reporter_key,
)
from tests.factories import REPORTER, new_id, report_body

NOW = datetime.now(UTC)
SPOT = Place("bay-3", PlaceKind.SPOT, "North", "Pipe rack", "Bay 3", "PR-3", retired=False)
AREA = Place("pipe-rack", PlaceKind.AREA, "North", "Pipe rack", None, None, retired=False)
SITE = Place("north", PlaceKind.SITE, "North", None, None, None, retired=False)
NAMED = Reporter(REPORTER, None, None, None)
NOTHING = History(())


def history(*events) -> History:
    return History(tuple(StoredEvent(sequence, event) for sequence, event in enumerate(events, 1)))


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


def test_a_filing_is_appended_once_and_a_retry_must_be_the_same_report():
    command = FileReport.model_validate(report_body())
    stored = filed(command)
    assert first_filing(NOTHING, stored) == [stored]
    assert first_filing(history(stored), filed(command)) == []  # the key's report exists: nothing more
    assert repeated_filing(stored, command, description=command.description) is stored
    with pytest.raises(Invalid) as reused:
        repeated_filing(stored, command.model_copy(update={"description": "something else"}), description=command.description)
    assert reused.value.field == "Idempotency-Key"


def test_the_report_id_says_nothing_of_who_filed_it_yet_is_the_same_for_the_same_key():
    assert report_id_for("refinery", "anonymous", "key-1") == report_id_for("refinery", "anonymous", "key-1")
    assert report_id_for("refinery", "anonymous", "key-1") != report_id_for("refinery", REPORTER, "key-1")
    assert "key-1" not in report_id_for("refinery", REPORTER, "key-1") and REPORTER not in report_id_for("refinery", REPORTER, "key-1")


@pytest.mark.parametrize(
    "body, filer, field",
    [
        (report_body(), Filer(None), "who"),  # nobody signed in: a typed number proves nothing
        (report_body(reporter={"employee_number": "E-2"}), Filer("E-1"), "reporter.employee_number"),
        (report_body(channel="hotline", reporter={"employee_number": "E-2"}), Filer("E-1"), "channel"),
        (report_body(channel="hotline"), Filer("officer", staff=True), "reporter"),
    ],
)
def test_a_named_report_is_filed_under_the_token_or_entered_by_an_officer_naming_the_employee(body, filer, field):
    with pytest.raises(Invalid) as refused:
        named_reporter(FileReport.model_validate(body), filer)
    assert refused.value.field == field


def test_who_a_named_report_is_attributed_to():
    own = named_reporter(FileReport.model_validate(report_body(reporter={"employee_number": "E-1", "name": "Li"})), Filer("E-1"))
    assert (own[0], own[1].name, own[2]) == ("E-1", "Li", None)
    entered = FileReport.model_validate(report_body(channel=Channel.HOTLINE.value, reporter={"employee_number": "E-2"}))
    source, _, officer = named_reporter(entered, Filer("officer", staff=True))
    assert (source, officer) == ("E-2", "officer")


# --- the catalogue --------------------------------------------------------------------------


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


def test_a_place_is_recorded_once_and_its_id_is_never_another_places():
    [event] = catalogue(NOTHING, place(), parent=AREA, actor="staff:m", now=NOW)
    assert catalogue(history(event), place(), parent=AREA, actor="staff:m", now=NOW) == []
    with pytest.raises(DomainError) as conflict:
        catalogue(history(event), place(name="Bay 4"), parent=AREA, actor="staff:m", now=NOW)
    assert (conflict.value.status_code, conflict.value.state) == (409, "catalogued")


def test_a_place_is_retired_once_and_then_takes_no_reports():
    created = catalogue_place(place(), parent=AREA, actor="staff:m", event_id=None, now=NOW)
    with pytest.raises(NotFound):
        retire(NOTHING, tenant="refinery", place_id="bay-3", reason="demolished", actor="staff:m", now=NOW)
    [retired] = retire(history(created), tenant="refinery", place_id="bay-3", reason="demolished", actor="staff:m", now=NOW)
    assert isinstance(retired, PlaceRetired) and retired.prev_hash == created.hash
    assert place_in(history(created)).takes_reports and not place_in(history(created, retired)).takes_reports
    with pytest.raises(DomainError) as again:
        retire(history(created, retired), tenant="refinery", place_id="bay-3", reason="demolished", actor="staff:m", now=NOW)
    assert again.value.state == "retired"


# --- erasure --------------------------------------------------------------------------------


def test_an_erasure_and_a_text_key_destruction_are_each_recorded_once():
    [erased] = shred_reporter_key(NOTHING, tenant="refinery", reporter=REPORTER, reason="asked to", actor="staff:c", now=NOW)
    assert isinstance(erased, ReporterKeyShredded)
    assert shred_reporter_key(history(erased), tenant="refinery", reporter=REPORTER, reason="asked", actor="staff:c", now=NOW) == []
    report = filed(FileReport.model_validate(report_body()))

    def shredding(on: History) -> list:
        return shred_report_text(on, tenant="refinery", report_id=report.aggregate_id, reason=ShredReason.RETENTION,
                                 actor="policy:retention", now=NOW)

    [shredded] = shredding(history(report))
    assert isinstance(shredded, ReportTextShredded) and shredded.prev_hash == report.hash
    assert shredding(history(report, shredded)) == []
