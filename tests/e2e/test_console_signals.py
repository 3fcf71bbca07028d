"""Fraud signals beside a reward in a real Chromium, through the real services on a real
nats-server: the department head sees why a reward deserves a second look (never a
decision), dismisses the signal with a reason, and the signal leaves the page; group
headquarters' dashboard counts it raised and dismissed."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.test_console import sign_in
from tests.e2e.test_console_rewards import GENERAL, _file, _in_console, _reward
from tests.waiting import wait_for


def test_the_head_sees_a_signal_beside_a_reward_and_dismisses_it_with_a_reason(system, browser):
    system.env["HAZARDLOOP_SIGNAL_INTERVAL"] = "0.2"
    system.start(*SERVICES)
    console, rewards = system.url("console"), system.url("rewards")
    # One reporter files the same spot and category three times: serial near-duplicates.
    first, second, third = (_file(system, f"脚手架踏板缺失（第{n}次）") for n in (1, 2, 3))
    verifier = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    verification = f"{system.url('verification')}/reports/{third}"
    wait_for(lambda: httpx.get(verification, headers=verifier).status_code == 200)
    assert httpx.post(f"{verification}/verification", json=GENERAL, headers=verifier).status_code == 201
    assert _reward(system, third)["status"] == "proposed"

    head = browser.new_page(locale="zh-CN")
    sign_in(head, console, "张部长（部门负责人）")
    _in_console(head, console, "/console/rewards/approvals", "脚手架踏板缺失（第3次）")
    card = head.locator(f"#reward-{third}")
    signals = card.locator(".signals")
    expect(signals).to_contain_text("同一人反复举报同一部位")
    expect(signals).to_contain_text("不会阻止或决定审批")
    for report in (first, second, third):
        expect(signals.locator(f"a[href='/console/cases/{report}']")).to_be_visible()

    # Without a reason the dismissal comes back marked, and nothing is recorded.
    signals.get_by_role("button", name="排除此提示").click()
    expect(head.locator(f"#reward-{third} .signals textarea[name=reason]")).to_have_attribute("aria-invalid", "true")
    manager = system.headers("head-of-safety-zhang", roles=[Role.MANAGER])
    listed = httpx.get(f"{rewards}/signals", params={"tenant": "refinery", "report": third, "status": "all"}, headers=manager).json()
    assert [s["status"] for s in listed] == ["open"]

    head.locator(f"#reward-{third} .signals textarea[name=reason]").fill("三次分别是不同楼层的踏板，现场已核实。")
    head.locator(f"#reward-{third} .signals").get_by_role("button", name="排除此提示").click()
    expect(head.get_by_role("status")).to_contain_text("已保存")
    expect(head.locator(f"#reward-{third}")).to_be_visible()  # the reward itself is still there to decide
    wait_for(lambda: head.reload() or head.locator(f"#reward-{third} .signals").count() == 0)  # once rewards' read model has the dismissal

    [dismissed] = httpx.get(f"{rewards}/signals", params={"tenant": "refinery", "report": third, "status": "all"}, headers=manager).json()
    assert (dismissed["status"], dismissed["decided_by"], dismissed["reason"]) == ("dismissed", "head-of-safety-zhang", "三次分别是不同楼层的踏板，现场已核实。")
    # Reporters never see signals; finance reads the reward without them.
    assert httpx.get(f"{rewards}/signals", params={"tenant": "refinery"}, headers=system.headers("emp-1")).status_code == 403
    finance = system.headers("finance-zhao", roles=[Role.FINANCE])
    assert httpx.get(f"{rewards}/rewards/{third}", headers=finance).json()["signals"] == []

    # Headquarters' dashboard: the signal raised (recorded by rewards in the log) and dismissed.
    hq = browser.new_page(locale="zh-CN")
    sign_in(hq, console, "刘总（集团总部）")
    hq.get_by_role("link", name="集团看板").first.click()
    refinery = hq.locator("#signals tbody tr", has_text="炼油厂")
    wait_for(lambda: hq.reload() or refinery.count() == 1 and [c.inner_text() for c in refinery.locator("td").all()][1:] == ["1", "1", "0"])
    expect(hq.locator("#signals thead")).to_contain_text("已提示")
    expect(hq.locator("#chart-signals svg").first).to_be_attached()
