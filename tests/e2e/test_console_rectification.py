"""The rectification owner and the manager on their phones: tasks, extension, evidence, acceptance.

Real services on a real nats-server, Debian's Chromium emulating a 390 px phone in Chinese.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from hazardloop.tools.registry import SERVICES
from tests.factories import report_body
from tests.media import jpeg, pdf
from tests.waiting import wait_for

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN", "device_scale_factor": 2}
ZONE = ZoneInfo("Asia/Shanghai")
OWNER, MANAGER = "陈维修（整改责任人）", "王经理（安全部经理）"


def assigned_to_chen(system, description: str) -> str:
    """A report filed, verified as a larger hazard and assigned to maint-chen, through the services' APIs."""
    verification = system.url("verification")
    filed = httpx.post(f"{system.url('intake')}/reports", json=report_body(description=description), headers=system.headers("emp-1"))
    report_id = filed.json()["report_id"]
    officer = system.headers("safety-officer-li", roles=["verifier"])
    wait_for(lambda: httpx.get(f"{verification}/reports/{report_id}", headers=officer).status_code == 200)
    for step, body in (
        ("acceptance", {}),
        ("verification", {"outcome": "confirmed_hazard", "grade": "larger"}),
        ("assignment", {"owner": "maint-chen"}),
    ):
        answer = httpx.post(f"{verification}/reports/{report_id}/{step}", json=body, headers=officer)
        assert answer.status_code == 201, answer.text
    return report_id


def case_of(system, report_id: str) -> dict:
    officer = system.headers("safety-officer-li", roles=["verifier"])
    return httpx.get(f"{system.url('verification')}/reports/{report_id}", headers=officer).json()


