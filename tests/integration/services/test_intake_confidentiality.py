"""Reporter confidentiality on a real broker: sealed identities, audited disclosure, erasure, anonymity."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import nats
import pytest

from hazardloop.events import decode_event
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

NAME, NUMBER = "Zhang Xiaoming", "E-77123"
OFFICER = {"roles": [Role.CONFIDENTIALITY_OFFICER]}


@pytest.fixture
def intake(harness):
    return harness.start("intake")


def stream_bytes(harness) -> bytes:
    """Every stored message of the stream, headers included, as one byte string."""

    async def read() -> bytes:
        connection = await nats.connect(harness.nats_url)
        try:
            js = connection.jetstream()
            last = (await js.stream_info(harness.stream)).state.last_seq
            messages = [await js.get_msg(harness.stream, seq) for seq in range(1, last + 1)]
            return b"".join(m.subject.encode() + json.dumps(m.headers or {}).encode() + m.data for m in messages)
        finally:
            await connection.close()

    return asyncio.run(read())


def file_named(harness, intake, **overrides) -> str:
    """A hotline report entered by a safety officer for a named employee."""
    body = report_body(channel="hotline", reporter={"employee_number": NUMBER, "name": NAME, "phone": "+86 139 1234 5678"})
    response = intake.post("/reports", json=body | overrides, headers=harness.headers("officer-li", roles=[Role.VERIFIER]))
    assert response.status_code == 201, response.text
    return response.json()["report_id"]


def test_the_raw_stream_holds_neither_name_nor_employee_number(harness, intake):
    file_named(harness, intake)
    own = report_body(reporter={"employee_number": "E-55555", "name": "Wang Fang"})
    assert intake.post("/reports", json=own, headers=harness.headers("E-55555")).status_code == 201
    raw = stream_bytes(harness)
    for secret in (NAME, NUMBER, "Wang Fang", "E-55555", "1234 5678", "officer-li"):
        assert secret.encode() not in raw, secret
    filed = [decode_event(data) for _, data in harness.raw_log("report")]
    assert all(event.identity is not None and event.reporter.startswith("p-") for event in filed)


def test_a_reporters_pseudonym_is_random_stable_and_found_only_through_the_directory(harness, intake):
    me = harness.headers("E-55555")
    first = intake.post("/reports", json=report_body(), headers=me).json()["report_id"]
    second = intake.post("/reports", json=report_body(description="Second: a loose handrail."), headers=me).json()["report_id"]
    mine = wait_for(lambda: len(r := intake.get("/reports", headers=me).json()) == 2 and r)
    assert {r["report_id"] for r in mine} == {first, second} and len({r["reporter"] for r in mine}) == 1
    pseudonym = mine[0]["reporter"]
    key = harness.common["pseudonym_key"].encode()
    assert pseudonym != Pseudonymizer(key).of("refinery", "E-55555")  # what the old keyed hash would have made
    assert intake.get("/reports", headers=harness.headers("E-55556")).json() == []


class Pseudonymizer:
    """The keyed hash pseudonyms used to be: whoever held the key could try employee numbers."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, tenant: str, subject: str) -> str:
        return "p-" + hmac.new(self._key, f"{tenant}\x1f{subject}".encode(), hashlib.sha256).hexdigest()[:32]


def test_a_disclosure_is_recorded_before_the_identity_is_shown(harness, intake):
    report_id = file_named(harness, intake)
    officer = harness.headers("co-chen", **OFFICER)
    disclosed = intake.post(f"/reports/{report_id}/identity", json={"tenant": "refinery", "purpose": "reward payout"}, headers=officer)
    assert disclosed.status_code == 200, disclosed.text
    assert disclosed.json()["identity"] == {"employee_number": NUMBER, "name": NAME, "phone": "+86 139 1234 5678"}
    (subject, data), = harness.raw_log("reporter")
    event = decode_event(data)
    assert (event.type, event.report_id, event.role) == ("IdentityDisclosed", report_id, "confidentiality_officer")
    assert event.purpose.key_id == report_id and b"reward payout" not in data  # sealed under the report's text key
    log = wait_for(lambda: intake.get("/disclosures", params={"tenant": "refinery"}, headers=officer).json())
    assert [(d["report_id"], d["actor"], d["purpose"]) for d in log] == [(report_id, "staff:co-chen", "reward payout")]


