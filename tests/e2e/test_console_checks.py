"""Checks elsewhere in the console, on phones: group safety raises a check from a verified
major hazard, a mine safety officer finds the same hazard and files it from the task, and
headquarters sees per subsidiary who answered, what they found and what is still open.

Real services on a real nats-server, Debian's Chromium emulating a 390 px phone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import expect

from hazardloop.tools.registry import SERVICES
from tests.e2e.test_console_rectification import fits_the_phone, open_when_listed, phone_of
from tests.factories import report_body
from tests.waiting import wait_for

HQ, ZHOU = "何部长（集团安全部）", "周安全（矿山安全员）"
LOOK_FOR = "可燃气体检测仪在报警盘被旁路或关闭"


def verified_major(system, grade: str = "major") -> str:
    """A refinery report verified as a hazard of ``grade`` (major), through the services' APIs."""
    verification = system.url("verification")
    filed = httpx.post(f"{system.url('intake')}/reports", json=report_body(description="二号装置可燃气体报警器被旁路"),
                       headers=system.headers("emp-1"))
    report_id = filed.json()["report_id"]
    officer = system.headers("safety-officer-li", roles=["verifier"])
    wait_for(lambda: httpx.get(f"{verification}/reports/{report_id}", headers=officer).status_code == 200)
    answer = httpx.post(f"{verification}/reports/{report_id}/verification", json={"outcome": "confirmed_hazard", "grade": grade},
                        headers=officer)
    assert answer.status_code == 201, answer.text
    return report_id


