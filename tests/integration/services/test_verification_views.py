"""Verification's read side over HTTP on a real broker: the queue, the board, the overdue list,
the ledger, and an anonymous reporter's escalation and dossier."""

from __future__ import annotations

import csv
import io

import pytest

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.integration.services.desk import Desk, at
from tests.waiting import wait_for

ON_THE_SPOT = {"outcome": "confirmed_hazard", "grade": "general", "on_the_spot": {"measures": "Harness clipped on"}}
AUTHORITY = {"authority": "County Emergency Management Bureau", "note": "Still not fixed after the deadline."}


@pytest.fixture
def desk(harness) -> Desk:
    return Desk(harness)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [case["report_id"] for case in response.json()]


def test_the_queue_shows_a_subsidiary_its_own_new_reports_and_hq_all(desk):
    refinery, done, mine = desk.file(), desk.file(reporter="emp-2"), desk.file("mine", reporter="emp-m")
    desk.ok(done, "verification", {"outcome": "not_confirmed"}, desk.verifier)
    desk.wait_case(done, lambda c: c["stage"] == "not_confirmed")

    assert ids(desk.api.get("/queue", headers=desk.verifier)) == [refinery]
    assert ids(desk.api.get("/queue", params={"stage": "not_confirmed"}, headers=desk.verifier)) == [done]
    for role in (Role.MANAGER, Role.AUDITOR):
        hq = desk.headers("hq-sun", tenants=["*"], roles=[role])
        assert set(ids(desk.api.get("/queue", headers=hq))) == {refinery, mine}
    assert desk.api.get("/queue", params={"tenant": "mine"}, headers=desk.verifier).status_code == 403
    assert desk.api.get(f"/reports/{mine}", headers=desk.verifier).status_code == 404


def test_the_board_lists_open_rectifications_by_owner_and_a_rectifier_sees_only_their_own(desk):
    wang, liu, closed = desk.file(), desk.file(reporter="emp-2"), desk.file(reporter="emp-3")
    desk.assign(wang, owner="maint-wang"), desk.assign(liu, owner="maint-liu"), desk.assign(closed, owner="maint-wang")
    desk.ok(closed, "rectification", {"measures": "Rail fitted"}, desk.verifier)
    desk.ok(closed, "review", {"accept": True}, desk.headers("safety-wu", roles=[Role.VERIFIER]))
    desk.wait_case(closed, lambda c: c["stage"] == "closed")

    assert ids(desk.api.get("/board", params={"owner": "maint-wang"}, headers=desk.verifier)) == [wang]
    assert set(ids(desk.api.get("/board", headers=desk.manager))) == {wang, liu}
    for roles in ([Role.RECTIFIER], [Role.RECTIFIER, Role.REPORTER]):  # every employee may also report
        rectifier = desk.headers("maint-liu", roles=roles)
        assert ids(desk.api.get("/board", headers=rectifier)) == [liu]
        assert ids(desk.api.get("/board", params={"owner": "maint-wang"}, headers=rectifier)) == [liu]


def test_an_overdue_anonymous_report_reaches_the_authorities_and_the_ledger_shows_every_report(desk, harness):
    filed = desk.intake.post("/reports", json=report_body(anonymous=True), headers=desk.headers("emp-9"))
    assert filed.status_code == 201, filed.text
    anonymous, code = filed.json()["report_id"], filed.json()["receipt_code"]
    fixed = desk.file(reporter="emp-2", description="Ladder with a cracked rung")
    wait_for(lambda: desk.api.get(f"/reports/{anonymous}", headers=desk.hq).status_code == 200)
    deadline = at(desk.assign(anonymous, owner="maint-wang")["deadline"])
    desk.ok(fixed, "verification", ON_THE_SPOT, desk.verifier)
    receipt = {"Receipt-Code": code}
    early = desk.api.post(f"/reports/{anonymous}/external-escalation", json=AUTHORITY, headers=receipt)
    assert early.status_code == 409 and early.json()["state"] == "rectifying"

    desk.clock.advance(days=7, hours=1)
    overdue = wait_for(lambda: (o := desk.api.get("/overdue", headers=desk.verifier).json()) and o[0]["escalation_step"] == 0 and o)
    assert [c["report_id"] for c in overdue] == [anonymous] and at(overdue[0]["overdue_since"]) == deadline

    wrong = {"Receipt-Code": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA"}
    url = f"/reports/{anonymous}/external-escalation"
    assert desk.api.post(url, json=AUTHORITY, headers=wrong).status_code == 404
    assert desk.api.post(url, json=AUTHORITY).status_code == 401
    escalated = desk.api.post(url, json=AUTHORITY, headers=receipt)
    assert escalated.status_code == 201 and escalated.json()["event"] == "ExternallyEscalated"
    dossier = desk.api.get(f"/reports/{anonymous}/dossier", headers=receipt)
    assert dossier.status_code == 200 and dossier.json()["chain_intact"] is True
    assert [e["type"] for e in dossier.json()["entries"]][-1] == "ExternallyEscalated"
    assert code not in dossier.text and "receipt_digest" not in dossier.text
    assert desk.api.get(f"/reports/{anonymous}/dossier", headers=wrong).status_code == 404
    assert desk.api.get(f"/reports/{anonymous}/dossier").status_code == 401

    desk.wait_case(anonymous, lambda c: c["externally_escalated_at"])
    assert ids(desk.api.get("/ledger", params={"tenant": "refinery"}, headers=desk.manager)) == [anonymous, fixed]
    exported = desk.api.get("/ledger", params={"tenant": "refinery", "format": "csv"}, headers=desk.manager)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["report_id"] for r in rows] == [anonymous, fixed]
    late, done = rows
    for row in rows:
        assert (row["site"], row["area"], row["spot"], row["equipment_tag"]) == ("North", "Pipe rack", "Bay 3", "PR-3")
    assert (late["grade"], late["owner"], late["measures"], late["closed_at"]) == ("larger", "maint-wang", "", "")
    assert at(late["deadline"]) == deadline and late["overdue_since"] and late["externally_escalated_at"]
    assert (done["grade"], done["measures"], done["deadline"], done["description"]) == ("general", "Harness clipped on", "", "Ladder with a cracked rung")
    assert at(done["closed_at"]) == at(desk.case(fixed)["closed_at"])
    assert desk.api.get("/ledger", params={"tenant": "mine", "format": "csv"}, headers=desk.verifier).status_code == 403
    assert desk.api.get("/ledger", headers=desk.headers("emp-1")).status_code == 403
