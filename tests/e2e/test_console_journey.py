"""One hazard's whole journey, in Chinese, through the pages each person uses.

A worker scans a place's QR code on a phone with JavaScript off, signs in and files a named
report with a photo; the safety officer verifies it as a major hazard and assigns it; the
owner rectifies it on his phone; the manager accepts the rectification; the department
head approves a reward beyond the year's budget, so group HQ decides it; finance pays it;
the auditor's ledger shows it paid. All five services run as processes on a real
nats-server; every step a person takes is taken in Debian's Chromium, and the services'
APIs are used only to check what was recorded.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.conftest import System
from tests.media import jpeg
from tests.waiting import wait_for

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
ANSWERED = 15_000
"""ms a decision may take to come back: each goes to a service and into the log, on a busy 2-core machine."""
EMPLOYEE = "emp-10482"
"""The demo's reporter 王工人: a named report is filed only by the person signed in."""
HAZARD = "常压塔底泵机械密封泄漏，地面有油"
MAJOR_REWARD = "2,000.00 元"
"""The default policy's reward for a major hazard: more than the year's budget set below."""


def signed_in(browser: Browser, console: str, who: str, **device) -> Page:
    page = browser.new_context(**(device or DESKTOP), accept_downloads=True).new_page()
    page.goto(f"{console}/console")
    page.get_by_role("button", name=who).click()
    expect(page.locator(".who")).to_be_visible()
    return page


def when_listed(page: Page, link: str, selector: str):
    """Follow the menu ``link``, reloading until the console's store has caught up and lists ``selector``."""
    page.get_by_role("link", name=link).first.click()
    shown_after_reload(page, selector)
    return page.locator(selector)


def shown_after_reload(page: Page, selector: str) -> None:
    def shown() -> bool:
        if page.locator(selector).count():
            return True
        page.reload()
        return False

    wait_for(shown, timeout=20)


def saved(page: Page) -> None:
    expect(page.get_by_role("status")).to_contain_text("已保存", timeout=ANSWERED)


def photo(name: str, size: tuple[int, int]) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg(size)}


