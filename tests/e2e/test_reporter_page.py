"""The anonymous reporter's own page and the thread with the safety department, in Debian's
Chromium at phone size with JavaScript off, through all five services on a real nats-server.

A worker files anonymously from a place's QR code, follows the report with the receipt
code, writes to the safety department; the safety officer answers from the console's case
page; each side hears of the other's message in their inbox; the reward, once approved,
is claimed from the page and paid against the voucher. Services' APIs are used only for
steps other people take and to check what was recorded.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Browser, Page, expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.conftest import System
from tests.factories import report_body
from tests.waiting import wait_for

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "java_script_enabled": False}
HAZARD = "三号管廊可燃气体探测器无显示，指示灯不亮"
QUESTION = "今天早上探测器还是不亮，附近有动火作业。"
ANSWER = "已安排仪表班今天下午更换探测器，动火作业已暂停。"
ANSWERED = 15_000


def phone(browser: Browser, locale: str) -> Page:
    return browser.new_context(**PHONE, locale=locale).new_page()


def reload_until(page: Page, text: str, selector: str = "main") -> None:
    wait_for(lambda: text in page.locator(selector).inner_text() or page.reload() and False, timeout=20)


def look_up(page: Page, intake: str, code: str, lang: str) -> None:
    page.goto(f"{intake}/f/status?lang={lang}")
    page.fill("#code", code)
    page.click("button[type=submit]")


def test_an_anonymous_reporter_follows_talks_and_claims_from_the_phone(system: System, browser: Browser):
    system.start(*SERVICES)
    intake, console, notifications = system.url("intake"), system.url("console"), system.url("notifications")
    zone = ZoneInfo("Asia/Shanghai")
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    officer = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    listed = httpx.put(
        f"{notifications}/directory/people/safety-officer-li", params={"tenant": "refinery"}, headers=manager,
        json={"name": "李安全", "roles": ["safety_department"]},
    )
    assert listed.status_code == 200, listed.text
    link = httpx.get(f"{intake}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]

    # The worker files anonymously from the QR code, in Chinese (the phone's language).
    worker = phone(browser, "zh-CN")
    worker.goto(link)
    worker.select_option("#kind", "unsafe_equipment:safety_device_disabled_or_damaged")
    worker.fill("#description", HAZARD)
    worker.check("input[name=who][value=anonymous]")
    worker.click("button[type=submit]")
    code = worker.locator("#receipt-code").inner_text()
    report_id = worker.locator("#report-id").inner_text()

    # ...follows it with the code: the page says where it stands, in plain words and local time.
    worker.get_by_role("link", name="查询进度").click()
    worker.fill("#code", code)
    worker.click("button[type=submit]")
    assert worker.url.endswith("/f/receipt?lang=zh") and code not in worker.url
    expect(worker.locator("#state")).to_have_text("已提交")
    filed_at = httpx.get(f"{intake}/receipt", headers={"Receipt-Code": code}).json()["filed_at"]
    local = datetime.fromisoformat(filed_at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    expect(worker.locator("#timeline")).to_contain_text(f"{local} 您提交了报告")
    expect(worker.locator("#place")).to_have_text("North / Pipe rack / Bay 3")
    content = worker.content()
    assert "ReportFiled" not in content and "UTC" not in content and code not in content

    # ...and writes to the safety department, who hear of it in their inbox.
    worker.fill("#text", QUESTION)
    worker.click("#write button")
    expect(worker.get_by_role("status")).to_contain_text("留言已发送")
    expect(worker.locator("#thread .mine")).to_contain_text(QUESTION)
    heard = wait_for(lambda: [m for m in httpx.get(f"{notifications}/inbox", headers=officer).json() if m["kind"] == "reporter_wrote"])
    assert heard[0]["report_id"] == report_id and QUESTION in heard[0]["text"]

    # The safety officer answers from the case page in the console.
    li = browser.new_context(locale="zh-CN").new_page()
    li.goto(f"{console}/console")
    li.get_by_role("button", name="李安全（炼油厂安全员）").click()
    li.goto(f"{console}/console/cases/{report_id}")
    reload_until(li, QUESTION, "#thread")
    li.locator("#reply-text").fill("长" * 2001)  # over the limit: marked, and nothing sent
    li.locator("#reply button").click()
    expect(li.locator("#text-error")).to_have_text("内容过长")
    li.locator("#reply-text").fill(ANSWER)
    li.locator("#reply button").click()
    expect(li.get_by_role("status")).to_contain_text("已保存", timeout=ANSWERED)
    reload_until(li, ANSWER, "#thread")
    assert [m["text"] for m in httpx.get(f"{intake}/reports/{report_id}/thread", headers=officer).json()] == [QUESTION, ANSWER]

    # The reporter sees the answer on the page and in the inbox of their report.
    worker.goto(f"{intake}/f/receipt?lang=zh")
    reload_until(worker, ANSWER, "#thread")
    expect(worker.locator("#thread .theirs")).to_contain_text("安全管理部门")
    told = wait_for(lambda: [m for m in httpx.get(f"{notifications}/inbox", headers={"Receipt-Code": code}).json() if m["kind"] == "staff_wrote"])
    assert ANSWER in told[0]["text"]

    # The hazard is confirmed and its reward approved; the reporter claims it from the page.
    verification, rewards = system.url("verification"), system.url("rewards")
    assert httpx.post(f"{verification}/reports/{report_id}/acceptance", json={}, headers=officer).status_code == 201
    verdict = {"outcome": "confirmed_hazard", "grade": "general"}
    assert httpx.post(f"{verification}/reports/{report_id}/verification", json=verdict, headers=officer).status_code == 201
    head = system.headers("head-of-safety-zhang", roles=[Role.MANAGER])
    wait_for(lambda: httpx.get(f"{rewards}/rewards/{report_id}", headers=head).status_code == 200)
    assert httpx.post(f"{rewards}/rewards/{report_id}/approval", json={"approve": True}, headers=head).status_code == 201
    reload_until(worker, "已批准，待发放", "#reward")
    expect(worker.locator("#reward-amount")).to_have_text("100.00 元")
    worker.locator("#claim button").click()
    voucher = worker.locator("#voucher").inner_text()
    assert len(voucher.replace("-", "")) == 16

    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    paid = httpx.post(f"{rewards}/rewards/{report_id}/payment", json={"payment_reference": "V-0001", "voucher_code": voucher}, headers=finance)
    assert paid.status_code == 201, paid.text
    worker.goto(f"{intake}/f/receipt?lang=zh")
    reload_until(worker, "凭兑奖码领取", "#reward")
    expect(worker.locator("#reward-state")).to_have_text("已发放")
    expect(worker.locator("#claim")).to_have_count(0)
    token = worker.locator("#write input[name=csrf]").get_attribute("value")
    late = worker.request.post(f"{intake}/f/receipt/claim", form={"lang": "zh", "csrf": token})
    assert late.status == 409 and "该奖励已经发放" in late.text()  # rewards' refusal, in the reporter's words

    # In English, by the phone's language: the same page in English words, and its dossier.
    visitor = phone(browser, "en-GB")
    look_up(visitor, intake, code, "")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.locator("#state")).to_have_text("Verified")
    expect(visitor.locator("#timeline")).to_contain_text("You sent the report")
    expect(visitor.locator("#thread .theirs")).to_contain_text("Safety department")
    dossier = visitor.request.get(f"{intake}/f/receipt/dossier?lang=en")
    assert dossier.status == 200 and report_id in dossier.text()
    visitor.locator("form[action$='/end'] button").click()
    expect(visitor.locator("#message")).to_contain_text("Your receipt code still works")
    assert visitor.request.get(f"{intake}/f/receipt/dossier?lang=en", max_redirects=0).status == 303


def test_a_signed_in_reporter_follows_and_writes_on_their_own_reports_page_only(system: System, browser: Browser):
    system.start("intake", "verification")
    intake = system.url("intake")
    filed = httpx.post(
        f"{intake}/reports", json=report_body(description="Ladder to the tank roof has a broken rung"),
        headers=system.headers("emp-10482"),
    ).json()
    report_id = filed["report_id"]
    officer = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    wait_for(lambda: httpx.get(f"{intake}/reports/{report_id}", headers=officer).status_code == 200)

    # Wang opens his report's page: he signs in first, then lands on it (in English, as asked).
    wang = phone(browser, "zh-CN")
    wang.goto(f"{intake}/f/reports/{report_id}?lang=en")
    wang.get_by_role("button", name="Wang, pipefitter").click()
    expect(wang.locator("#state")).to_have_text("Filed")
    expect(wang.locator("#seen")).to_contain_text("broken rung")
    expect(wang.locator("#claim")).to_have_count(0)  # a named reward is paid with wages: nothing to claim
    wang.fill("#text", "The rung is on the third step from the top.")
    wang.click("#write button")
    expect(wang.locator("#thread .mine")).to_contain_text("third step from the top")
    thread = httpx.get(f"{intake}/reports/{report_id}/thread", headers=officer).json()
    assert [(m["from_reporter"], m["text"]) for m in thread] == [(True, "The rung is on the third step from the top.")]
    dossier = wang.request.get(f"{intake}/f/reports/{report_id}/dossier?lang=en")
    assert dossier.status == 200 and report_id in dossier.text()

    # Zhou, signed in on another phone, finds no such report, and cannot write to it.
    zhou = phone(browser, "zh-CN")
    zhou.goto(f"{intake}/f/reports/{report_id}?lang=zh")
    zhou.get_by_role("button", name="周焊工").click()
    expect(zhou.locator("#message")).to_contain_text("没有这份报告")
    assert zhou.request.get(f"{intake}/f/reports/{report_id}?lang=zh").status == 404
    posted = zhou.request.post(f"{intake}/f/reports/{report_id}/messages", form={"text": "Me too", "lang": "zh", "csrf": "guessed"})
    assert posted.status == 403
    assert len(httpx.get(f"{intake}/reports/{report_id}/thread", headers=officer).json()) == 1
