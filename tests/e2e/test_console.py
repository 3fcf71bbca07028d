"""The console in a real Chromium, through the real services on a real nats-server."""

from __future__ import annotations

import shutil

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from hazardloop.registry import SERVICES
from tests.factories import report_body
from tests.waiting import wait_for

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page: Page, console: str, who: str) -> None:
    page.goto(f"{console}/console")
    page.get_by_role("button", name=who).click()


def test_an_officer_accepts_and_grades_a_report_in_chinese(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    filed = httpx.post(
        f"{system.url('intake')}/reports", json=report_body(description="酸性水汽提装置硫化氢报警器显示为零"),
        headers=system.headers("emp-1"),
    ).json()
    report_id = filed["report_id"]
    wait_for(lambda: httpx.get(f"{console}/readyz").status_code == 200)
    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "李安全（炼油厂安全员）")
    page.get_by_role("link", name="隐患受理队列").first.click()
    wait_for(lambda: page.reload() or "酸性水汽提装置" in page.content(), timeout=20)
    page.get_by_text("酸性水汽提装置硫化氢报警器显示为零").first.click()
    expect(page.locator("h1")).to_contain_text("酸性水汽提装置")
    page.locator("form[action$='/accept'] button").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: page.reload() or "已受理" in page.locator(".facts").inner_text(), timeout=20)
    page.locator("#verify input[value=confirmed_hazard]").check()
    page.locator("#verify select[name=grade]").select_option("larger")
    page.locator("#verify button:not(.secondary)").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    case = httpx.get(f"{system.url('verification')}/reports/{report_id}", headers=system.headers("li", roles=["verifier"])).json()
    assert case["grade"] == "larger" and case["verified_by"] == "safety-officer-li"