def test_a_named_report_is_rectified_rewarded_over_budget_paid_and_ledgered(system: System, browser: Browser):
    system.start(*SERVICES)
    console = system.url("console")
    zone = ZoneInfo("Asia/Shanghai")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    link = httpx.get(f"{system.url('intake')}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]

    # The worker, on a phone with JavaScript off: the printed QR code's form, a named report with a photo.
    worker = browser.new_context(**PHONE, java_script_enabled=False).new_page()
    worker.goto(link)
    worker.select_option("#kind", "unsafe_equipment:safety_device_disabled_or_damaged")
    worker.fill("#description", HAZARD)
    worker.set_input_files("#photos", files=[photo("leak.jpg", (1200, 900))])
    worker.check("input[name=who][value=named]")
    worker.click("button[type=submit]")  # named: sign in first, the form and its photo kept
    worker.get_by_role("button", name="王工人").click()
    expect(worker.locator("#signed-in-as")).to_contain_text("王工人")
    expect(worker.locator("#description")).to_have_value(HAZARD)
    worker.click("form[enctype] button[type=submit]")
    report_id = worker.locator("#report-id").inner_text()

    # The safety officer finds it in the queue, sees its photo, accepts it and verifies a major hazard.
    li = signed_in(browser, console, "李安全（炼油厂安全员）")
    when_listed(li, "隐患受理队列", f"li.case a[href='/console/cases/{report_id}']").click()
    expect(li.locator("h1")).to_have_text(HAZARD)
    thumbnail = li.locator("#report-photos img")
    expect(thumbnail).to_be_visible()
    li.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    li.locator("form[action$='/accept'] button").click()
    saved(li)
    li.locator("#verify input[value=confirmed_hazard]").check()
    li.locator("#verify select[name=grade]").select_option("major")
    li.get_by_role("button", name="预览奖励").click()
    expect(li.locator("#preview")).to_contain_text(MAJOR_REWARD)
    li.locator("#verify button:not(.secondary)").click()
    saved(li)

    # ...and assigns the rectification to maint-chen with the five fixed items of a major hazard.
    shown_after_reload(li, "#assign")
    deadline = (datetime.now(zone) + timedelta(days=10)).replace(second=0, microsecond=0)
    li.locator("#owner").fill("maint-chen")
    li.locator("#deadline").fill(f"{deadline:%Y-%m-%dT%H:%M}")
    li.locator("#responsible_person").fill("陈维修")
    li.locator("#measures").fill("停泵更换机械密封，清理地面油污")
    li.locator("#funds_yuan").fill("8000")
    li.locator("#emergency_plan").fill("备用泵切换运行，现场设警戒并备消防器材")
    li.locator("#assign button").click()
    saved(li)

    # The deputy director sets a budget for the year smaller than the reward.
    sun = signed_in(browser, console, "孙副总（公司领导）")
    sun.get_by_role("link", name="奖励预算").first.click()
    sun.locator("#set-budget input[name=amount_yuan]").fill("500")
    sun.locator("#set-budget button").click()
    saved(sun)

    # The owner, on his phone, finds the task and records the rectification with a photo.
    chen = signed_in(browser, console, "陈维修（整改责任人）", **PHONE)
    when_listed(chen, "我的整改任务", f"#task-{report_id}").get_by_role("link", name="登记整改").click()
    chen.locator("#rectify-measures").fill("已更换机械密封并试运行两小时无泄漏")
    chen.locator("#evidence").set_input_files(files=[photo("after.jpg", (800, 600))])
    chen.locator("#rectify button").tap()
    saved(chen)

    # The safety manager accepts it from the list of what awaits his decision.
    wang = signed_in(browser, console, "王经理（安全部经理）")
    review = when_listed(wang, "待我决定", f"#review-{report_id}")
    expect(review.locator(".photos img")).to_have_count(1)
    review.locator("button[value=approve]").click()
    saved(wang)

    # The head of department approves the reward: beyond the budget, so it goes to group HQ.
    zhang = signed_in(browser, console, "张部长（部门负责人）")
    reward = when_listed(zhang, "奖励审批", f"#reward-{report_id}")
    expect(reward).to_contain_text(MAJOR_REWARD)
    reward.locator("button").click()
    expect(zhang.get_by_role("status")).to_contain_text("集团总部", timeout=ANSWERED)

    liu = signed_in(browser, console, "刘总（集团总部）")
    referred = when_listed(liu, "集团总部审批", f"#reward-{report_id}")
    expect(referred).to_contain_text("超出年度预算")
    referred.locator("input[value=approve]").check()
    referred.locator("button").click()
    saved(liu)

    zhao = signed_in(browser, console, "赵会计（财务）")
    payment = when_listed(zhao, "奖励发放", f"#reward-{report_id}")
    payment.locator("input[name=payment_reference]").fill("PAY-2026-0717")
    payment.locator("button").click()
    saved(zhao)

    # What the services recorded, and what the reporter was told.
    officer = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    case = httpx.get(f"{system.url('verification')}/reports/{report_id}", headers=officer).json()
    assert (case["stage"], case["grade"], case["owner"]) == ("closed", "major", "maint-chen")
    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    granted = wait_for(lambda: (r := httpx.get(f"{system.url('rewards')}/rewards/{report_id}", headers=finance).json())["status"]
                       .startswith("granted") and r)
    assert (granted["amount_fen"], granted["approval_level"], granted["payment_reference"]) == (200_000, "group_hq", "PAY-2026-0717")
    inbox = f"{system.url('notifications')}/inbox"
    told = wait_for(lambda: [m for m in httpx.get(inbox, headers=system.headers(EMPLOYEE)).json() if m["kind"] == "rewarded"])
    assert told[0]["report_id"] == report_id and "2000" in told[0]["text"].replace(",", "")

    # The auditor's ledger, read from the log, shows the reward paid.
    qian = signed_in(browser, console, "钱审计（审计）")
    qian.get_by_role("link", name="审计").first.click()
    with qian.expect_download() as download:
        qian.get_by_role("button", name="下载 Excel").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    header, *rows = sheet.iter_rows(values_only=True)
    row = dict(zip(header, next(r for r in rows if r[0] == report_id)))
    assert float(row["奖励金额（元）"]) == 2000.0 and row["奖励状态"].startswith("已") and "发放" in row["奖励状态"]
    assert row[next(h for h in header if h.startswith("奖励发放时间"))]
