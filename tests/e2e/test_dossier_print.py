"""The dossier printed to PDF by Debian's Chromium, as a reporter or an officer would save it for the authorities."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pypdf import PdfReader

from hazardloop.web.auth import Role
from tests import media
from tests.factories import report_body
from tests.waiting import wait_for

A4_POINTS = (595.3, 841.9)


def is_a4(sheet) -> bool:
    """210 x 297 mm, within the point Chromium rounds to whole pixels."""
    return abs(float(sheet.mediabox.width) - A4_POINTS[0]) < 1 and abs(float(sheet.mediabox.height) - A4_POINTS[1]) < 1


@pytest.fixture
def sealed_report(system) -> str:
    """A major hazard with a photo, its five-item plan, rectified with evidence, and the log sealed."""
    system.start("intake", "verification")
    intake, verification = system.url("intake"), system.url("verification")
    reporter = system.headers("emp-3")
    photo = httpx.post(f"{intake}/attachments", params={"tenant": "refinery"}, content=media.sideways_photo_with_gps(), headers=reporter)
    report_id = httpx.post(f"{intake}/reports", json=report_body(attachments=[photo.json()["digest"]]), headers=reporter).json()["report_id"]
    verifier = system.headers("safety-li", roles=[Role.VERIFIER])
    wait_for(lambda: httpx.get(f"{verification}/reports/{report_id}", headers=verifier).status_code == 200)
    plan = {"responsible_person": "maint-wang", "measures": "Replace the relief valve on V-301", "funds_fen": 1_200_000,
            "deadline": (datetime.now(UTC) + timedelta(days=20)).isoformat(), "emergency_plan": "Area cordoned off"}
    body = {"outcome": "confirmed_hazard", "grade": "major", "rectification": {"owner": "maint-wang", "plan": plan}}
    httpx.post(f"{verification}/reports/{report_id}/verification", json=body, headers=verifier).raise_for_status()
    system.cli("audit", "seal")
    return report_id


def printed(system, browser, report_id: str, lang: str) -> PdfReader:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(request.url))
    page.set_extra_http_headers(system.headers("hq-audit", roles=[Role.AUDITOR], tenants=["*"]))
    answer = page.goto(f"{system.url('verification')}/reports/{report_id}/dossier.html?lang={lang}")
    assert answer.status == 200
    page.emulate_media(media="print")
    assert page.locator("img").count() == 1 and page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert problems == []
    page.close()
    return PdfReader(io.BytesIO(pdf))


def test_the_english_dossier_prints_to_a4_with_its_text(system, browser, sealed_report):
    document = printed(system, browser, sealed_report, "en")
    assert len(document.pages) >= 2  # the proof starts on a page of its own
    assert all(is_a4(sheet) for sheet in document.pages)
    text = unicodedata.normalize("NFKC", " ".join(" ".join(sheet.extract_text().split()) for sheet in document.pages))  # "ﬁ" -> "fi"
    for words in ("Hazard report dossier", sealed_report, "North / Pipe rack / Bay 3", "Replace the relief valve on V-301",
                  "12,000.00 yuan", "Hash chain intact", "Verified: the seal is intact"):
        assert words in text, words
    assert "Print or save as PDF" not in text  # screen-only hints stay off paper


def test_the_chinese_dossier_prints_to_a4(system, browser, sealed_report):
    document = printed(system, browser, sealed_report, "zh-CN")
    assert all(is_a4(sheet) for sheet in document.pages)
    text = " ".join(sheet.extract_text() for sheet in document.pages)
    # Copied off the paper as typed: no "ﬁ" or "ﬀ" ligature in a subsidiary's code or an id.
    assert "refinery" in text and sealed_report in text and "Replace the relief valve on V-301" in text
