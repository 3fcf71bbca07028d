"""Intake's command handlers on an in-memory log: what each records, what a retry records
(nothing more), and what each refuses, without a broker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    IdentityDisclosed,
    PlaceRetired,
    ReporterKeyShredded,
    ReporterWrote,
    ReportTextShredded,
    SealedText,
    ShredReason,
    StaffWrote,
)
from hazardloop.log.eventstore import EventStoreUnavailable, History
from hazardloop.privacy.identity import Identity
from hazardloop.privacy.receipts import receipt_digest
from hazardloop.privacy.sealing import ERASED_API
from hazardloop.testing import InMemoryEventStore
from hazardloop.web.auth import Role
from hazardloop_intake.adapters import Intake
from hazardloop_intake.commands import (
    handle_catalogue_place,
    handle_disclose_identity,
    handle_erase_reporter,
    handle_file_report,
    handle_retire_place,
    handle_shred_report_text,
    handle_write_to_thread,
)
from hazardloop_intake.disclosure import DisclosureRefused
from hazardloop_intake.domain import CataloguePlace, Filer, FileReport
from hazardloop_intake.thread import Looker
from tests.factories import CATALOGUE, report_body
from tests.unit.services.intake.in_memory import intake_in_process, project

TENANT = "refinery"
OFFICER = "staff:conf-officer"
OBSERVED = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
"""When every report here was observed: a retry sends the same report again."""


class Contested(InMemoryEventStore):
    """The in-memory log where a rival command can be made to land right after a handler
    loads an aggregate, before it appends: a lost race, on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.rivals: dict[tuple[str, str], Callable[[], Awaitable[object]]] = {}

    async def load(self, tenant: str, aggregate_type: str, aggregate_id: str) -> History:
        history = await super().load(tenant, aggregate_type, aggregate_id)
        if (rival := self.rivals.pop((aggregate_type, aggregate_id), None)) is not None:
            await rival()
        return history


@pytest.fixture
async def intake() -> Intake:
    """Intake on an empty in-memory log, its catalogue holding ``CATALOGUE``."""
    intake = intake_in_process(Contested())
    for place in CATALOGUE:
        event, _ = await handle_catalogue_place(intake, CataloguePlace.model_validate({"tenant": TENANT, **place}), actor="staff:m")
        project(intake.connected.engine, event)
    return intake


async def events_of(intake: Intake, aggregate_type: str, aggregate_id: str) -> list:
    return [stored.event for stored in (await intake.store.load(TENANT, aggregate_type, aggregate_id)).events]


async def file(intake: Intake, key: str, *, filer: Filer = Filer(None), **body):
    """File ``report_body(**body)`` (anonymously unless it names a reporter) and let the read model take it in."""
    command = FileReport.model_validate(report_body(**({"anonymous": filer.subject is None, "observed_at": OBSERVED} | body)))
    filing = await handle_file_report(intake, command, filer=filer, idempotency_key=key)
    if filing.created:
        project(intake.connected.engine, filing.event)
    return filing


# --- filing a report ------------------------------------------------------------------------


async def test_an_anonymous_report_is_filed_once_per_key_and_a_retry_gets_its_receipt_code_back(intake):
    first = await file(intake, "phone-key-0001")
    again = await file(intake, "phone-key-0001")
    assert first.created and not again.created
    assert again.event == first.event and again.receipt_code == first.receipt_code
    assert first.event.anonymous and first.event.identity is None
    assert first.event.receipt_digest == receipt_digest(first.receipt_code)
    assert await events_of(intake, "report", first.event.aggregate_id) == [first.event]
    assert isinstance(first.event.description, SealedText)  # never in clear in the log
    assert await intake.texts.open(TENANT, first.event.description) == report_body()["description"]


async def test_a_filing_the_log_never_took_is_filed_once_by_its_retry(intake):
    intake.store.fail_next()  # the broker is down as the filing comes
    with pytest.raises(EventStoreUnavailable):
        await file(intake, "outage-0001")
    filing = await file(intake, "outage-0001")
    assert filing.created and await events_of(intake, "report", filing.event.aggregate_id) == [filing.event]


