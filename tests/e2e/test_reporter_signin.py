"""Reporters sign in on the QR form to report in their own name, and follow their reports.

Intake runs as a process on a real nats-server; reporters sign in at a real OpenID
provider (tests/oidc) in Debian's Chromium, on a phone-sized screen with JavaScript off.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from hazardloop.web.auth import Role
from tests.e2e.conftest import System
from tests.e2e.test_qr_form import photo
from tests.oidc import FORM_CLIENT_ID, FORM_CLIENT_SECRET, PASSWORD, OidcProvider
from tests.waiting import wait_for


@pytest.fixture
def with_provider(oidc_system: System, oidc_provider: OidcProvider) -> System:
    """Intake as production runs it: the form a client of the provider, no dev sign-in."""
    oidc_system.env.pop("HAZARDLOOP_DEV_SIGNIN")
    oidc_system.env.update({"HAZARDLOOP_INTAKE_OIDC_CLIENT_ID": FORM_CLIENT_ID,
                            "HAZARDLOOP_INTAKE_OIDC_CLIENT_SECRET": FORM_CLIENT_SECRET})
    callback = f"{oidc_system.url('intake')}/f/signin/callback"
    if callback not in oidc_provider.redirect_uris:
        oidc_provider.restart(redirect_uris=[callback])
    oidc_system.start("intake")
    return oidc_system


def phone_page(browser, locale: str):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, java_script_enabled=False, locale=locale
    )
    return context.new_page()


def form_link(system: System) -> str:
    manager = system.headers("safety-manager", roles=[Role.MANAGER])
    return httpx.get(f"{system.url('intake')}/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]


def at_provider(page, account: str) -> None:
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def reports_of(system: System, tenant: str = "refinery") -> list[dict]:
    officer = system.headers("officer", roles=[Role.VERIFIER], tenants=[tenant])
    return httpx.get(f"{system.url('intake')}/reports", params={"tenant": tenant}, headers=officer).json()


def test_a_worker_signs_in_at_the_provider_and_files_in_his_own_name_with_what_he_typed_kept(
    with_provider, oidc_provider, browser, tmp_path
):
    intake, link = with_provider.url("intake"), form_link(with_provider)
    phone = phone_page(browser, "zh-CN")
    phone.goto(link)
    phone.select_option("#kind", "unsafe_equipment:safety_device_disabled_or_damaged")
    phone.fill("#description", "三号管廊气体检测仪无读数，指示灯不亮。")
    phone.fill("#suggested_fix", "更换并重新标定检测仪。")
    phone.set_input_files("#photos", photo(tmp_path))
    expect(phone.locator("#employee_number")).to_have_count(0)  # nobody types who they are
    phone.check("input[name=who][value=named]")
    key = phone.locator("input[name=idempotency_key]").get_attribute("value")
    phone.click("button[type=submit]")

    expect(phone.locator("input[name=password]")).to_be_visible()  # the provider's own page
    assert phone.url.startswith(oidc_provider.issuer)
    assert "三号管廊" not in phone.url and "description" not in phone.url  # the draft is never in a URL
    at_provider(phone, "worker-wang")

    expect(phone).to_have_url(f"{link}&lang=zh")
    expect(phone.locator("#signed-in-as")).to_contain_text("王工人")
    expect(phone.locator("#description")).to_have_value("三号管廊气体检测仪无读数，指示灯不亮。")
    expect(phone.locator("#suggested_fix")).to_have_value("更换并重新标定检测仪。")
    expect(phone.locator("#kind")).to_have_value("unsafe_equipment:safety_device_disabled_or_damaged")
    expect(phone.locator("input[name=attachment]")).to_have_count(1)  # the photo, uploaded once
    assert phone.locator("input[name=idempotency_key]").get_attribute("value") == key
    expect(phone.locator("input[name=who][value=named]")).to_be_checked()
    session = next(c for c in phone.context.cookies() if c["name"] == "hl_reporter")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["path"] == "/f"
    phone.fill("#phone", "139 0000 1234")
    assert not phone.locator("#phone").get_attribute("aria-invalid")
    phone.click("form[enctype] button[type=submit]")

    expect(phone.locator("h1")).to_have_text("感谢您的报告！")
    expect(phone.locator("#receipt-code")).to_have_count(0)  # named: no receipt code
    report_id = phone.locator("#report-id").inner_text()
    worker = {"Authorization": f"Bearer {oidc_provider.login('worker-wang')}"}
    report = wait_for(lambda: (r := httpx.get(f"{intake}/reports/{report_id}", headers=worker)).status_code == 200 and r.json())
    assert not report["anonymous"] and report["channel"] == "web" and len(report["attachments"]) == 1  # his, by his token

    phone.click("#my-reports")
    expect(phone.locator("h1")).to_have_text("我的报告")
    item = phone.locator(f"li[data-report='{report_id}']")
    expect(item.locator(".state")).to_have_text("已提交")
    expect(item).to_contain_text("North / Pipe rack / Bay 3")
    filed = datetime.fromisoformat(report["filed_at"]).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    expect(item.locator(".filed-at")).to_have_text(filed)
    assert item.locator("a").get_attribute("href") == f"/f/reports/{report_id}?lang=zh"
    assert "filed" not in item.inner_text() and "UTC" not in item.inner_text()

    phone.get_by_role("button", name="退出登录").click()
    phone.get_by_role("button", name="Yes, sign me out").click()  # the provider ends its session too
    expect(phone.locator("#sign-in")).to_be_visible()
    phone.goto(link)
    expect(phone.locator("#signed-in-as")).to_have_count(0)
    phone.fill("#description", "下一位使用这部手机的人")
    phone.click("button[type=submit]")
    expect(phone.locator("input[name=password]")).to_be_visible()  # the next person on this phone must type a password


def test_a_cancelled_or_stale_sign_in_returns_to_the_form_with_what_was_typed_in_english(with_provider, oidc_provider, browser):
    link = form_link(with_provider)
    phone = phone_page(browser, "zh-CN")
    phone.goto(f"{link}&lang=en-US")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.fill("#description", "Handrail on the stair to level 2 is loose.")
    with phone.expect_request(lambda request: request.url.startswith(f"{oidc_provider.issuer}/auth?")) as started:
        phone.click("button[type=submit]")
    state = parse_qs(urlsplit(started.value.url).query)["state"][0]
    intake = with_provider.url("intake")
    phone.goto(f"{intake}/f/signin/callback?error=access_denied&state={state}")  # the reporter gave up at the provider
    expect(phone.locator("#signin-notice")).to_have_text(
        "The sign-in did not go through (cancelled or refused). What you typed is kept: sign in again, or report anonymously."
    )
    expect(phone.locator("#description")).to_have_value("Handrail on the stair to level 2 is loose.")
    phone.goto(f"{intake}/f/signin/callback?code=stolen&state={state}")  # replayed: no attempt of this phone's any more
    expect(phone.locator("#signin-notice")).to_contain_text("That sign-in had expired or was not started on this phone.")
    expect(phone.locator("#description")).to_have_value("Handrail on the stair to level 2 is loose.")
    assert reports_of(with_provider) == []


def test_a_named_post_without_a_signed_in_reporter_files_nothing(with_provider, oidc_provider):
    link, intake = form_link(with_provider), with_provider.url("intake")
    body = {"kind": "unsafe_behaviour:no_protective_equipment", "description": "Someone else's name", "who": "named",
            "employee_number": "E-10001", "name": "Colleague", "lang": "zh",
            "observed_at": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")}
    with httpx.Client() as client:
        forged = client.post(link, data=body | {"csrf": "made-up"})
        assert forged.status_code == 422
        assert 'id="who" role="radiogroup" aria-invalid="true"' in forged.text
        assert "实名报告需要先登录" in forged.text
        redirected = client.post(link, data=body)  # a form of a phone not signed in: off to sign in, nothing filed
        assert redirected.status_code == 303 and redirected.headers["location"].startswith(f"{oidc_provider.issuer}/auth?")
        assert "hl_draft" in redirected.headers["set-cookie"] and "E-10001" not in redirected.headers["location"]
        anonymous = client.post(link, data=body | {"who": "anonymous", "description": "Guard missing on the pump coupling"})
        assert anonymous.status_code == 201 and 'id="receipt-code"' in anonymous.text  # anonymous: no sign-in needed
    (filed,) = wait_for(lambda: reports_of(with_provider) or None)
    assert filed["anonymous"] and filed["description"] == "Guard missing on the pump coupling"
    assert httpx.get(f"{intake}/f/mine", follow_redirects=False).status_code == 200  # a page asking to sign in


def test_form_errors_read_in_chinese_beside_the_field(with_provider, browser):
    link = form_link(with_provider)
    phone = phone_page(browser, "zh-CN")
    phone.goto(f"{link}&lang=zh-CN")
    phone.fill("#description", "护栏松动")
    phone.fill("#observed_at", "2099-01-01T08:00")  # in the future
    phone.check("input[name=who][value=anonymous]")
    phone.click("button[type=submit]")
    expect(phone.locator("#observed_at")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#observed_at-error")).to_have_text("请填写发现时间：不能晚于现在，也不能早于一年前。")
    expect(phone.locator("#description")).to_have_value("护栏松动")
    assert "observed" not in phone.locator("[role=alert]").inner_text()
    with httpx.Client() as client:  # what a browser's own checks would have stopped
        page = client.post(link, data={"lang": "zh", "who": "anonymous", "kind": "no:such", "description": "",
                                       "observed_at": "yesterday"})
    assert page.status_code == 422
    for field in ("kind", "description", "observed_at"):
        assert f'id="{field}-error"' in page.text
    assert "请选择隐患类别。" in page.text and "Input should be" not in page.text and "String should" not in page.text


def test_the_demo_reporter_signs_in_without_a_provider_and_sees_his_reports(system, browser):
    system.start("intake")
    link = form_link(system)
    phone = phone_page(browser, "en-US")
    phone.goto(link)
    phone.fill("#description", "Oil on the floor by the pump.")
    phone.click("button[type=submit]")
    phone.get_by_role("button", name="Wang, pipefitter").click()
    expect(phone.locator("#signed-in-as")).to_contain_text("Wang, pipefitter")
    expect(phone.locator("#description")).to_have_value("Oil on the floor by the pump.")
    phone.click("form[enctype] button[type=submit]")
    report_id = phone.locator("#report-id").inner_text()
    phone.click("#my-reports")
    expect(phone.locator(f"li[data-report='{report_id}'] .state")).to_have_text("Filed")


def test_a_reporter_of_another_subsidiary_cannot_report_here_in_his_name(with_provider, browser):
    phone = phone_page(browser, "zh-CN")
    phone.goto(form_link(with_provider))
    phone.fill("#description", "配电柜门未关")
    phone.click("button[type=submit]")
    at_provider(phone, "worker-zhou")  # his account is the mine's, this form the refinery's
    expect(phone.locator("#signed-in-as")).to_contain_text("周焊工")
    phone.click("form[enctype] button[type=submit]")
    expect(phone.locator("#who-error")).to_have_text("您的账号不能在该单位提交实名报告；请选择匿名报告。")
    expect(phone.locator("#who")).to_have_attribute("aria-invalid", "true")
    assert reports_of(with_provider) == []


def test_with_the_provider_down_the_reporter_is_back_on_the_form_with_what_was_typed(with_provider, oidc_provider, browser):
    phone = phone_page(browser, "zh-CN")
    phone.goto(form_link(with_provider))
    phone.fill("#description", "消防通道被货物堵塞")
    oidc_provider.stop()
    try:
        phone.click("button[type=submit]")
        expect(phone.locator("#signin-notice")).to_have_text(
            "集团身份认证暂时无法访问。您填写的内容已保留：请稍后再试，或选择匿名报告。"
        )
        expect(phone.locator("#description")).to_have_value("消防通道被货物堵塞")
    finally:
        oidc_provider.start()
    phone.check("input[name=who][value=anonymous]")
    phone.click("button[type=submit]")
    expect(phone.locator("#receipt-code")).to_be_visible()
