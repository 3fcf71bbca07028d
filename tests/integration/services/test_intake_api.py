"""Intake over HTTP: validation, authorisation, idempotency and outages, on a real broker."""

from __future__ import annotations

import json
import re

import pytest

from hazardloop.log.natsserver import NatsServer
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.integration.services.conftest import Harness
from tests.media import jpeg
from tests.waiting import wait_for


@pytest.fixture
def intake(harness):
    return harness.start("intake")


def test_a_filed_report_is_readable_by_its_reporter_and_staff_only(harness, intake):
    response = intake.post("/reports", json=report_body(), headers=harness.headers("emp-1"))
    assert response.status_code == 201
    report_id = response.json()["report_id"]
    assert response.headers["Location"] == f"/reports/{report_id}"
    own = wait_for(lambda: (r := intake.get(f"/reports/{report_id}", headers=harness.headers("emp-1"))).status_code == 200 and r)
    assert own.json()["status"] == "filed" and own.json()["location"]["spot"] == "Bay 3"
    assert own.json()["location"]["equipment_tag"] == "PR-3"
    assert intake.get(f"/reports/{report_id}", headers=harness.headers("emp-2")).status_code == 404
    verifier = harness.headers("v1", roles=[Role.VERIFIER])
    assert intake.get(f"/reports/{report_id}", headers=verifier).status_code == 200
    other_tenant = harness.headers("v2", tenants=["mine"], roles=[Role.VERIFIER])
    assert intake.get(f"/reports/{report_id}", headers=other_tenant).status_code == 404
    listed = intake.get("/reports", headers=harness.headers("emp-1")).json()
    assert [r["report_id"] for r in listed] == [report_id]


def test_the_raw_log_holds_a_pseudonym_never_the_reporters_id(harness, intake):
    intake.post("/reports", json=report_body(), headers=harness.headers("employee-4711"))
    (subject, data), = harness.raw_log("report")
    assert b"employee-4711" not in data
    assert json.loads(data)["reporter"].startswith("p-")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"category": "gossip"}, "category"),
        ({"category": 7}, "category"),
        ({"description": ""}, "description"),
        ({"observed_at": "yesterday"}, "observed_at"),
        ({"place_id": "nowhere"}, "place_id"),
        ({"place_id": "north"}, "place_id"),
        ({"subtype": "illegal_subcontracting"}, "subtype"),
        ({"tenant": "atlantis"}, "tenant"),
        ({"amount": 5}, "amount"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_nothing_is_appended(harness, intake, body, field):
    response = intake.post("/reports", json=report_body(**body), headers=harness.headers())
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])
    assert harness.raw_log("report") == []


def test_missing_fields_malformed_json_and_huge_bodies_are_refused(harness, intake):
    headers = harness.headers()
    body = report_body()
    del body["description"]
    missing = intake.post("/reports", json=body, headers=headers)
    assert missing.status_code == 422 and "description" in json.dumps(missing.json())
    malformed = intake.post("/reports", content=b'{"tenant": "refinery",', headers=headers | {"Content-Type": "application/json"})
    assert malformed.status_code == 422
    huge = intake.post("/reports", json=report_body(description="x" * 200_000), headers=headers)
    assert huge.status_code == 413
    assert harness.raw_log("report") == []


def test_tokens_roles_and_tenants_are_enforced(harness, intake):
    assert intake.post("/reports", json=report_body()).status_code == 401
    assert intake.post("/reports", json=report_body(), headers={"Authorization": "Bearer nope"}).status_code == 401
    finance = harness.headers(roles=[Role.FINANCE])
    assert intake.post("/reports", json=report_body(), headers=finance).status_code == 403
    wrong_tenant = intake.post("/reports", json=report_body(tenant="mine"), headers=harness.headers())
    assert wrong_tenant.status_code == 403
    assert harness.raw_log("report") == []


