"""Group headquarters' dashboard and the auditor's page, in a real Chromium, through the
real services on a real nats-server."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from tests.e2e.test_console import sign_in
from tests.factories import report_body
from tests.waiting import wait_for

FILED = {"refinery": ["催化装置平台护栏缺失", "罐区消防通道被堵"], "mine": ["主井提升机制动器异响"]}


def file_reports(system) -> None:
    for tenant, descriptions in FILED.items():
        for description in descriptions:
            response = httpx.post(f"{system.url('intake')}/reports", json=report_body(tenant, description=description),
                                  headers=system.headers("emp-1", tenants=(tenant,)))
            assert response.status_code == 201, response.text


def test_headquarters_sees_the_dashboard_in_chinese_with_charts_tables_and_the_cases_behind_them(system, browser):
    system.start(*SERVICES)
    file_reports(system)
    console = system.url("console")
    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "刘总（集团总部）")
    page.get_by_role("link", name="集团看板").first.click()
    expect(page.locator("h1")).to_have_text("集团看板")
    wait_for(lambda: page.reload() or page.locator("#participation tbody tr").count() == 2, timeout=20)

    for figure in ("category", "grade", "clocks", "late", "participation", "places"):
        expect(page.locator(f"#chart-{figure} svg").first).to_be_attached()
    expect(page.locator("#by-category table")).to_contain_text("人的不安全行为")
    expect(page.locator("#participation")).to_contain_text("人均")  # no headcount: said, not invented
    refinery = page.locator("#participation tbody tr", has_text="炼油厂")  # the subsidiary by its name
    expect(refinery.locator("td").nth(2)).to_have_text("2")

    refinery.locator("a").click()
    expect(page).to_have_url(f"{console}/console/queue?" + page.url.split("?", 1)[1])
    for description in FILED["refinery"]:
        expect(page.get_by_text(description)).to_be_visible()
    expect(page.locator("li.case")).to_have_count(2)
    expect(page.locator(".drilled")).to_contain_text("来自集团看板的筛选")


def test_an_auditor_verifies_the_log_and_downloads_the_ledger_in_chinese(system, browser):
    system.start(*SERVICES)
    file_reports(system)
    console = system.url("console")
    page = browser.new_page(locale="zh-CN", accept_downloads=True)
    sign_in(page, console, "钱审计（审计）")
    page.get_by_role("link", name="审计").first.click()
    expect(page.locator("h1")).to_have_text("审计")
    expect(page.locator("#log-state")).to_contain_text("尚未校验过")

    page.get_by_role("button", name="立即校验").click()
    expect(page.locator("#verdict")).to_contain_text("哈希链完整")
    expect(page.get_by_role("status")).to_contain_text("日志已校验完毕")
    expect(page.locator("#findings")).to_contain_text("没有异常")

    with page.expect_download() as download:
        page.get_by_role("button", name="下载 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("报告编号", "举报时间 (Asia/Shanghai)", "厂区")
    assert sorted(row[8] for row in rows[1:]) == sorted(FILED["refinery"])  # a row per report, this subsidiary's only

    with page.expect_download() as download:
        page.get_by_role("button", name="下载 CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), encoding="utf-8-sig") as file:
        table = list(csv.reader(io.StringIO(file.read())))
    assert table[0][0] == "报告编号" and table[0][8] == "隐患情况"
    assert sorted(row[8] for row in table[1:]) == sorted(FILED["refinery"])
