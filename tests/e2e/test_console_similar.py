"""Similar earlier reports on the case page, in a real Chromium, through the real services."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.e2e.test_console import sign_in
from tests.factories import report_body
from tests.waiting import wait_for


def test_an_officer_opening_a_report_sees_the_earlier_one_on_the_same_pump_in_chinese_and_english(system, browser):
    system.start("intake", "console")
    intake, console = system.url("intake"), system.url("console")

    def file(description: str, spot: str) -> str:
        body = report_body(description=description, place_id="pipe-rack", spot_detail=spot, category="unsafe_equipment", subtype="other")
        answer = httpx.post(f"{intake}/reports", json=body, headers=system.headers("emp-1"))
        assert answer.status_code == 201, answer.text
        return answer.json()["report_id"]

    earlier = file("3号泵房 离心泵P-101 机械密封泄漏", "3号泵房")
    file("脚手架未挂安全网", "西侧脚手架")
    report = file("P-101泵密封漏油", "7号位")
    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "李安全（炼油厂安全员）")
    wait_for(lambda: page.request.get(f"{console}/console/cases/{report}").status == 200)

    page.goto(f"{console}/console/cases/{report}")
    panel = page.locator("#similar")
    expect(panel.get_by_role("heading")).to_have_text("相似的既往举报")
    match = panel.locator("li", has_text="离心泵P-101 机械密封泄漏")
    expect(match).to_contain_text("描述相近")
    expect(match).to_contain_text("已提交")
    expect(panel).not_to_contain_text("脚手架")
    match.get_by_role("link").click()
    expect(page).to_have_url(f"{console}/console/cases/{earlier}")
    expect(page.locator("h1")).to_have_text("3号泵房 离心泵P-101 机械密封泄漏")

    page.goto(f"{console}/console/cases/{report}?lang=en")
    panel = page.locator("#similar")
    expect(panel.get_by_role("heading")).to_have_text("Similar earlier reports")
    match = panel.locator("li", has_text="离心泵P-101 机械密封泄漏")
    expect(match).to_contain_text("similar description")
    expect(match).to_contain_text("Refinery")
