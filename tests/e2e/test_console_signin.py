"""Signing in to the console, and what a session lets a person see and do.

The console and the services run as processes on a real nats-server; people sign in at
a real OpenID provider (tests/oidc) in Debian's Chromium. The authorisation matrix uses
plain HTTP with each demo person's session cookie: one line per page.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, update

from hazardloop.web.auth import Role
from hazardloop_console.people import DEMO_PEOPLE
from hazardloop_console.sessions import sessions
from tests.e2e.conftest import System
from tests.factories import report_body
from tests.media import jpeg
from tests.oidc import CLIENT_ID, CLIENT_SECRET, PASSWORD, OidcProvider
from tests.waiting import wait_for

PROVIDER_BUTTON = "使用集团统一身份登录"


@pytest.fixture
def production(oidc_system: System, oidc_provider: OidcProvider) -> System:
    """The console as production runs it: a client of the provider, its callback registered, no dev sign-in."""
    oidc_system.env.pop("HAZARDLOOP_DEV_SIGNIN")
    oidc_system.env.update({"HAZARDLOOP_OIDC_CLIENT_ID": CLIENT_ID, "HAZARDLOOP_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    oidc_provider.restart(redirect_uris=[f"{oidc_system.url('console')}/signin/callback"])
    return oidc_system


def file_report(system: System, tenant: str, description: str, photos: tuple[str, ...] = ()) -> str:
    answer = httpx.post(f"{system.url('intake')}/reports", json=report_body(tenant, description=description, attachments=list(photos)),
                        headers=system.headers("emp-1", tenants=[tenant]))
    assert answer.status_code == 201, answer.text
    return answer.json()["report_id"]


def at_provider(page: Page, account: str, password: str = PASSWORD) -> None:
    """Type the account and password into the provider's own sign-in page."""
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signin_url(console: str, next_url: str, *, expired: bool = False) -> str:
    return f"{console}/signin?next={quote(next_url)}" + ("&expired=1" if expired else "")


def age_sessions(system: System, **values: datetime) -> None:
    """Move every console session's clock, as if time had passed (idle, or the token run out)."""
    engine = create_engine(system.database_url("console"))
    try:
        with engine.begin() as db:
            db.execute(update(sessions).values(**values))
    finally:
        engine.dispose()


def case_of(system: System, report_id: str) -> dict:
    return httpx.get(f"{system.url('verification')}/reports/{report_id}",
                     headers=system.headers("officer", roles=["verifier"])).json()


