from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hazardloop.errors import NotFound
from hazardloop.eventstore import History, StoredEvent
from hazardloop_verification.domain import AlreadyVerified, NotRectifiable, Rectify, ReportCase, Stage, Verify
from tests.factories import report_filed

NOW = datetime.now(UTC)


def case_of(*events) -> ReportCase:
    history = History(tuple(StoredEvent(i + 1, e) for i, e in enumerate(events)))
    return ReportCase.from_history(events[0].tenant if events else "refinery", events[0].aggregate_id if events else "r", history)


def test_verify_records_outcome_chained_to_the_filing():
    filed = report_filed()
    event = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="major"), actor="v1", now=NOW)
    assert event.prev_hash == filed.hash and event.grade == "major" and event.actor == "v1"


def test_a_report_cannot_be_verified_twice():
    filed = report_filed()
    first = case_of(filed).verify(Verify(outcome="not_confirmed"), actor="v1", now=NOW)
    with pytest.raises(AlreadyVerified) as refused:
        case_of(filed, first).verify(Verify(outcome="confirmed_hazard", grade="general"), actor="v2", now=NOW)
    assert refused.value.state == Stage.CLOSED_UNCONFIRMED


def test_rectification_needs_a_confirmed_hazard_and_happens_once():
    filed = report_filed()
    with pytest.raises(NotRectifiable, match="verified before"):
        case_of(filed).rectify(Rectify(measures="fixed"), actor="o", now=NOW)
    valid = case_of(filed).verify(Verify(outcome="valid_not_hazard"), actor="v", now=NOW)
    with pytest.raises(NotRectifiable, match="not a confirmed hazard"):
        case_of(filed, valid).rectify(Rectify(measures="fixed"), actor="o", now=NOW)
    confirmed = case_of(filed).verify(Verify(outcome="confirmed_hazard", grade="larger"), actor="v", now=NOW)
    rectified = case_of(filed, confirmed).rectify(Rectify(measures="valve replaced"), actor="o", now=NOW)
    assert rectified.prev_hash == confirmed.hash
    with pytest.raises(NotRectifiable, match="already rectified") as refused:
        case_of(filed, confirmed, rectified).rectify(Rectify(measures="again"), actor="o", now=NOW)
    assert refused.value.state == Stage.RECTIFIED


def test_unknown_report_is_not_found():
    with pytest.raises(NotFound):
        ReportCase.from_history("refinery", "missing", History(()))


@pytest.mark.parametrize(
    "body, field",
    [({"outcome": "confirmed_hazard"}, "grade is required"), ({"outcome": "not_confirmed", "grade": "major"}, "grade applies"),
     ({"outcome": "maybe"}, "outcome"), ({"outcome": "not_confirmed", "extra": 1}, "extra")],
)
def test_verify_command_validation_names_the_problem(body, field):
    with pytest.raises(ValidationError, match=field):
        Verify.model_validate(body)