def phone_of(browser: Browser, console: str, who: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{console}/console")
    page.get_by_role("button", name=who).click()
    expect(page.get_by_role("link", name="隐患举报管理台")).to_be_visible()
    return context, page


def open_when_listed(page: Page, url: str, selector: str) -> None:
    """Open ``url`` and reload until the console's store has caught up and shows ``selector``."""
    page.goto(url)

    def listed() -> bool:
        if page.locator(selector).count():
            return True
        page.reload()
        return False

    wait_for(listed, timeout=20)


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def local(at: datetime) -> datetime:
    return at.astimezone(ZONE)


def test_an_owner_rectifies_on_a_phone_and_the_manager_decides_from_the_list(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = assigned_to_chen(system, "三号罐区防火堤排水阀常开")
    deadline = datetime.fromisoformat(wait_for(lambda: case_of(system, report_id)["deadline"]))  # once verification has it

    _, chen = phone_of(browser, console, OWNER)
    chen.get_by_role("link", name="我的整改任务").first.click()
    card = f"#task-{report_id}"
    open_when_listed(chen, f"{console}/console/tasks", card)
    expect(chen.locator(card)).to_contain_text("三号罐区防火堤排水阀常开")
    expect(chen.locator(card)).to_contain_text(f"整改期限 {local(deadline):%Y-%m-%d %H:%M}")
    expect(chen.locator(f"{card} .clock")).to_contain_text("剩余")
    expect(chen.locator(card)).to_contain_text("较大隐患")
    assert fits_the_phone(chen)

    chen.locator(card).get_by_role("link", name="申请延期").tap()
    wanted = local(deadline + timedelta(days=3)).replace(second=0, microsecond=0)
    chen.locator("#new-deadline").fill(f"{wanted:%Y-%m-%dT%H:%M}")
    chen.locator("#extension-reason").fill("备件阀门需从厂家调货")
    chen.locator("#extension button").tap()
    expect(chen.get_by_role("status")).to_contain_text("已保存")

    _, wang = phone_of(browser, console, MANAGER)
    wang.get_by_role("link", name="待我决定").first.click()
    row = f"#extension-{report_id}"
    open_when_listed(wang, f"{console}/console/decisions", row)
    expect(wang.locator(row)).to_contain_text("maint-chen")
    expect(wang.locator(row)).to_contain_text("备件阀门需从厂家调货")
    expect(wang.locator(row)).to_contain_text(f"{wanted:%Y-%m-%d %H:%M}")
    assert fits_the_phone(wang)
    wang.locator(f"{row} button[value=approve]").tap()
    expect(wang.get_by_role("status")).to_contain_text("已保存")
    assert wang.url.startswith(f"{console}/console/decisions")
    moved = wait_for(lambda: (case := case_of(system, report_id))["extension_requested_deadline"] is None and case)
    assert datetime.fromisoformat(moved["deadline"]) == wanted

    chen.goto(f"{console}/console/cases/{report_id}")
    chen.locator("#rectify-measures").fill("更换排水阀并加装铅封")
    chen.locator("#evidence").set_input_files(files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": pdf()}])
    chen.locator("#rectify button").tap()
    expect(chen.locator("#evidence-error")).to_contain_text("文件声称是 .jpg，实际内容却是 application/pdf")  # nothing saved
    chen.locator("#rectify-measures").fill("更换排水阀并加装铅封")
    chen.locator("#evidence").set_input_files(files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((800, 600))}])
    chen.locator("#rectify button").tap()
    expect(chen.get_by_role("status")).to_contain_text("已保存")

    review = f"#review-{report_id}"
    open_when_listed(wang, f"{console}/console/decisions", review)
    expect(wang.locator(review)).to_contain_text("更换排水阀并加装铅封")
    expect(wang.locator(f"{review} .photos img")).to_have_count(1)
    wang.locator(f"{review} button[value=approve]").tap()
    expect(wang.get_by_role("status")).to_contain_text("已保存")
    closed = wait_for(lambda: (case := case_of(system, report_id))["stage"] == "closed" and case)
    assert closed["measures"] == "更换排水阀并加装铅封"

    wang.goto(f"{console}/console/cases/{report_id}")
    thumbnail = wang.locator("#rectified-photos img")
    expect(thumbnail).to_have_count(1)
    assert "thumbnail=true" in thumbnail.get_attribute("src")
    wait_for(lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"))
    full = wang.locator("#rectified-photos a").get_attribute("href")
    answer = wang.request.get(f"{console}{full}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"
    assert len(answer.body()) > len(wang.request.get(f"{console}{thumbnail.get_attribute('src')}").body())


def test_refusing_an_extension_needs_a_reason(system, browser):
    system.start(*SERVICES)
    console = system.url("console")
    report_id = assigned_to_chen(system, "装车栈桥静电接地夹损坏")
    deadline = datetime.fromisoformat(wait_for(lambda: case_of(system, report_id)["deadline"]))  # once verification has it
    asked = httpx.post(
        f"{system.url('verification')}/reports/{report_id}/extension",
        json={"deadline": (deadline + timedelta(days=2)).isoformat(), "reason": "等待停车检修窗口"},
        headers=system.headers("maint-chen", roles=["rectifier"]),
    )
    assert asked.status_code == 201, asked.text

    _, wang = phone_of(browser, console, MANAGER)
    row = f"#extension-{report_id}"
    open_when_listed(wang, f"{console}/console/decisions", row)
    wang.locator(f"{row} button[value=refuse]").tap()

    expect(wang.get_by_role("alert")).to_contain_text("请修改标出的内容")
    expect(wang.locator("#decision-reason")).to_have_attribute("aria-invalid", "true")
    expect(wang.locator("#reason-error")).to_have_text("必填")
    assert case_of(system, report_id)["extension_requested_deadline"] is not None

    wang.locator("#decision-reason").fill("检修窗口前可先加临时接地")
    wang.locator("#extension-decision button[value=refuse]").tap()
    expect(wang.get_by_role("status")).to_contain_text("已保存")
    assert wang.url.startswith(f"{console}/console/decisions")
    wait_for(lambda: case_of(system, report_id)["extension_requested_deadline"] is None)
    assert datetime.fromisoformat(case_of(system, report_id)["deadline"]) == deadline
    wang.goto(f"{console}/console/decisions?lang=en")
    expect(wang.locator("h1")).to_have_text("Awaiting my decision")
    expect(wang.locator("#extensions")).to_contain_text("No extension request awaits a decision.")