async def test_a_key_reused_for_another_report_is_refused_and_records_nothing(intake):
    first = await file(intake, "phone-key-0002")
    with pytest.raises(Invalid) as refused:
        await file(intake, "phone-key-0002", description="A different hazard altogether")
    assert refused.value.field == "Idempotency-Key"
    assert await events_of(intake, "report", first.event.aggregate_id) == [first.event]


async def test_a_new_report_is_appended_without_reading_its_aggregate_first(intake, monkeypatch):
    looked: list[tuple[str, ...]] = []
    load = intake.store.load

    async def watched(*key: str) -> History:
        looked.append(key)
        return await load(*key)

    monkeypatch.setattr(intake.store, "load", watched)
    filing = await file(intake, "fresh-0001")
    assert filing.created and looked == []
    assert not (await file(intake, "fresh-0001")).created  # the retry looks, and finds it


async def test_of_two_reports_sent_at_once_with_one_key_one_is_filed_and_the_other_refused(intake):
    """The second's guard at version 0 is lost; it reads the first and is no retry of it."""
    results = await asyncio.gather(
        file(intake, "same-key-0001"), file(intake, "same-key-0001", description="Another hazard, same key"), return_exceptions=True
    )
    [filed] = [r for r in results if not isinstance(r, Exception)]
    [refused] = [r for r in results if isinstance(r, Exception)]
    assert filed.created and isinstance(refused, Invalid) and refused.field == "Idempotency-Key"
    assert await events_of(intake, "report", filed.event.aggregate_id) == [filed.event]


async def test_a_named_report_is_filed_under_the_reporters_pseudonym_with_the_identity_sealed(intake):
    filing = await file(intake, "named-0001", filer=Filer("E-1001"), reporter={"employee_number": "E-1001", "name": "王工人"})
    pseudonym = await intake.directory().find(TENANT, "E-1001")
    assert filing.created and filing.receipt_code is None
    assert filing.event.reporter == pseudonym and filing.event.actor == f"reporter:{pseudonym}"
    opened = await intake.vault().open(TENANT, filing.event.aggregate_id, filing.event.identity)
    assert opened == Identity(employee_number="E-1001", name="王工人")
    later = await file(intake, "named-0002", filer=Filer("E-1001"))
    assert later.event.reporter == pseudonym  # one pseudonym per person, report after report


async def test_a_named_report_without_anyone_signed_in_is_refused_and_records_nothing(intake):
    command = FileReport.model_validate(report_body(reporter={"employee_number": "E-1001"}))
    with pytest.raises(Invalid) as refused:
        await handle_file_report(intake, command, filer=Filer(None), idempotency_key="typed-number-1")
    assert refused.value.field == "who"
    assert await intake.directory().find(TENANT, "E-1001") is None


async def test_a_report_cites_only_photos_uploaded_to_its_subsidiary(intake):
    photo = intake.attachments().upload(TENANT, "ab" * 32)
    with pytest.raises(Invalid) as refused:
        await file(intake, "photos-0001", attachments=["cd" * 32])
    assert refused.value.field == "attachments.0"
    filing = await file(intake, "photos-0002", attachments=[photo.digest])
    assert filing.event.attachments == (photo,)


async def test_a_report_is_located_by_the_catalogue_with_the_names_of_the_places_above_its_own(intake):
    on_spot = await file(intake, "where-0001")
    in_area = await file(intake, "where-0002", place_id="pipe-rack", spot_detail="by the ladder")
    assert (on_spot.event.location.site, on_spot.event.location.area, on_spot.event.location.spot) == ("North", "Pipe rack", "Bay 3")
    assert on_spot.event.location.equipment_tag == "PR-3"
    assert (in_area.event.location.site, in_area.event.location.area, in_area.event.location.spot) == ("North", "Pipe rack", "by the ladder")
    with pytest.raises(Invalid) as refused:
        await file(intake, "where-0003", place_id="north")
    assert refused.value.field == "place_id"