def test_a_retry_with_the_same_idempotency_key_returns_the_same_report(harness, intake):
    headers = harness.headers() | {"Idempotency-Key": "phone-retry-0001"}
    body = report_body()
    first = intake.post("/reports", json=body, headers=headers)
    again = intake.post("/reports", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["report_id"] == again.json()["report_id"]
    assert len(harness.raw_log("report")) == 1
    reused = intake.post("/reports", json=report_body(description="another hazard"), headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in json.dumps(reused.json())
    other_user = intake.post("/reports", json=body, headers=harness.headers("emp-2") | {"Idempotency-Key": "phone-retry-0001"})
    assert other_user.status_code == 201 and other_user.json()["report_id"] != first.json()["report_id"]


def test_broker_down_gives_503_with_retry_after_and_the_retry_files_once(tmp_path):
    server = NatsServer(tmp_path / "nats").start()
    restarted = NatsServer(tmp_path / "nats", port=server.port)
    harness = Harness(server.url, tmp_path, "OUTAGE", "outage")
    try:
        intake = harness.start("intake")
        headers = harness.headers() | {"Idempotency-Key": "during-outage-1"}
        body = report_body()
        server.kill()
        down = intake.post("/reports", json=body, headers=headers)
        assert down.status_code == 503 and down.headers["Retry-After"] == "2"
        assert intake.get("/readyz").status_code == 503
        restarted.start()
        assert harness.raw_log("report") == []  # the refused request left nothing behind
        retried = wait_for(lambda: (r := intake.post("/reports", json=body, headers=headers)).status_code in (200, 201) and r)
        again = intake.post("/reports", json=body, headers=headers)
        assert again.json()["report_id"] == retried.json()["report_id"]
        assert len(harness.raw_log("report")) == 1
    finally:
        harness.close()
        restarted.stop()


@pytest.mark.parametrize("text", ["gas leak\x00", "leak \x1b[31m", "\ud800"])
def test_control_characters_and_broken_unicode_are_422_not_500(harness, intake, text):
    body = json.dumps(report_body(description=text)).encode()  # \ud800 travels as a JSON escape
    response = intake.post("/reports", content=body, headers=harness.headers() | {"Content-Type": "application/json"})
    assert response.status_code == 422 and "description" in response.text
    assert harness.raw_log("report") == []


def test_chunked_bodies_over_the_limit_are_413(harness, intake):
    def chunks():
        for _ in range(200):
            yield b"x" * 1024

    response = intake.post("/reports", content=chunks(), headers=harness.headers() | {"Content-Type": "application/json"})
    assert response.status_code == 413


def test_times_keep_their_instant_whatever_the_zone(harness, intake):
    body = report_body(observed_at="2026-01-05T10:00:00+08:00")
    report_id = intake.post("/reports", json=body, headers=harness.headers()).json()["report_id"]
    report = wait_for(lambda: (r := intake.get(f"/reports/{report_id}", headers=harness.headers())).status_code == 200 and r.json())
    assert report["observed_at"] in ("2026-01-05T02:00:00Z", "2026-01-05T02:00:00+00:00")


def test_group_hq_reporters_see_their_own_reports(harness, intake):
    hq = harness.headers("hq-engineer", tenants=["*"])
    report_id = intake.post("/reports", json=report_body(tenant="mine"), headers=hq).json()["report_id"]
    wait_for(lambda: [r["report_id"] for r in intake.get("/reports", headers=hq).json()] == [report_id])


def test_the_report_form_shown_again_keeps_its_key_and_photos_so_sending_it_again_files_once(harness, intake):
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    link = intake.get("/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    path = link.split("://", 1)[1].partition("/")[2]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', intake.get(f"/{path}").text).group(1)
    form = {"idempotency_key": key, "lang": "en", "kind": "unsafe_behaviour:no_protective_equipment",
            "observed_at": "2026-06-01T08:30", "who": "anonymous", "description": ""}
    shown_again = intake.post(f"/{path}", data=form, files=[("photos", ("leak.jpg", jpeg(), "image/jpeg"))])
    assert shown_again.status_code == 422
    kept = re.findall(r'name="attachment" value="([0-9a-f]+)"', shown_again.text)
    assert len(kept) == 1 and f'value="{key}"' in shown_again.text
    completed = form | {"description": "Harness not clipped on", "attachment": kept[0]}
    first = intake.post(f"/{path}", data=completed)
    again = intake.post(f"/{path}", data=completed)  # pressed Send twice
    assert (first.status_code, again.status_code) == (201, 200)
    filed = [json.loads(data) for _, data in harness.raw_log("report")]
    assert len(filed) == 1 and [a["digest"] for a in filed[0]["attachments"]] == kept
