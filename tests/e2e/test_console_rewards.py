"""The rewards side of the console in a real Chromium, through the real services on a real
nats-server: the officer's reward preview, the department head's approval, finance's
payment and payroll export, and the reporter hearing of the reward."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.test_console import sign_in
from tests.factories import report_body
from tests.waiting import wait_for

GENERAL = {"outcome": "confirmed_hazard", "grade": "general", "risk_colour": "blue"}
"""A general hazard: 100 yuan by the default policy."""


def _file(system, description: str) -> str:
    filed = httpx.post(f"{system.url('intake')}/reports", json=report_body(description=description), headers=system.headers("emp-1"))
    assert filed.status_code == 201, filed.text
    return filed.json()["report_id"]


def _proposed(system, description: str) -> str:
    """A report filed and verified as a general hazard through the APIs, its reward proposed."""
    report_id = _file(system, description)
    verifier = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    verification = f"{system.url('verification')}/reports/{report_id}"
    wait_for(lambda: httpx.get(verification, headers=verifier).status_code == 200)
    assert httpx.post(f"{verification}/verification", json=GENERAL, headers=verifier).status_code == 201
    assert _reward(system, report_id)["status"] == "proposed"
    return report_id


def _reward(system, report_id: str, status: str | None = None) -> dict:
    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    url = f"{system.url('rewards')}/rewards/{report_id}"
    return wait_for(lambda: (r := httpx.get(url, headers=finance)).status_code == 200 and (status is None or r.json()["status"] == status) and r.json())


def _in_console(page, console: str, path: str, text: str) -> None:
    """Open a console page once the console's store has caught up with ``text``."""
    wait_for(lambda: page.goto(f"{console}{path}") and text in page.content(), timeout=20, interval=0.5)


