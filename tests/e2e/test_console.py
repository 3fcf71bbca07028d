"""The console in a real Chromium, through the real services on a real nats-server."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from hazardloop.tools.registry import SERVICES
from tests.factories import report_body
from tests.waiting import wait_for


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
    officer = system.headers("li", roles=["verifier"])
    case = wait_for(lambda: (c := httpx.get(f"{system.url('verification')}/reports/{report_id}", headers=officer).json())["grade"] and c)
    assert case["grade"] == "larger" and case["verified_by"] == "safety-officer-li"


def test_a_manager_prints_a_place_qr_code_and_an_officer_opens_the_dossier(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    filed = httpx.post(f"{system.url('intake')}/reports", json=report_body(), headers=system.headers("emp-1")).json()
    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "王经理（安全部经理）")
    page.get_by_role("link", name="地点与二维码").first.click()
    qr = page.locator("img[alt^='二维码']").first
    expect(qr).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=qr.element_handle())  # a real image arrived
    svg = page.request.get(console + qr.get_attribute("src"))
    assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")

    wait_for(lambda: page.request.get(f"{console}/console/cases/{filed['report_id']}").status == 200)
    dossier = page.request.get(f"{console}/console/cases/{filed['report_id']}/dossier")
    assert dossier.status == 200 and filed["report_id"] in dossier.text()
    assert "隐患举报处理档案" in dossier.text()  # in the person's language
    english = page.request.get(f"{console}/console/cases/{filed['report_id']}/dossier?lang=en")
    assert "Hazard report dossier" in english.text()
    assert httpx.get(f"{console}/console/cases/{filed['report_id']}/dossier").status_code == 303  # no session: sign in first


def test_no_console_page_answers_without_a_session(system):
    system.start("console")
    answer = httpx.get(f"{system.url('console')}/console/queue", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=/console/queue")
