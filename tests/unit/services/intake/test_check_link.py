"""A report filed to answer a check elsewhere: linked in the log, and refused (nothing
recorded) when the check is not addressed to its subsidiary, already answered or closed,
or when it is not a safety officer filing it in their own name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.errors import DomainError, Invalid
from hazardloop.events import GENESIS_HASH, CheckAnswered, CheckClosed, CheckRaised, CheckTaskOpened
from hazardloop_intake.adapters import Intake
from hazardloop_intake.domain import Filer
from tests.unit.services.intake.test_commands import TENANT, file, intake  # noqa: F401 - the fixture

NOW = datetime.now(UTC)
OFFICER = Filer("E-2001", staff=True)
CHECK = "c-7"


async def addressed(intake: Intake, *, answered: bool = False, closed: bool = False) -> None:  # noqa: F811
    """A check raised in the mine on its report, addressed to the refinery (``TENANT``)."""
    raised = CheckRaised.record(
        prev_hash=GENESIS_HASH, tenant="mine", aggregate_id=CHECK, actor="hq", occurred_at=NOW, report_id="r-1", grade="major",
        category="unsafe_equipment", look_for="Gas detectors switched off", subsidiaries=(TENANT,),
    )
    opened = CheckTaskOpened.record(
        prev_hash=GENESIS_HASH, tenant=TENANT, aggregate_id=CHECK, actor="hq", occurred_at=NOW, origin_tenant="mine",
        report_id="r-1", category="unsafe_equipment", look_for="Gas detectors switched off", deadline=NOW + timedelta(days=15),
    )
    first = await intake.store.append(raised, expected_version=0)
    stored = await intake.store.append(opened, expected_version=0)
    if answered:
        answer = CheckAnswered.record(prev_hash=opened.hash, tenant=TENANT, aggregate_id=CHECK, actor="x", answer="not_present")
        await intake.store.append(answer, expected_version=stored.sequence)
    if closed:
        await intake.store.append(CheckClosed.record(prev_hash=raised.hash, tenant="mine", aggregate_id=CHECK, actor="hq"), expected_version=first.sequence)


async def refused(intake: Intake, error: type[Exception], **body) -> Exception:  # noqa: F811
    before = await intake.store.last_sequence()
    with pytest.raises(error) as refusal:
        await file(intake, "found-0001", **body)
    assert await intake.store.last_sequence() == before, "a refused filing records nothing"
    return refusal.value


async def test_a_safety_officers_report_answering_an_open_check_is_filed_linked_to_it(intake):  # noqa: F811
    await addressed(intake)
    filing = await file(intake, "found-0001", filer=OFFICER, check_id=CHECK)
    assert filing.created and filing.event.check_id == CHECK


async def test_a_link_to_a_check_not_addressed_here_is_refused_naming_the_field(intake):  # noqa: F811
    assert (await refused(intake, Invalid, filer=OFFICER, check_id="c-unknown")).field == "check_id"


async def test_only_a_safety_officer_in_their_own_name_answers_a_check(intake):  # noqa: F811
    await addressed(intake)
    assert (await refused(intake, Invalid, filer=Filer("E-1001"), check_id=CHECK)).field == "check_id"
    assert (await refused(intake, Invalid, check_id=CHECK)).field == "check_id"  # anonymous


async def test_a_check_already_answered_or_closed_takes_no_found_report(intake):  # noqa: F811
    await addressed(intake, answered=True)
    assert (await refused(intake, DomainError, filer=OFFICER, check_id=CHECK)).state == "answered"


async def test_a_closed_check_takes_no_found_report(intake):  # noqa: F811
    await addressed(intake, closed=True)
    assert (await refused(intake, DomainError, filer=OFFICER, check_id=CHECK)).state == "closed"
