"""The QR-code form in a real headless Chromium (Debian's package, driven by Playwright), on a phone-sized screen.

JavaScript is switched off: the form must work without it.
"""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from hazardloop.web.auth import Role
from hazardloop_intake.forms import qr_code
from tests.waiting import wait_for


def photo(tmp_path) -> str:
    path = tmp_path / "leak.jpg"
    image = Image.new("RGB", (1200, 900), (200, 60, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return str(path)


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, java_script_enabled=False, locale="zh-CN"
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_worker_scans_the_code_and_files_an_anonymous_report_with_a_photo(system, phone, tmp_path):
    system.start("intake")
    intake = system.url("intake")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    link = httpx.get(f"{intake}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    printed = httpx.get(f"{intake}/places/bay-3/qr.png", params={"tenant": "refinery"}, headers=manager)
    assert printed.headers["content-type"] == "image/png" and printed.content == qr_code(link, "png")[0]
    svg = httpx.get(f"{intake}/places/bay-3/qr.svg", params={"tenant": "refinery"}, headers=manager)
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content

    phone.goto(link)
    assert phone.locator("html").get_attribute("lang") == "zh-CN"  # the phone's language
    assert "North / Pipe rack / Bay 3" in phone.content()
    phone.click("text=English")
    assert phone.locator("h1").inner_text() == "Report a hazard"
    phone.select_option("#kind", "unsafe_equipment:safety_device_disabled_or_damaged")
    phone.fill("#description", "Gas detector at bay 3 shows no reading and its lamp is off.")
    phone.fill("#suggested_fix", "Replace and recalibrate the detector.")
    phone.set_input_files("#photos", photo(tmp_path))
    phone.check("input[name=who][value=anonymous]")
    phone.click("button[type=submit]")

    code = phone.locator("#receipt-code").inner_text()
    report_id = phone.locator("#report-id").inner_text()
    assert len(code.replace("-", "")) == 25
    report = wait_for(lambda: (r := httpx.get(f"{intake}/receipt", headers={"Receipt-Code": code})).status_code == 200 and r.json())
    assert report["report_id"] == report_id and report["anonymous"] and report["channel"] == "web"
    assert report["subtype"] == "safety_device_disabled_or_damaged" and report["location"]["spot"] == "Bay 3"
    (attachment,) = report["attachments"]
    assert attachment["content_type"] == "image/jpeg" and attachment["thumbnail"]

    phone.goto(f"{intake}/f/status?lang=en")
    phone.fill("#code", code)
    phone.click("button[type=submit]")
    assert report_id in phone.locator("#report").inner_text() and "ReportFiled" not in phone.content()
    assert phone.locator("#state").inner_text() == "Filed"


def test_a_forged_or_edited_link_opens_no_form(system):
    system.start("intake")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    link = httpx.get(f"{system.url('intake')}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    assert httpx.get(link).status_code == 200
    assert httpx.get(link.replace("bay-3", "pipe-rack")).status_code == 404
    assert httpx.get(link.split("?")[0]).status_code == 404
    assert httpx.get(link.replace("/refinery/", "/mine/")).status_code == 404
