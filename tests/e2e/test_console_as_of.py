"""The dashboard as of a past moment, chosen in a real Chromium, through the real
services on a real nats-server: the figures of the log up to that moment, and the line
saying which moment and how far into the log, in Chinese and in English."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import nats
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from tests.e2e.test_console import sign_in
from tests.e2e.test_console_insights import file_reports
from tests.factories import report_body
from tests.waiting import wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def stored_by(system, moment: datetime) -> int:
    """How many messages the log had stored by ``moment``, read message by message."""

    async def count() -> int:
        connection = await nats.connect(system.nats_url)
        try:
            js = connection.jetstream()
            last = (await js.stream_info(system.stream)).state.last_seq
            return sum([(await js.get_msg(system.stream, sequence)).time <= moment for sequence in range(1, last + 1)])
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as thread:  # off the browser driver's own event loop
        return thread.submit(asyncio.run, count()).result()


def test_headquarters_and_the_auditor_see_the_figures_as_they_stood_at_a_moment(system, browser):
    system.start(*SERVICES)
    file_reports(system)  # two reports at the refinery, one at the mine
    moment = datetime.now(UTC)
    asked = moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
    wait_for(lambda: datetime.now(UTC).replace(microsecond=0) > moment)  # what follows is stored after that second
    response = httpx.post(f"{system.url('intake')}/reports", json=report_body("refinery", description="装车栈桥静电接地线断开"),
                          headers=system.headers("emp-1", tenants=("refinery",)))
    assert response.status_code == 201, response.text
    through = stored_by(system, moment.replace(microsecond=999999))
    console = system.url("console")

    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "刘总（集团总部）")
    page.get_by_role("link", name="集团看板").first.click()
    refinery = page.locator("#participation tbody tr", has_text="炼油厂")
    wait_for(lambda: page.reload() or refinery.locator("td").nth(2).inner_text() == "3", timeout=30)  # today: all three

    page.locator('input[name="as_of"]').fill(asked)
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#as-of")).to_have_text(
        f"以下为截至 {asked.replace('T', ' ')}（Asia/Shanghai）的数据，依据事件日志至第 {through} 号事件重新计算。", timeout=60_000)
    expect(refinery.locator("td").nth(2)).to_have_text("2")  # the report filed after the moment is not counted
    expect(page.locator("#participation tbody tr", has_text="矿业公司").locator("td").nth(2)).to_have_text("1")
    expect(refinery.locator("a")).to_have_count(0)  # a past moment's numbers open no queue of today
    expect(page.locator("#chart-participation svg").first).to_be_attached()
    expect(page.locator('input[name="as_of"]')).to_have_value(asked)

    page.get_by_role("link", name="上季度末").click()  # before the log began: said, in the page's language
    expect(page.locator("#as_of-error")).to_have_text("该时刻早于事件日志中的第一条事件，没有可显示的数据")
    expect(page.locator("#as-of")).to_have_count(0)

    auditor = browser.new_page(locale="en", viewport={"width": 390, "height": 844})  # on a phone
    sign_in(auditor, console, "钱审计（审计）")
    auditor.goto(f"{console}/console/dashboard?lang=en")
    auditor.locator('input[name="as_of"]').fill(asked)
    auditor.get_by_role("button", name="Filter").click()
    expect(auditor.locator("#as-of")).to_have_text(
        f"As of {asked.replace('T', ' ')} (Asia/Shanghai), from the log through event #{through}.")
    expect(auditor.locator("#participation tbody tr", has_text="Refinery").locator("td").nth(2)).to_have_text("2")
    assert re.search(r"as_of=" + re.escape(asked.replace(":", "%3A")), auditor.url)
    expect(auditor.locator("#chart-participation svg").first).to_be_attached()
    assert auditor.evaluate("document.documentElement.scrollWidth") <= 390  # the form and the figures fit its width