def test_a_reward_is_approved_paid_exported_and_the_reporter_told(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = _proposed(system, "催化裂化装置平台护栏松动")
    card = f"#reward-{report_id}"

    head = browser.new_page(locale="zh-CN")
    sign_in(head, console, "张部长（部门负责人）")
    head.get_by_role("link", name="奖励审批").first.click()
    _in_console(head, console, "/console/rewards/approvals", "催化裂化装置平台护栏松动")
    expect(head.locator(card)).to_contain_text("基础奖励（一般隐患）")
    expect(head.locator(card)).to_contain_text("100.00 元")

    # An adjusted amount without a reason comes back marked; nothing is recorded.
    head.locator(f"{card} input[name=amount_yuan]").fill("150")
    head.locator(f"{card} button").click()
    expect(head.locator(f"{card} textarea[name=reason]")).to_have_attribute("aria-invalid", "true")
    expect(head.locator(f"{card} .field-error")).to_contain_text("必填")
    expect(head.locator(f"{card} input[name=amount_yuan]")).to_have_value("150")
    assert _reward(system, report_id)["status"] == "proposed"

    head.locator(f"{card} input[name=amount_yuan]").fill("")
    head.locator(f"{card} button").click()
    expect(head.get_by_role("status")).to_contain_text("已保存")
    approved = _reward(system, report_id, "approved")
    assert (approved["amount_fen"], approved["approver"]) == (10_000, "head-of-safety-zhang")

    finance = browser.new_page(locale="zh-CN", accept_downloads=True)
    sign_in(finance, console, "赵会计（财务）")
    finance.get_by_role("link", name="奖励发放").first.click()
    _in_console(finance, console, "/console/rewards/payments", "催化裂化装置平台护栏松动")
    finance.locator(f"#reward-{report_id} input[name=payment_reference]").fill("PAY-2026-0042")
    finance.locator(f"#reward-{report_id} button").click()
    expect(finance.get_by_role("status")).to_contain_text("已保存")
    granted = _reward(system, report_id, "granted")
    assert (granted["amount_fen"], granted["payment_reference"], granted["payer"]) == (10_000, "PAY-2026-0042", "finance-zhao")

    with finance.expect_download() as xlsx:
        finance.get_by_role("button", name="下载 Excel").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.value.path().read_bytes())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["付款凭证号", "报告编号", "举报人（化名）", "奖励金额（元）", "发放方式"]
    assert rows[0][6].startswith("发放时间")
    assert rows[1][0] == "PAY-2026-0042" and rows[1][1] == report_id and float(rows[1][3]) == 100.0 and rows[1][4] == "随工资发放"

    with finance.expect_download() as download:
        finance.get_by_role("button", name="下载 CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:4] == ["付款凭证号", "报告编号", "举报人（化名）", "奖励金额（元）"]
    assert lines[1][:2] == ["PAY-2026-0042", report_id] and lines[1][3] == "100.00" and lines[1][4] == "随工资发放"

    inbox = f"{system.url('notifications')}/inbox"
    told = wait_for(lambda: [m for m in httpx.get(inbox, headers=system.headers("emp-1")).json() if m["kind"] == "rewarded"], timeout=20)
    assert told[0]["report_id"] == report_id and "100" in told[0]["text"]


def test_the_officer_previews_the_reward_before_saving_the_grading(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = _file(system, "储罐区呼吸阀堵塞")
    page = browser.new_page(locale="zh-CN")
    sign_in(page, console, "李安全（炼油厂安全员）")
    _in_console(page, console, f"/console/cases/{report_id}", "储罐区呼吸阀堵塞")
    page.locator("#verify input[value=confirmed_hazard]").check()
    page.locator("#verify select[name=grade]").select_option("general")
    page.locator("#verify input[name=factors][value=at_height]").check()
    page.get_by_role("button", name="预览奖励").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("奖励预估: 120.00 元")
    expect(preview).to_contain_text("高处作业：×120%")
    expect(preview).not_to_contain_text("at_height")
    rewards = system.headers("finance-zhao", roles=[Role.FINANCE])
    assert httpx.get(f"{system.url('rewards')}/rewards/{report_id}", headers=rewards).status_code == 404  # nothing recorded


def test_budgets_and_policy_are_set_in_the_console_and_a_referral_reaches_group_hq(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    leader = browser.new_page(locale="zh-CN")
    sign_in(leader, console, "孙副总（公司领导）")
    leader.goto(f"{console}/console/rewards/budgets")
    leader.locator("#set-budget input[name=amount_yuan]").fill("五千")
    leader.locator("#set-budget button").click()
    expect(leader.locator("#set-budget input[name=amount_yuan]")).to_have_attribute("aria-invalid", "true")
    leader.locator("#set-budget input[name=amount_yuan]").fill("150")
    leader.locator("#set-budget button").click()
    expect(leader.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: leader.reload() and "150.00 元" in leader.locator("table").inner_text(), interval=0.5)

    leader.goto(f"{console}/console/rewards/policy")
    expect(leader.locator("#in-force")).to_contain_text("默认标准")
    expect(leader.locator("#in-force")).to_contain_text("高处作业")
    leader.locator("#set-policy input[name=name]").fill("炼油厂2026版")
    leader.locator("#set-policy input[name=base_general]").fill("200")
    leader.locator("#set-policy button").click()
    expect(leader.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: leader.reload() and "炼油厂2026版" in leader.locator("#in-force").inner_text(), interval=0.5)
    expect(leader.locator("#in-force")).to_contain_text("200.00 元")

    # 200 yuan by the new policy: beyond the 150 yuan budget, so the approval goes to group HQ.
    report_id = _proposed(system, "污水处理场格栅间硫化氢浓度偏高")
    assert _reward(system, report_id)["amount_fen"] == 20_000
    head = browser.new_page(locale="zh-CN")
    sign_in(head, console, "张部长（部门负责人）")
    _in_console(head, console, "/console/rewards/approvals", "污水处理场格栅间硫化氢浓度偏高")
    head.locator(f"#reward-{report_id} button").click()
    expect(head.get_by_role("status")).to_contain_text("集团总部")
    assert _reward(system, report_id, "referred")["referred_for"] == "over_budget"

    hq = browser.new_page(locale="zh-CN")
    sign_in(hq, console, "刘总（集团总部）")
    _in_console(hq, console, "/console/rewards/referrals", "污水处理场格栅间硫化氢浓度偏高")
    expect(hq.locator(f"#reward-{report_id}")).to_contain_text("超出年度预算")
    hq.locator(f"#reward-{report_id} input[value=decline]").check()
    hq.locator(f"#reward-{report_id} button").click()
    expect(hq.locator(f"#reward-{report_id} textarea[name=reason]")).to_have_attribute("aria-invalid", "true")
    hq.locator(f"#reward-{report_id} input[value=approve]").check()
    hq.locator(f"#reward-{report_id} textarea[name=reason]").fill("确属重要隐患，超预算批准")
    hq.locator(f"#reward-{report_id} button").click()
    expect(hq.get_by_role("status")).to_contain_text("已保存")
    assert _reward(system, report_id, "approved")["approval_level"] == "group_hq"
