"""A named report needs a signed-in reporter: never filed under a number somebody typed."""

from __future__ import annotations

from functools import partial

import pytest

from hazardloop.errors import Invalid
from hazardloop_intake.commands import handle_file_report
from hazardloop_intake.domain import Filer, FileReport
from tests.factories import report_body


def test_a_named_report_with_nobody_signed_in_is_refused_naming_who_and_nothing_is_filed(harness):
    intake = harness.start("intake")
    command = FileReport.model_validate(report_body(channel="web", reporter={"employee_number": "E-10001", "name": "Colleague"}))
    with pytest.raises(Invalid) as refused:
        intake.portal.call(partial(handle_file_report, intake.app.state.intake, command, filer=Filer(None), idempotency_key="k-0001"))
    assert refused.value.field == "who"
    assert harness.raw_log("report") == []


def test_the_signed_in_reporter_files_under_his_own_subject_only(harness):
    intake = harness.start("intake")
    others = FileReport.model_validate(report_body(channel="web", reporter={"employee_number": "E-10001"}))
    with pytest.raises(Invalid) as refused:
        intake.portal.call(partial(handle_file_report, intake.app.state.intake, others, filer=Filer("E-20002"), idempotency_key="k-2"))
    assert refused.value.field == "reporter.employee_number"
    own = FileReport.model_validate(report_body(channel="web", reporter={"employee_number": "E-20002", "name": "王工人"}))
    filing = intake.portal.call(partial(handle_file_report, intake.app.state.intake, own, filer=Filer("E-20002"), idempotency_key="k-3"))
    assert filing.created and filing.receipt_code is None and filing.event.identity is not None