async def test_a_second_report_on_the_same_spot_points_at_the_first_as_a_possible_duplicate(intake):
    first = await file(intake, "spot-0001")
    second = await file(intake, "spot-0002", description="Still no harness at bay 3")
    assert first.event.possible_duplicate_of is None and second.event.possible_duplicate_of == first.event.aggregate_id


# --- the catalogue --------------------------------------------------------------------------


async def test_a_place_is_catalogued_once_and_its_id_is_never_another_places(intake):
    area = CataloguePlace(tenant=TENANT, place_id="tank-farm", kind="area", parent_id="north", name="Tank farm")
    spot = CataloguePlace(tenant=TENANT, place_id="tank-7", kind="spot", parent_id="tank-farm", name="Tank 7")
    created, was_new = await handle_catalogue_place(intake, area, actor="staff:m")
    inside, _ = await handle_catalogue_place(intake, spot, actor="staff:m")  # its parent read from the log, not yet projected
    repeated, again = await handle_catalogue_place(intake, area, actor="staff:m")
    assert was_new and not again and repeated == created and inside.parent_id == "tank-farm"
    with pytest.raises(DomainError) as conflict:
        await handle_catalogue_place(intake, area.model_copy(update={"name": "Tank yard"}), actor="staff:m")
    assert (conflict.value.status_code, conflict.value.state) == (409, "catalogued")
    assert await events_of(intake, "place", "tank-farm") == [created]


async def test_a_place_is_retired_once_and_then_takes_no_reports(intake):
    retired = await handle_retire_place(intake, TENANT, "bay-3", reason="Rack dismantled", actor="staff:m")
    assert isinstance(retired, PlaceRetired)
    with pytest.raises(DomainError) as again:
        await handle_retire_place(intake, TENANT, "bay-3", reason="Rack dismantled", actor="staff:m")
    assert again.value.state == "retired"
    with pytest.raises(NotFound):
        await handle_retire_place(intake, TENANT, "no-such-place", reason="typo", actor="staff:m")
    project(intake.connected.engine, retired)
    with pytest.raises(Invalid, match="retired") as refused:
        await file(intake, "retired-0001")
    assert refused.value.field == "place_id"


async def test_of_two_racing_retirements_one_lands_and_the_other_hears_the_place_is_retired(intake):
    rival = handle_retire_place(intake, TENANT, "bay-3", reason="Rack dismantled", actor="staff:n")
    intake.store.rivals[("place", "bay-3")] = lambda: rival  # lands between this one's load and its append
    with pytest.raises(DomainError) as lost:
        await handle_retire_place(intake, TENANT, "bay-3", reason="Rack gone", actor="staff:m")
    assert lost.value.state == "retired"
    [_, retired] = await events_of(intake, "place", "bay-3")
    assert isinstance(retired, PlaceRetired) and retired.reason == "Rack dismantled"


# --- the thread -----------------------------------------------------------------------------


async def test_a_message_is_written_once_however_often_it_is_sent_and_sealed(intake):
    filing = await file(intake, "thread-0001")
    report_id = filing.event.aggregate_id
    reporter = Looker(reporter=True, actor=f"reporter:{filing.event.reporter}", receipt_code=filing.receipt_code)
    staff = Looker(reporter=False, actor="verifier-li")
    written = await handle_write_to_thread(intake, TENANT, report_id, who=reporter, text="Is anyone looking?", idempotency_key="m-1")
    resent = await handle_write_to_thread(intake, TENANT, report_id, who=reporter, text="Is anyone looking?", idempotency_key="m-1")
    answer = await handle_write_to_thread(intake, TENANT, report_id, who=staff, text="Yes, tomorrow.", idempotency_key="m-2")
    assert resent == written and isinstance(written, ReporterWrote) and isinstance(answer, StaffWrote)
    assert await events_of(intake, "thread", report_id) == [written, answer]
    assert await intake.texts.open(TENANT, written.text) == "Is anyone looking?"


