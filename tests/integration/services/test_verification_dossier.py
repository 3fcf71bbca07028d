"""The dossier for the authorities, on a real broker: a document in Chinese or English with local
times, place names, the five-item plan, the photos themselves, the hash chain and the seal over it."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import nats
import pytest
from PIL import Image

from hazardloop.audit.seal import seal_log
from hazardloop.events import ReporterFedBack, encode_event
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.web.auth import Role
from tests import media
from tests.integration.services.desk import Desk, at

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN = {
    "responsible_person": "maint-wang",
    "measures": "Replace the relief valve on V-301",
    "funds_fen": 1_200_000,
    "emergency_plan": "Area cordoned off; gas readings every hour",
}


@pytest.fixture
def desk(harness) -> Desk:
    return Desk(harness)


def seal(harness) -> None:
    async def run() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            store = EventStore(connection, stream=harness.stream, subjects=Subjects(harness.prefix))
            await seal_log(connection, store)
        finally:
            await connection.close()

    asyncio.run(run())


def a_major_hazard_rectified_with_photos(desk: Desk) -> str:
    reporter = desk.headers("emp-7")
    photo = desk.intake.post("/attachments", params={"tenant": "refinery"}, content=media.sideways_photo_with_gps(), headers=reporter)
    assert photo.status_code == 201, photo.text
    report = desk.file(reporter="emp-7", attachments=[photo.json()["digest"]], cause_analysis="The anchor point was removed")
    deadline = (desk.clock.now() + timedelta(days=20)).isoformat()
    rectification = {"owner": "maint-wang", "plan": PLAN | {"deadline": deadline}}
    desk.ok(report, "verification", {"outcome": "confirmed_hazard", "grade": "major", "rectification": rectification}, desk.verifier)
    owner = desk.headers("maint-wang", roles=[Role.RECTIFIER])
    desk.ok(report, "rectification", {"measures": "Relief valve replaced", "evidence": [desk.upload(owner, size=(640, 480))]}, owner)
    return report


def local(stamp: str) -> str:
    return at(stamp).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def utc(stamp: str) -> str:
    return at(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("query", "headers", "words"),
    [
        ({}, {}, {"title": "隐患举报处理档案", "plan": "整改方案（五定）", "chain": "哈希链完整", "seal": "核验通过", "kind": "人的不安全行为",
                  "funds": "12,000.00 元", "grade": "重大隐患", "person": "责任人"}),
        ({"lang": "en"}, {}, {"title": "Hazard report dossier", "plan": "the five fixed items", "chain": "Hash chain intact",
                              "seal": "Verified: the seal is intact", "kind": "Unsafe behaviour", "funds": "12,000.00 yuan",
                              "grade": "Verified: confirmed hazard, major hazard.", "person": "Responsible person"}),
        ({}, {"Accept-Language": "en-US,en;q=0.9"}, {"title": "Hazard report dossier", "chain": "Hash chain intact"}),
    ],
)
def test_the_dossier_is_a_self_contained_document_in_the_chosen_language(harness, desk, query, headers, words):
    report = a_major_hazard_rectified_with_photos(desk)
    seal(harness)
    auditor = desk.hq | headers
    page = desk.api.get(f"/reports/{report}/dossier.html", params=query, headers=auditor)
    assert page.status_code == 200, page.text
    html = page.text
    for word in words.values():
        assert word in html, word
    assert "North / Pipe rack / Bay 3" in html and "PR-3" in html  # place names, not ids
    assert "safety-li" in html and "maint-wang" in html  # who took each step
    for kind, value in PLAN.items():
        if kind != "funds_fen":
            assert value in html
    assert re.search(r'<table class="plan">.*?(<tr>.*?</tr>.*?){6}</table>', html, re.S)  # heading and the five items

    entries = desk.api.get(f"/reports/{report}/dossier", headers=desk.hq).json()["entries"]
    for entry in entries:
        assert local(entry["occurred_at"]) in html
        assert entry["hash"] in html and entry["prev_hash"] in html
    assert not any(utc(e["occurred_at"]) in html for e in entries)  # local times only
    for raw in ("ReportFiled", "RectificationAssigned", "confirmed_hazard", "unsafe_behaviour", "{&#34;", "funds_fen"):
        assert raw not in html  # no event names, codes or JSON

    photos = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(photos) == 2  # the reporter's photo and the rectification's evidence, inside the page
    shown = Image.open(io.BytesIO(base64.b64decode(photos[0])))
    assert shown.size == (100, 200) and not shown.getexif()  # upright, and still without the camera's metadata
    assert media.CAMERA_MODEL not in html
    assert page.headers["content-security-policy"].startswith("default-src 'none'")  # nothing fetched from anywhere


def test_the_json_dossier_carries_the_chain_and_the_checked_seal_and_no_identity(harness, desk):
    report = a_major_hazard_rectified_with_photos(desk)
    before = desk.api.get(f"/reports/{report}/dossier", headers=desk.hq).json()
    assert before["seals"] == [] and before["chain_intact"] is True
    assert "not covered by a seal yet" in desk.api.get(f"/reports/{report}/dossier.html", params={"lang": "en"}, headers=desk.hq).text
    seal(harness)
    dossier = desk.api.get(f"/reports/{report}/dossier", headers=desk.hq).json()
    entries = dossier["entries"]
    assert [e["prev_hash"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]] and all(e["intact"] for e in entries)
    (proof,) = dossier["seals"]
    assert proof["covers"] == [e["sequence"] for e in entries]
    assert proof["seal_intact"] and proof["marks_match"] and proof["digest_matches"]
    assert "emp-7" not in str(dossier) and "identity" not in str(dossier)
    page = desk.api.get(f"/reports/{report}/dossier.html", params={"lang": "en"}, headers=desk.hq).text
    assert f"every message at log sequences {proof['first_sequence']} to {proof['last_sequence']} was sealed" in page
    assert proof["digest"] in page and proof["hash"] in page


def test_an_unknown_language_is_refused_naming_the_parameter(desk):
    report = desk.file()
    refused = desk.api.get(f"/reports/{report}/dossier.html", params={"lang": "fr"}, headers=desk.hq)
    assert refused.status_code == 422 and "lang" in refused.text


def test_an_entry_slipped_into_the_log_breaks_the_chain_the_dossier_shows(harness, desk):
    report = desk.file()
    forged = ReporterFedBack.record(prev_hash="f" * 64, tenant="refinery", aggregate_id=report, actor="safety-li", message="All fixed")

    async def slip_in() -> None:  # straight onto the report's subject, past every check the services make
        connection = await nats.connect(harness.nats_url)
        try:
            await connection.jetstream().publish(Subjects(harness.prefix).of(forged), encode_event(forged), stream=harness.stream)
        finally:
            await connection.close()

    asyncio.run(slip_in())
    dossier = desk.api.get(f"/reports/{report}/dossier", headers=desk.hq).json()
    assert dossier["chain_intact"] is False and [e["intact"] for e in dossier["entries"]] == [True, False]
    page = desk.api.get(f"/reports/{report}/dossier.html", params={"lang": "en"}, headers=desk.hq).text
    assert "Hash chain broken" in page and "Hash chain intact" not in page