def test_an_officer_signs_in_at_the_provider_lands_on_the_page_he_asked_for_and_signs_out(production, browser):
    production.start("intake", "verification", "console")
    console = production.url("console")
    file_report(production, "refinery", "脱硫塔二层平台护栏松动")
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{console}/console/queue")
    expect(page).to_have_url(signin_url(console, "/console/queue"))
    expect(page.locator("form[action='/signin/dev']")).to_have_count(0)
    page.get_by_role("link", name=PROVIDER_BUTTON).click()
    at_provider(page, "safety-officer-li")
    expect(page).to_have_url(f"{console}/console/queue")
    expect(page.locator(".who")).to_contain_text("李安全")
    wait_for(lambda: page.reload() or "脱硫塔二层平台护栏松动" in page.content(), timeout=20)
    session = next(c for c in page.context.cookies() if c["name"] == "hl_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and not session["secure"]  # http here: not Secure
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider ends its session too
    expect(page).to_have_url(signin_url(console, "/console"))
    page.goto(f"{console}/console/queue")
    expect(page).to_have_url(signin_url(console, "/console/queue"))
    page.get_by_role("link", name=PROVIDER_BUTTON).click()  # the next person at this terminal must type a password
    expect(page.locator("input[name=password]")).to_be_visible()


def test_a_wrong_password_leaves_the_person_signed_out_and_a_refusal_reads_in_their_language(production, oidc_provider, browser):
    production.start("console")
    console = production.url("console")
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{console}/console")
    with page.expect_request(lambda request: request.url.startswith(f"{oidc_provider.issuer}/auth?")) as started:
        page.get_by_role("link", name=PROVIDER_BUTTON).click()
    state = parse_qs(urlsplit(started.value.url).query)["state"][0]
    at_provider(page, "safety-officer-li", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong login or password")
    page.goto(f"{console}/console")
    expect(page).to_have_url(signin_url(console, "/console"))
    # The person gives up at the provider, which sends them back refused.
    page.goto(f"{console}/signin/callback?error=access_denied&state={state}")
    expect(page.get_by_role("alert")).to_have_text("集团身份提供方未能确认您的登录。")
    page.get_by_role("link", name="重新登录").click()
    expect(page.locator("input[name=password]")).to_be_visible()  # the provider's page again
    page.goto(f"{console}/signin/callback?code=stolen&state={state}&lang=en")  # no attempt of this browser's
    expect(page.get_by_role("alert")).to_have_text("That sign-in had expired or was not started here; please sign in again.")
    page.goto(f"{console}/console")
    expect(page).to_have_url(signin_url(console, "/console"))


def test_dev_signin_is_not_offered_unless_configured(production):
    production.start("console")
    with httpx.Client(base_url=production.url("console"), timeout=10) as browser_like:
        page = browser_like.get("/signin")
        assert page.status_code == 200 and "/signin/dev" not in page.text and PROVIDER_BUTTON in page.text
        csrf = browser_like.cookies["hl_signin"]
        refused = browser_like.post("/signin/dev", data={"subject": "hq-liu", "csrf": csrf, "next": "/console"})
        assert refused.status_code == 403 and "hl_session" not in browser_like.cookies
        assert browser_like.get("/console").status_code == 303


def test_an_idle_or_run_out_session_signs_in_again_and_comes_back_to_the_page(production, browser):
    production.start("intake", "verification", "console")
    console = production.url("console")
    report_id = file_report(production, "refinery", "酸性水罐区呼吸阀结冰")
    case = f"/console/cases/{report_id}"
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{console}{case}")
    page.get_by_role("link", name=PROVIDER_BUTTON).click()
    at_provider(page, "safety-officer-li")
    page.wait_for_url(f"{console}{case}", timeout=30_000)  # back from the provider: reloading earlier detaches the page
    wait_for(lambda: page.reload().status == 200, timeout=20)  # the console has the report
    expect(page).to_have_url(f"{console}{case}")

    age_sessions(production, last_seen=datetime.now(UTC) - timedelta(hours=2))  # idle past the limit
    page.reload()
    expect(page).to_have_url(signin_url(console, case, expired=True))
    expect(page.get_by_role("status")).to_have_text("登录已过期，请重新登录。")
    page.get_by_role("link", name=PROVIDER_BUTTON).click()  # still signed in at the provider: straight back
    expect(page).to_have_url(f"{console}{case}")

    age_sessions(production, expires_at=datetime.now(UTC) - timedelta(seconds=1))  # the token ran out
    page.locator("form[action$='/accept'] button").click()  # a form posted after the end
    expect(page).to_have_url(signin_url(console, case, expired=True))
    page.get_by_role("link", name=PROVIDER_BUTTON).click()
    expect(page).to_have_url(f"{console}{case}")
    page.locator("form[action$='/accept'] button").click()  # taken now: the late form had not been sent on
    expect(page.get_by_role("status")).to_contain_text("已保存")


def dev_session(console: str, subject: str) -> httpx.Client:
    """A browser-like client signed in as a demo person through the dev sign-in page."""
    client = httpx.Client(base_url=console, timeout=10)
    client.get("/signin")
    answer = client.post("/signin/dev", data={"subject": subject, "csrf": client.cookies["hl_signin"], "next": "/console"})
    assert answer.status_code == 303 and "hl_session" in client.cookies, answer.text
    return client


def csrf_of(client: httpx.Client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def test_a_command_without_its_sessions_token_is_refused_and_not_recorded(system):
    system.start("intake", "verification", "console")
    console = system.url("console")
    report_id = file_report(system, "refinery", "Flare knock-out drum level gauge stuck")
    accept = f"/console/cases/{report_id}/accept"
    li, wang = dev_session(console, "safety-officer-li"), dev_session(console, "safety-manager-wang")
    try:
        wait_for(lambda: li.get(f"/console/cases/{report_id}").status_code == 200)
        wait_for(lambda: case_of(system, report_id).get("stage") == "filed")
        forged = [li.post(accept, data={}), li.post(accept, data={"csrf": csrf_of(wang, "/console")}),
                  li.post(accept, data={"csrf": ""})]
        assert [answer.status_code for answer in forged] == [403, 403, 403]
        assert all("无权访问" in answer.text for answer in forged)
        assert case_of(system, report_id)["stage"] == "filed"
        sent = li.post(accept, data={"csrf": csrf_of(li, "/console")})
        assert sent.status_code == 303 and sent.headers["location"].endswith("?done=1")  # accepted once: the first
        assert wait_for(lambda: case_of(system, report_id)["accepted_at"])
    finally:
        li.close()
        wang.close()


# --- Who sees which page ----------------------------------------------------------------

PEOPLE = [person.subject for person in DEMO_PEOPLE]
HOLDING = {role: [p.subject for p in DEMO_PEOPLE if role in p.roles] for role in Role}


def holding(*roles: Role) -> list[str]:
    """The demo people holding any of ``roles``."""
    return [who for who in PEOPLE if any(who in HOLDING[role] for role in roles)]


REACH = {p.subject: p.tenants for p in DEMO_PEOPLE}


def within(tenant: str, people: list[str]) -> list[str]:
    """Those of ``people`` who act in ``tenant`` (group headquarters acts in every one)."""
    return [who for who in people if "*" in REACH[who] or tenant in REACH[who]]


TRIAGE = holding(Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR)
PHOTOS = holding(Role.VERIFIER, Role.MANAGER, Role.AUDITOR)  # intake shows photos to safety staff, not to a company's leaders
MONTH = f"{datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"
TODAY = f"{datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m-%d}"
PAGES = [  # (page, the people it shows to: any other signed-in person gets 403, anybody signed out signs in)
    ("/console", PEOPLE),
    ("/console/queue", TRIAGE),  # an owner works from his tasks; finance from the rewards to pay
    ("/console/queue/rows", TRIAGE),
    ("/console/cases/{refinery}", within("refinery", TRIAGE)),
    ("/console/cases/{refinery}/dossier", within("refinery", TRIAGE)),
    ("/console/cases/{refinery}/photos/{photo}?thumbnail=true", within("refinery", PHOTOS)),
    ("/console/cases/{chens}", [*within("refinery", TRIAGE), "maint-chen"]),  # the owner opens the cases given to him, no other
    ("/console/cases/{chens}/dossier", [*within("refinery", TRIAGE), "maint-chen"]),
    ("/console/cases/{mine}", within("mine", TRIAGE)),  # a refinery person never reaches another subsidiary
    ("/console/cases/{mine}/dossier", within("mine", TRIAGE)),
    ("/console/cases/{mine}/photos/{mine_photo}", within("mine", PHOTOS)),
    ("/console/tasks", holding(Role.RECTIFIER)),
    ("/console/decisions", holding(Role.MANAGER, Role.LEADER)),
    ("/console/places", holding(Role.MANAGER, Role.OPERATOR, Role.VERIFIER)),
    ("/console/places/refinery/bay-3/qr.svg", within("refinery", holding(Role.MANAGER, Role.OPERATOR, Role.VERIFIER))),
    ("/console/places?tenant=mine", within("mine", holding(Role.MANAGER, Role.OPERATOR, Role.VERIFIER))),  # a refinery keeper prints no other subsidiary's codes
    ("/console/places/mine/bay-3/qr.png", within("mine", holding(Role.MANAGER, Role.OPERATOR, Role.VERIFIER))),
    ("/console/rewards/approvals", holding(Role.MANAGER)),
    ("/console/rewards/referrals", holding(Role.MANAGER, Role.LEADER)),
    ("/console/rewards/payments", holding(Role.FINANCE)),
    (f"/console/rewards/payroll.csv?tenant=refinery&month={MONTH}", holding(Role.FINANCE)),
    (f"/console/rewards/payroll.xlsx?tenant=refinery&month={MONTH}", holding(Role.FINANCE)),
    (f"/console/rewards/payroll.csv?tenant=mine&month={MONTH}", []),
    ("/console/rewards/budgets", holding(Role.LEADER, Role.FINANCE)),
    ("/console/rewards/policy", holding(Role.MANAGER, Role.LEADER, Role.FINANCE, Role.AUDITOR)),
    ("/console/dashboard", holding(Role.LEADER, Role.AUDITOR)),
    ("/console/audit", holding(Role.AUDITOR)),
    (f"/console/audit/ledger?tenant=refinery&since={TODAY}&until={TODAY}&ledger_lang=zh-CN&format=csv", holding(Role.AUDITOR)),
    ("/console/checks", holding(Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR)),
    ("/console/check-tasks", holding(Role.VERIFIER, Role.MANAGER)),
    ("/console/cases/{chens}/check", within("refinery", holding(Role.VERIFIER, Role.MANAGER))),
]
MATRIX = [(path, who, 200 if who in shown else 403) for path, shown in PAGES for who in PEOPLE]
MATRIX += [(path, None, 303) for path, _ in PAGES]


def stored_photo(system: System, tenant: str) -> str:
    stored = httpx.post(f"{system.url('intake')}/attachments", params={"tenant": tenant}, content=jpeg(),
                        headers=system.headers("emp-1", tenants=[tenant]))
    assert stored.status_code == 201, stored.text
    return stored.json()["digest"]


def assigned_to_chen(system: System, report_id: str) -> None:
    officer = system.headers("safety-officer-li", roles=[Role.VERIFIER])
    cases = f"{system.url('verification')}/reports/{report_id}"
    wait_for(lambda: httpx.get(cases, headers=officer).status_code == 200)
    for step, body in (("verification", {"outcome": "confirmed_hazard", "grade": "general"}), ("assignment", {"owner": "maint-chen"})):
        answer = httpx.post(f"{cases}/{step}", json=body, headers=officer)
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="module")
def demo(nats_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One system for the whole matrix: a refinery and a mine report with a photo, a case
    given to maint-chen, every demo person signed in."""
    token = uuid.uuid4().hex[:10]
    system = System(nats_url, tmp_path_factory.mktemp("matrix"), f"HL_{token}", f"hl{token}")
    try:
        system.start("intake", "verification", "rewards", "console")
        photos = {tenant: stored_photo(system, tenant) for tenant in ("refinery", "mine")}
        reports = {tenant: file_report(system, tenant, f"{tenant} report", (photos[tenant],)) for tenant in ("refinery", "mine")}
        reports |= {"chens": file_report(system, "refinery", "refinery report for chen"), "photo": photos["refinery"],
                    "mine_photo": photos["mine"]}
        assigned_to_chen(system, reports["chens"])
        console = system.url("console")
        people = {who: dev_session(console, who) for who in PEOPLE}
        people[None] = httpx.Client(base_url=console, timeout=10)
        for tenant in ("refinery", "mine"):
            wait_for(lambda tenant=tenant: people["hq-liu"].get(f"/console/cases/{reports[tenant]}").status_code == 200)
        wait_for(lambda: people["maint-chen"].get(f"/console/cases/{reports['chens']}").status_code == 200)
        yield reports, people
        for client in people.values():
            client.close()
    finally:
        system.stop()


@pytest.mark.parametrize(("path", "who", "status"), MATRIX)
def test_each_person_sees_the_pages_of_their_roles_and_subsidiaries(demo, path, who, status):
    reports, people = demo
    address = path.format(**reports)
    answer = people[who].get(address)
    assert answer.status_code == status, f"{who} at {path}: {answer.status_code}"
    if status == 303:
        assert answer.headers["location"] == f"/signin?next={quote(address)}"
    if status == 200:
        assert "mine report" not in answer.text or who in within("mine", PEOPLE)  # a refinery person never sees a mine case


@pytest.mark.parametrize("who", ["finance-zhao", "maint-chen"])
def test_a_case_form_sent_by_someone_who_may_not_open_the_case_shows_nothing_of_it(demo, who):
    reports, people = demo
    client = people[who]
    for step in ("reward-preview", "accept"):
        answer = client.post(f"/console/cases/{reports['refinery']}/{step}",
                             data={"csrf": csrf_of(client, "/console"), "outcome": "confirmed_hazard", "grade": "general"})
        assert answer.status_code == 403 and "refinery report" not in answer.text, f"{who} {step}"