def test_a_check_raised_by_headquarters_is_answered_by_each_subsidiary_and_followed_per_subsidiary(system, browser):
    system.start(*SERVICES)
    console, verification = system.url("console"), system.url("verification")
    report_id = verified_major(system)

    # Group safety raises the check from the report's page; a check sent to nobody is marked, not sent.
    _, he = phone_of(browser, console, HQ)
    larger = verified_major(system, "larger")
    open_when_listed(he, f"{console}/console/cases/{larger}/check", "#grade-too-low")  # below the policy's grade: no form
    expect(he.locator("#grade-too-low")).to_contain_text("重大隐患")
    assert he.locator("#raise-check").count() == 0
    open_when_listed(he, f"{console}/console/cases/{report_id}", "#check-elsewhere")
    he.locator("#check-elsewhere").get_by_role("link", name="发起举一反三排查").tap()
    he.locator("#look_for").fill(LOOK_FOR)
    he.locator("#raise-check button").tap()
    expect(he.locator("#subsidiaries-error")).to_be_visible()
    assert he.locator("#look_for").input_value() == LOOK_FOR, "what was typed stays"
    he.locator("input[name=subsidiaries][value=mine]").check()
    he.locator("input[name=subsidiaries][value=steelmill]").check()
    he.locator("#equipment").fill("AT-*")
    he.locator("#raise-check button").tap()
    expect(he.get_by_role("status")).to_contain_text("已保存")
    check_id = he.url.rsplit("/", 1)[-1].split("?")[0]
    wait_for(lambda: he.reload() or (he.locator("#task-mine").count() and "待答复" in he.locator("#task-mine").inner_text()))  # once verification's read model has it
    expect(he.locator("#task-steelmill")).to_contain_text("待答复")
    assert fits_the_phone(he)

    # The mine's officer finds it among the checks to answer and files what was found.
    _, zhou = phone_of(browser, console, ZHOU)
    zhou.get_by_role("link", name="待答复的排查").first.click()
    card = f"#check-task-{check_id}-mine"
    open_when_listed(zhou, f"{console}/console/check-tasks", card)
    expect(zhou.locator(card)).to_contain_text(LOOK_FOR)
    expect(zhou.locator(card)).to_contain_text("AT-*")
    expect(zhou.locator(card)).to_contain_text("剩余")
    assert fits_the_phone(zhou)
    # More time: without a reason it is marked, not sent; with one it is asked, and headquarters gives it.
    zhou.locator(f"{card} summary").tap()
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=30)
    zhou.locator(f"#deadline-{check_id}-mine").fill(f"{later:%Y-%m-%dT%H:%M}")
    zhou.locator(f"{card} .more-time button").tap()
    expect(zhou.locator(f"{card} #reason-error")).to_be_visible()
    zhou.locator(f"#reason-{check_id}-mine").fill("井下检测仪需逐台停机检查")
    zhou.locator(f"{card} .more-time button").tap()
    expect(zhou.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: zhou.reload() or f"申请延期至 {later:%Y-%m-%d %H:%M}" in zhou.locator(card).inner_text())  # once verification has it
    he.goto(f"{console}/console/checks/{check_id}")
    expect(he.locator("#task-mine")).to_contain_text("井下检测仪需逐台停机检查")
    he.locator("#task-mine").get_by_role("button", name="批准", exact=True).tap()
    expect(he.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: he.reload() or f"答复期限 {later:%Y-%m-%d %H:%M}" in he.locator("#task-mine").inner_text())  # once verification has it

    zhou.goto(f"{console}/console/check-tasks")
    zhou.locator(card).get_by_role("link", name="发现同类隐患，登记举报").tap()
    observed = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=1)
    zhou.locator("#observed_at").fill(f"{observed:%Y-%m-%dT%H:%M}")
    zhou.locator("#found button").tap()
    expect(zhou.locator("#description-error")).to_be_visible()  # nothing filed without saying what was seen
    zhou.locator("#description").fill("一号井口气体检测仪报警被旁路")
    zhou.locator("#place_id").select_option("bay-3")
    zhou.locator("#found button").tap()
    expect(zhou.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: zhou.reload() or zhou.locator(card).count() == 0)  # answered: off the list

    # The steel mill checked and it is not there (answered through verification's API).
    steel = system.headers("steel-safety", roles=["verifier"], tenants=["steelmill"])
    answered = httpx.post(f"{verification}/checks/{check_id}/tasks/steelmill/answer", json={"answer": "not_present"}, headers=steel)
    assert answered.status_code == 201, answered.text

    # Headquarters sees each subsidiary's answer and opens the mine's report.
    def both_answered() -> bool:
        he.goto(f"{console}/console/checks/{check_id}")
        return "发现同类隐患" in he.locator("#task-mine").inner_text() and "已排查，不存在" in he.locator("#task-steelmill").inner_text()

    wait_for(both_answered, timeout=20)
    he.goto(f"{console}/console/checks")
    expect(he.locator(f"#check-{check_id}")).to_contain_text("已答复 2/2")
    expect(he.locator(f"#check-{check_id}")).to_contain_text("1 家发现同类隐患")
    he.goto(f"{console}/console/checks/{check_id}?lang=en")
    expect(he.locator("#task-steelmill")).to_contain_text("Checked, not present")
    found = he.locator("#task-mine").get_by_role("link", name="See the report filed")
    found_id = found.get_attribute("href").rsplit("/", 1)[-1]
    open_when_listed(he, f"{console}/console/cases/{found_id}", "h1")
    expect(he.locator("h1")).to_contain_text("一号井口气体检测仪报警被旁路")
    for text in ("CheckAnswered", "not_present", "found_report_id"):
        assert text not in he.content(), "no codes on a page"

    # A second check, to the mine alone: its officer answers "checked, not present" with a note.
    second = httpx.post(f"{verification}/reports/{report_id}/checks", json={"look_for": "安全阀前后截止阀被关闭", "subsidiaries": ["mine"]},
                        headers=system.headers("hq-safety-he", roles=["verifier", "manager"], tenants=["*"]))
    assert second.status_code == 201, second.text
    other = f"#check-task-{second.json()['check_id']}-mine"
    open_when_listed(zhou, f"{console}/console/check-tasks", other)
    zhou.locator(f"{other} textarea[name=note]").fill("已逐台检查，均处于开启状态")
    zhou.locator(other).get_by_role("button", name="已排查，不存在").tap()
    expect(zhou.get_by_role("status")).to_contain_text("已保存")
    wait_for(lambda: zhou.reload() or zhou.locator(other).count() == 0)  # answered: off the list
    wait_for(lambda: httpx.get(f"{verification}/checks/{second.json()['check_id']}", headers=system.headers(
        "hq-safety-he", roles=["verifier"], tenants=["*"])).json()["tasks"][0]["note"] == "已逐台检查，均处于开启状态")

    # Every subsidiary answered: the check closes, and the mine can no longer answer it.
    he.goto(f"{console}/console/checks/{check_id}")
    he.locator("#close button").tap()
    expect(he.get_by_role("status")).to_contain_text("Saved")
    late = httpx.post(f"{verification}/checks/{check_id}/tasks/mine/answer", json={"answer": "not_present"},
                      headers=system.headers("mine-safety-zhou", roles=["verifier"], tenants=["mine"]))
    assert late.status_code == 409
