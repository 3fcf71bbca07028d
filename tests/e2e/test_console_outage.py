"""A service down: the console keeps showing what its own store holds, says in the page's
language which service cannot be reached, and records nothing it could not send.

Real services on a real nats-server, one of them stopped, in Debian's Chromium.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, Page, expect

from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Role
from tests.e2e.conftest import System
from tests.factories import report_body
from tests.waiting import wait_for

GENERAL = {"outcome": "confirmed_hazard", "grade": "general", "risk_colour": "blue"}


def filed(system: System, description: str) -> str:
    answer = httpx.post(f"{system.url('intake')}/reports", json=report_body(description=description), headers=system.headers("emp-1"))
    assert answer.status_code == 201, answer.text
    return answer.json()["report_id"]


def case_of(system: System, report_id: str) -> httpx.Response:
    return httpx.get(f"{system.url('verification')}/reports/{report_id}", headers=system.headers("li", roles=[Role.VERIFIER]))


def signed_in(browser: Browser, console: str, who: str) -> Page:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{console}/console")
    page.get_by_role("button", name=who).click()
    return page


def listed(page: Page, url: str, selector: str) -> None:
    """Open ``url``, reloading until the console's store has caught up and shows ``selector``."""
    page.goto(url)
    wait_for(lambda: page.locator(selector).count() or not page.reload(), timeout=20)


def posting(page: Page, button):
    """Click a form's button; the answer to the form it posted."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        button.click()
    return answer.value


def test_with_rewards_down_lists_still_show_and_a_decision_says_so(system: System, browser: Browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = filed(system, "丙烷球罐区可燃气体报警器失灵")
    officer = system.headers("li", roles=[Role.VERIFIER])
    wait_for(lambda: case_of(system, report_id).status_code == 200)
    verified = httpx.post(f"{system.url('verification')}/reports/{report_id}/verification", json=GENERAL, headers=officer)
    assert verified.status_code == 201, verified.text
    head = signed_in(browser, console, "张部长（部门负责人）")
    card = f"#reward-{report_id}"
    listed(head, f"{console}/console/rewards/approvals", card)

    system.stop("rewards")
    head.reload()  # the list is the console's own
    expect(head.locator(card)).to_contain_text("丙烷球罐区可燃气体报警器失灵")
    answer = posting(head, head.locator(f"{card} button"))
    assert answer.status == 503 and int(answer.headers["retry-after"]) > 0
    expect(head.get_by_role("alert")).to_have_text("奖励服务暂时无法访问，请稍后再试；其他功能不受影响。")
    expect(head.locator(card)).to_be_visible()  # still there, to try again

    head.goto(f"{console}/console/queue")
    expect(head.locator(f"a[href='/console/cases/{report_id}']")).to_be_visible()
    head.goto(f"{console}/console/cases/{report_id}")
    expect(head.locator("h1")).to_have_text("丙烷球罐区可燃气体报警器失灵")


def test_with_verification_down_accepting_names_it_and_records_nothing(system: System, browser: Browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = filed(system, "二号加热炉看火孔挡板脱落")
    officer = signed_in(browser, console, "李安全（炼油厂安全员）")
    listed(officer, f"{console}/console/cases/{report_id}", "form[action$='/accept']")

    system.stop("verification")
    answer = posting(officer, officer.locator("form[action$='/accept'] button"))
    assert answer.status == 503 and int(answer.headers["retry-after"]) > 0
    expect(officer.get_by_role("alert")).to_contain_text("核查整改服务暂时无法访问")
    expect(officer.locator(".facts")).to_contain_text("已提交")

    system.start("verification")
    case = case_of(system, report_id).json()
    assert (case["stage"], case["accepted_at"]) == ("filed", None)
