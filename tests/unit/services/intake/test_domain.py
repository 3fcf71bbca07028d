from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hazardloop.errors import Invalid
from hazardloop_intake.domain import FileReport, file_report, same_report
from tests.factories import REPORTER, new_id, report_body

NOW = datetime.now(UTC)


def test_filing_records_the_pseudonym_not_the_person():
    command = FileReport.model_validate(report_body())
    event = file_report(command, report_id=new_id(), reporter=REPORTER, event_id=None, now=NOW)
    assert event.reporter == REPORTER and event.actor == f"reporter:{REPORTER}"
    assert event.location.spot == "Bay 3" and event.tenant == "refinery"


def test_hazards_cannot_be_observed_in_the_future():
    command = FileReport.model_validate(report_body(observed_at=(NOW + timedelta(hours=1)).isoformat()))
    with pytest.raises(Invalid) as refused:
        file_report(command, report_id=new_id(), reporter=REPORTER, event_id=None, now=NOW)
    assert refused.value.field == "observed_at"


@pytest.mark.parametrize(
    "overrides, field",
    [({"category": "gossip"}, "category"), ({"description": "   "}, "description"),
     ({"observed_at": "2026-01-01T10:00:00"}, "observed_at"), ({"location": {"site": "x"}}, "location"),
     ({"tenant": "Bad Tenant"}, "tenant"), ({"reporter_name": "Li"}, "reporter_name")],
)
def test_bad_reports_name_the_field(overrides, field):
    with pytest.raises(ValidationError, match=field):
        FileReport.model_validate(report_body(**overrides))


def test_a_retry_is_recognised_as_the_same_report():
    command = FileReport.model_validate(report_body())
    stored = file_report(command, report_id=new_id(), reporter=REPORTER, event_id=None, now=NOW)
    assert same_report(stored, command)
    assert not same_report(stored, command.model_copy(update={"description": "different"}))
