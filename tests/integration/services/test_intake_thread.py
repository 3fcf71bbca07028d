"""A report's thread over intake's HTTP API, on a real broker: who may write, what is refused,
and that a refusal appends nothing."""

from __future__ import annotations

import json

import pytest

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

CODE_OF_NOBODY = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"


@pytest.fixture
def intake(harness):
    return harness.start("intake")


@pytest.fixture
def anonymous(harness, intake):
    """(report id, receipt code) of an anonymous report."""
    filed = intake.post("/reports", json=report_body(anonymous=True), headers=harness.headers("emp-1")).json()
    return filed["report_id"], filed["receipt_code"]


def thread_events(harness) -> list[dict]:
    return [json.loads(data) for _, data in harness.raw_log("thread")]


def test_the_anonymous_reporter_and_the_safety_department_write_to_each_other(harness, intake, anonymous):
    report_id, code = anonymous
    asked = intake.post(f"/reports/{report_id}/thread", json={"text": "The detector is still off today."}, headers={"Receipt-Code": code})
    assert asked.status_code == 201
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    answered = intake.post(f"/reports/{report_id}/thread", json={"text": "We replace it this afternoon."}, headers=officer)
    assert answered.status_code == 201

    def both(headers):
        return wait_for(lambda: len(r := intake.get(f"/reports/{report_id}/thread", headers=headers).json()) == 2 and r)

    mine = both({"Receipt-Code": code.lower().replace("-", " ")})  # typed as it comes
    assert [(m["from_reporter"], m["text"], m["by"]) for m in mine] == [
        (True, "The detector is still off today.", None), (False, "We replace it this afternoon.", None)
    ]
    assert [m["by"] for m in both(officer)] == [None, "officer-li"]
    wrote, replied = thread_events(harness)
    assert (wrote["type"], replied["type"]) == ("ReporterWrote", "StaffWrote")
    assert wrote["actor"].startswith("reporter:p-") and replied["actor"] == "officer-li"
    assert wrote["aggregate_id"] == replied["aggregate_id"] == report_id


def test_a_message_sent_twice_with_its_key_is_written_once(harness, intake, anonymous):
    report_id, code = anonymous
    headers = {"Receipt-Code": code, "Idempotency-Key": "message-0001"}
    first = intake.post(f"/reports/{report_id}/thread", json={"text": "Hello"}, headers=headers)
    again = intake.post(f"/reports/{report_id}/thread", json={"text": "Hello"}, headers=headers)
    assert first.json()["message_id"] == again.json()["message_id"]
    assert len(thread_events(harness)) == 1


def test_a_named_reporter_writes_with_their_token_and_nobody_else_can(harness, intake):
    filed = intake.post("/reports", json=report_body(), headers=harness.headers("emp-7")).json()
    report_id = filed["report_id"]
    assert intake.post(f"/reports/{report_id}/thread", json={"text": "Any news?"}, headers=harness.headers("emp-7")).status_code == 201
    assert intake.post(f"/reports/{report_id}/thread", json={"text": "Me too"}, headers=harness.headers("emp-8")).status_code == 404
    assert len(thread_events(harness)) == 1


@pytest.mark.parametrize(
    "case",
    ["over_the_limit", "empty", "control_characters", "unknown_report", "other_subsidiary", "wrong_code", "no_proof", "rectifier",
     "extra_field"],
)
def test_bad_messages_are_refused_and_nothing_is_appended(harness, intake, anonymous, case):
    report_id, code = anonymous
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    body, headers, path, expected = {"text": "Fine"}, officer, f"/reports/{report_id}/thread", 201
    match case:
        case "over_the_limit":
            body, expected = {"text": "隐" * 2001}, 422
        case "empty":
            body, expected = {"text": "   "}, 422
        case "control_characters":
            body, expected = {"text": "a\x00b"}, 422
        case "unknown_report":
            path, expected = "/reports/no-such-report/thread", 404
        case "other_subsidiary":
            headers, expected = harness.headers("officer-ma", tenants=["mine"], roles=[Role.VERIFIER]), 404
        case "wrong_code":
            headers, expected = {"Receipt-Code": CODE_OF_NOBODY}, 404
        case "no_proof":
            headers, expected = {}, 401
        case "rectifier":
            headers, expected = harness.headers("maint-chen", roles=[Role.RECTIFIER]), 404
        case "extra_field":
            body, expected = {"text": "Fine", "from_reporter": True}, 422
    answer = intake.post(path, json=body, headers=headers)
    assert answer.status_code == expected, answer.text
    if expected == 422:
        assert answer.json()["detail"][0]["loc"][-1] in ("text", "from_reporter")
    assert thread_events(harness) == []


def test_a_wrong_code_and_an_unknown_report_answer_the_same(harness, intake, anonymous):
    report_id, _ = anonymous
    wrong = intake.get(f"/reports/{report_id}/thread", headers={"Receipt-Code": CODE_OF_NOBODY})
    unknown = intake.get("/reports/no-such-report/thread", headers={"Receipt-Code": CODE_OF_NOBODY})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"].replace(report_id, "?") == unknown.json()["detail"].replace("no-such-report", "?")


def test_the_safety_departments_feedback_is_in_the_reporters_thread(harness, intake, anonymous):
    report_id, code = anonymous
    verification = harness.start("verification")
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    wait_for(lambda: verification.get(f"/reports/{report_id}", headers=officer).status_code == 200)
    assert verification.post(f"/reports/{report_id}/acceptance", json={}, headers=officer).status_code == 201
    fed_back = verification.post(f"/reports/{report_id}/feedback", json={"message": "We are checking it today."}, headers=officer)
    assert fed_back.status_code == 201, fed_back.text
    thread = wait_for(lambda: (r := intake.get(f"/reports/{report_id}/thread", headers={"Receipt-Code": code}).json()) and r)
    assert [(m["from_reporter"], m["text"]) for m in thread] == [(False, "We are checking it today.")]


def test_messages_are_sealed_in_the_log_and_erased_with_the_reporters_text(harness, intake):
    filed = intake.post("/reports", json=report_body(), headers=harness.headers("emp-7")).json()
    report_id = filed["report_id"]
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    wait_for(lambda: intake.get(f"/reports/{report_id}", headers=officer).status_code == 200)
    written = "My foreman Zhang Wei told me to keep quiet about it."
    assert intake.post(f"/reports/{report_id}/thread", json={"text": written}, headers=harness.headers("emp-7")).status_code == 201
    (_, data), = harness.raw_log("thread")
    assert b"Zhang Wei" not in data and json.loads(data)["text"]["scheme"] == "aes-256-gcm"
    assert wait_for(lambda: intake.get(f"/reports/{report_id}/thread", headers=officer).json())[0]["text"] == written

    pseudonym = intake.get(f"/reports/{report_id}", headers=officer).json()["reporter"]
    confidentiality = harness.headers("co-1", roles=[Role.CONFIDENTIALITY_OFFICER])
    erased = intake.post(f"/reporters/{pseudonym}/erasure", json={"tenant": "refinery", "reason": "erasure request"}, headers=confidentiality)
    assert erased.status_code == 200, erased.text
    assert wait_for(lambda: intake.get(f"/reports/{report_id}/thread", headers=officer).json()[0]["text"] == "(erased)")
    assert b"Zhang Wei" not in (harness.tmp_path / "intake.db").read_bytes()