# --- identities: disclosed on purpose, erased on request ------------------------------------


async def test_an_identity_is_disclosed_only_as_the_policy_allows_and_each_look_is_recorded_first(intake):
    filing = await file(intake, "disclose-0001", filer=Filer("E-1001"), reporter={"employee_number": "E-1001", "name": "Li"})
    report_id, reporter = filing.event.aggregate_id, filing.event.reporter
    with pytest.raises(DisclosureRefused):  # finance, before any reward was granted through payroll
        await handle_disclose_identity(intake, TENANT, report_id, purpose="payout", role=Role.FINANCE, actor="staff:fin")
    assert await events_of(intake, "reporter", reporter) == []
    identity, disclosed = await handle_disclose_identity(
        intake, TENANT, report_id, purpose="retaliation complaint", role=Role.CONFIDENTIALITY_OFFICER, actor=OFFICER
    )
    assert identity == Identity(employee_number="E-1001", name="Li")
    assert isinstance(disclosed, IdentityDisclosed) and disclosed.role == Role.CONFIDENTIALITY_OFFICER.value
    assert await intake.texts.open(TENANT, disclosed.purpose) == "retaliation complaint"  # sealed under the report's key
    assert await events_of(intake, "reporter", reporter) == [disclosed]


async def test_an_anonymous_or_unknown_report_has_no_identity_to_disclose(intake):
    anonymous = await file(intake, "disclose-0002")
    with pytest.raises(DomainError) as refused:
        await handle_disclose_identity(
            intake, TENANT, anonymous.event.aggregate_id, purpose="investigation", role=Role.CONFIDENTIALITY_OFFICER, actor=OFFICER
        )
    assert refused.value.state == "anonymous"
    with pytest.raises(NotFound):
        await handle_disclose_identity(intake, TENANT, "no-such-report", purpose="investigation", role=Role.CONFIDENTIALITY_OFFICER, actor=OFFICER)


async def test_erasing_a_reporter_leaves_their_identity_and_their_reports_text_unreadable(intake):
    filing = await file(intake, "erase-0001", filer=Filer("E-1001"), reporter={"employee_number": "E-1001"})
    report_id, reporter = filing.event.aggregate_id, filing.event.reporter
    erased = await handle_erase_reporter(intake, TENANT, reporter, reason="the reporter asked", actor=OFFICER)
    assert isinstance(erased, ReporterKeyShredded)
    assert await intake.directory().find(TENANT, "E-1001") is None
    assert await intake.texts.open(TENANT, filing.event.description) == ERASED_API
    with pytest.raises(DomainError) as gone:
        await handle_disclose_identity(intake, TENANT, report_id, purpose="check", role=Role.CONFIDENTIALITY_OFFICER, actor=OFFICER)
    assert gone.value.state == "erased"
    [shredded] = [event for event in await events_of(intake, "report", report_id) if isinstance(event, ReportTextShredded)]
    assert shredded.reason == ShredReason.REPORTER_ERASURE

    again = await handle_erase_reporter(intake, TENANT, reporter, reason="the reporter asked", actor=OFFICER)  # a retry finishes it
    assert again == erased
    assert await events_of(intake, "reporter", reporter) == [erased]
    assert len(await events_of(intake, "report", report_id)) == 2  # the filing and one text shredding


async def test_a_reports_text_is_destroyed_once_whatever_asks_again(intake):
    filing = await file(intake, "shred-0001")
    report_id = filing.event.aggregate_id
    first = await handle_shred_report_text(intake, TENANT, report_id, reason=ShredReason.RETENTION, actor="policy:retention")
    again = await handle_shred_report_text(intake, TENANT, report_id, reason=ShredReason.RETENTION, actor="policy:retention")
    assert again == first and first.reason == ShredReason.RETENTION
    assert await events_of(intake, "report", report_id) == [filing.event, first]
    assert await intake.texts.open(TENANT, filing.event.description) == ERASED_API
