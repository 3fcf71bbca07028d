"""Reports on a real broker: the catalogue, possible duplicates, attachments and the reporter's timeline."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

MANAGER = {"roles": [Role.MANAGER]}


@pytest.fixture
def intake(harness):
    return harness.start("intake")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 90, 200)).save(out, "JPEG")
    return out.getvalue()


def file(harness, intake, user="emp-1", **overrides) -> dict:
    response = intake.post("/reports", json=report_body(**overrides), headers=harness.headers(user))
    assert response.status_code == 201, response.text
    return response.json()


def visible(harness, intake, report_id: str, user="emp-1") -> dict:
    return wait_for(lambda: (r := intake.get(f"/reports/{report_id}", headers=harness.headers(user))).status_code == 200 and r.json())


def test_a_second_open_report_on_the_same_spot_and_category_is_flagged_not_refused(harness, intake):
    first = file(harness, intake)
    visible(harness, intake, first["report_id"])
    second = file(harness, intake, user="emp-2")
    other_kind = file(harness, intake, user="emp-3", category="unsafe_equipment", subtype="missing_warning_sign")
    assert second["possible_duplicate_of"] == first["report_id"]
    assert "possible_duplicate_of" not in first and "possible_duplicate_of" not in other_kind
    verifier = harness.headers("v", roles=[Role.VERIFIER])
    cluster = wait_for(lambda: len(r := intake.get("/reports", params={"tenant": "refinery", "duplicates_of": first["report_id"]}, headers=verifier).json()) == 2 and r)
    assert {r["report_id"] for r in cluster} == {first["report_id"], second["report_id"]}


def test_the_catalogue_is_kept_by_managers_and_retired_places_take_no_reports(harness, intake):
    manager = harness.headers("m", **MANAGER)
    body = {"tenant": "refinery", "place_id": "bay-4", "kind": "spot", "parent_id": "pipe-rack", "name": "Bay 4"}
    assert intake.post("/catalogue/places", json=body, headers=harness.headers("emp-1")).status_code == 403
    assert intake.post("/catalogue/places", json=body, headers=manager).status_code == 201
    assert intake.post("/catalogue/places", json=body, headers=manager).status_code == 200  # a retry is harmless
    clash = intake.post("/catalogue/places", json=body | {"name": "Something else"}, headers=manager)
    assert clash.status_code == 409
    wrong_parent = intake.post("/catalogue/places", json=body | {"place_id": "bay-5", "parent_id": "north"}, headers=manager)
    assert wrong_parent.status_code == 422 and "parent_id" in wrong_parent.text
    wait_for(lambda: any(p["place_id"] == "bay-4" for p in intake.get("/catalogue", params={"tenant": "refinery"}, headers=manager).json()))
    assert not any(p["place_id"] == "bay-4" for p in intake.get("/catalogue", params={"tenant": "mine"}, headers=harness.headers("m", tenants=["mine"], **MANAGER)).json())
    assert file(harness, intake, place_id="bay-4")["report_id"]
    retired = intake.post("/catalogue/places/bay-4/retirement", json={"tenant": "refinery", "reason": "bay demolished"}, headers=manager)
    assert retired.status_code == 204
    wait_for(lambda: all(p["place_id"] != "bay-4" for p in intake.get("/catalogue", params={"tenant": "refinery"}, headers=manager).json()))
    refused = intake.post("/reports", json=report_body(place_id="bay-4"), headers=harness.headers())
    assert refused.status_code == 422 and "retired" in refused.text


def test_photos_are_checked_by_content_stored_once_and_shown_only_to_who_may_see_them(harness, intake):
    reporter = harness.headers("emp-1")
    upload = intake.post("/attachments", params={"tenant": "refinery"}, content=jpeg(), headers=reporter | {"Content-Type": "text/plain"})
    assert upload.status_code == 201, upload.text
    ref = upload.json()
    assert ref["content_type"] == "image/jpeg" and ref["kind"] == "image" and ref["thumbnail"]
    disguised = intake.post("/attachments", params={"tenant": "refinery"}, content=b"#!/bin/sh\nrm -rf /\n", headers=reporter | {"Content-Type": "image/jpeg"})
    assert disguised.status_code == 415
    report = file(harness, intake, attachments=[ref["digest"]])
    shown = visible(harness, intake, report["report_id"])
    assert [a["digest"] for a in shown["attachments"]] == [ref["digest"]]
    own = intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery"}, headers=reporter)
    assert own.status_code == 200 and own.headers["content-type"] == "image/jpeg" and len(own.content) == ref["size"]
    assert Image.open(io.BytesIO(own.content)).size == (800, 600)  # the photo, re-encoded from its pixels
    thumb = intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery", "thumbnail": True}, headers=harness.headers("v", roles=[Role.VERIFIER]))
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size[0] <= 320
    assert intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery"}, headers=harness.headers("emp-2")).status_code == 404
    other_tenant = harness.headers("v", tenants=["mine"], roles=[Role.VERIFIER])
    assert intake.get(f"/attachments/{ref['digest']}", params={"tenant": "mine"}, headers=other_tenant).status_code == 404
    unknown = intake.post("/reports", json=report_body(attachments=["f" * 64]), headers=reporter)
    assert unknown.status_code == 422 and "attachments.0" in unknown.text


def test_oversize_uploads_are_413_and_store_nothing(harness):
    intake = harness.start("intake", max_image_bytes=2048)
    response = intake.post("/attachments", params={"tenant": "refinery"}, content=jpeg() + b"\0" * 4096, headers=harness.headers())
    assert response.status_code == 413


def test_reporters_follow_each_report_through_the_other_services(harness, intake):
    verification = harness.start("verification")
    report_id = file(harness, intake, user="emp-7")["report_id"]
    verifier = harness.headers("li", roles=[Role.VERIFIER])
    wait_for(lambda: verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json())
    verification.post(f"/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": "general",
                      "rectification": {"owner": "maint-wang"}}, headers=verifier).raise_for_status()
    owner = harness.headers("maint-wang", roles=[Role.RECTIFIER])
    verification.post(f"/reports/{report_id}/rectification", json={"measures": "Harness point installed"}, headers=owner).raise_for_status()
    mine = wait_for(lambda: (r := intake.get("/reports", headers=harness.headers("emp-7")).json()) and len(r[0]["timeline"]) == 4 and r)
    (report,) = mine
    assert [step["type"] for step in report["timeline"]] == ["ReportFiled", "Verified", "RectificationAssigned", "Rectified"]
    assert report["timeline"][1]["detail"] == {"grade": "general", "outcome": "confirmed_hazard"}
    assert report["status"] == "rectified"