@pytest.mark.parametrize(
    "who, status",
    [({"roles": [Role.VERIFIER]}, 403), ({"roles": [Role.AUDITOR]}, 403), ({"roles": [Role.REPORTER]}, 403),
     ({"tenants": ["mine"], **OFFICER}, 403)],
)
def test_only_those_who_need_it_may_disclose(harness, intake, who, status):
    report_id = file_named(harness, intake)
    response = intake.post(
        f"/reports/{report_id}/identity", json={"tenant": "refinery", "purpose": "curiosity"}, headers=harness.headers("x", **who)
    )
    assert response.status_code == status
    assert harness.raw_log("reporter") == []


def test_erasing_a_reporters_key_leaves_history_replayable_and_the_identity_unreadable(harness, intake):
    report_id = file_named(harness, intake)
    officer = harness.headers("co-chen", **OFFICER)
    reporter = wait_for(lambda: (r := intake.get(f"/reports/{report_id}", headers=officer)).status_code == 200 and r.json())["reporter"]
    erased = intake.post(f"/reporters/{reporter}/erasure", json={"tenant": "refinery", "reason": "leaving the company"}, headers=officer)
    assert erased.status_code == 200, erased.text
    refused = intake.post(f"/reports/{report_id}/identity", json={"tenant": "refinery", "purpose": "reward payout"}, headers=officer)
    assert refused.status_code == 409 and refused.json()["state"] == "erased"
    types = [decode_event(data).type for _, data in harness.raw_log("reporter")]
    assert types[0] == "ReporterKeyShredded"
    assert intake.get("/reports", headers=harness.headers(NUMBER)).json() == []  # no longer theirs: the link is gone
    again = intake.post("/reports", json=report_body(), headers=harness.headers(NUMBER))
    assert again.status_code == 201, again.text
    own = wait_for(lambda: intake.get("/reports", headers=harness.headers(NUMBER)).json())
    assert [r["report_id"] for r in own] == [again.json()["report_id"]] and own[0]["reporter"] != reporter  # a new pseudonym
    harness.close()  # the report survives a rebuild of intake's store from the log
    (harness.tmp_path / "intake.db").unlink()
    rebuilt = harness.start("intake")
    report = wait_for(lambda: (r := rebuilt.get(f"/reports/{report_id}", headers=officer)).status_code == 200 and r.json())
    assert report["reporter"] == reporter and report["channel"] == "hotline"


def test_anonymous_reports_name_nobody_and_are_followed_by_receipt_code(harness, intake):
    headers = harness.headers("emp-9") | {"Idempotency-Key": "anon-report-0001"}
    body = report_body(anonymous=True)
    filed = intake.post("/reports", json=body, headers=headers)
    assert filed.status_code == 201 and filed.headers["Cache-Control"] == "no-store"
    code = filed.json()["receipt_code"]
    again = intake.post("/reports", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["receipt_code"] == code  # a lost response can be retried
    (subject, data), = harness.raw_log("report")
    event = decode_event(data)
    assert event.anonymous and event.identity is None and code.encode() not in data and code.replace("-", "").encode() not in data
    assert event.entered_by is None
    followed = wait_for(lambda: (r := intake.get("/receipt", headers={"Receipt-Code": code.lower()})).status_code == 200 and r.json())
    assert followed["report_id"] == filed.json()["report_id"] and [s["type"] for s in followed["timeline"]] == ["ReportFiled"]
    assert intake.get("/receipt", headers={"Receipt-Code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}).status_code == 404
    assert intake.get("/reports", headers=harness.headers("emp-9")).json() == []  # not linked to the filer's token
    officer = harness.headers("co-chen", **OFFICER)
    refused = intake.post(f"/reports/{event.aggregate_id}/identity", json={"tenant": "refinery", "purpose": "payout"}, headers=officer)
    assert refused.status_code == 409 and refused.json()["state"] == "anonymous"


@pytest.mark.parametrize(
    "who, body, field",
    [("reporter", {"channel": "hotline"}, "channel"),
     ("verifier", {"channel": "verbal"}, "reporter"),
     ("reporter", {"reporter": {"employee_number": "E-1"}}, "employee_number")],
)
def test_only_safety_officers_enter_reports_for_others(harness, intake, who, body, field):
    roles = [Role.VERIFIER] if who == "verifier" else [Role.REPORTER]
    response = intake.post("/reports", json=report_body(**body), headers=harness.headers("emp-2", roles=roles))
    assert response.status_code == 422 and field in response.text
    assert harness.raw_log("report") == []
