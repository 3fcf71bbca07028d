"""Who may open the dashboard and the auditor's page, and how a wrong filter or ledger
request is answered: over the console's real ASGI app and store (no broker needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from hazardloop.log.natsserver import free_port
from hazardloop.timing.asof import end_of_last
from hazardloop.web.auth import Role
from hazardloop_console.app import build
from hazardloop_console.settings import ConsoleSettings


@pytest.fixture
def console(tmp_path):
    settings = ConsoleSettings(state_dir=tmp_path, tenants=["refinery", "mine"], database_url=f"sqlite:///{tmp_path / 'c.db'}",
                               nats_url=f"nats://127.0.0.1:{free_port()}", nats_timeout=0.5)  # no broker listens there
    settings.secret("jwt"), settings.secret("pseudonym")
    app = build(settings)
    app.state.runtime.make_runner(None).create_schema()

    async def client(subject: str, tenants: list[str], roles: list[Role]) -> httpx.AsyncClient:
        session = app.state.sessions.open(subject=subject, name=subject, tenants=tenants, roles=roles, token="-",
                                          expires_at=datetime.now(UTC) + timedelta(hours=1))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies={"hl_session": session})

    yield client
    app.state.runtime.engine.dispose()


async def test_only_leaders_and_auditors_see_the_dashboard_and_only_auditors_the_audit(console):
    officer = await console("safety-officer-li", ["refinery"], [Role.VERIFIER])
    leader = await console("deputy-director-sun", ["refinery"], [Role.LEADER])
    assert (await officer.get("/console/dashboard")).status_code == 403
    assert (await officer.get("/console/audit")).status_code == 403
    assert (await leader.get("/console/audit")).status_code == 403
    page = await leader.get("/console/dashboard")
    assert page.status_code == 200 and "集团看板" in page.text and "人均" in page.text
    assert 'href="/console/audit"' not in page.text and 'href="/console/dashboard"' in page.text


async def test_a_subsidiary_not_theirs_or_a_wrong_date_is_marked_not_shown(console):
    leader = await console("deputy-director-sun", ["refinery"], [Role.LEADER])
    page = await leader.get("/console/dashboard", params={"tenant": "mine", "since": "2026-13-01", "lang": "en"})
    assert page.status_code == 422
    assert 'id="since-error">Enter a date' in page.text


async def test_a_ledger_asked_wrongly_names_each_field(console):
    auditor = await console("auditor-qian", ["refinery"], [Role.AUDITOR])
    page = await auditor.get("/console/audit/ledger", params={"tenant": "mine", "since": "2026-06-01", "until": "2026-01-01",
                                                               "format": "pdf", "ledger_lang": "fr", "lang": "en"})
    assert page.status_code == 422
    for name, message in (("tenant", "Not valid"), ("since", "The start is after the end"), ("ledger_lang", "Not valid")):
        assert f'id="{name}-error">{message}' in page.text


async def test_a_ledger_while_the_log_cannot_be_read_is_a_503_to_retry(console):
    auditor = await console("auditor-qian", ["refinery"], [Role.AUDITOR])
    page = await auditor.get("/console/audit/ledger", params={"tenant": "refinery", "since": "2026-01-01", "until": "2026-06-01",
                                                               "format": "csv", "ledger_lang": "zh-CN"})
    assert page.status_code == 503 and page.headers["Retry-After"] and "text/html" in page.headers["content-type"]


async def test_the_dashboard_as_of_a_moment_while_the_log_cannot_be_read_is_a_503_to_retry(console):
    auditor = await console("auditor-qian", ["refinery"], [Role.AUDITOR])
    page = await auditor.get("/console/dashboard", params={"as_of": "2026-06-30", "lang": "en"})
    assert page.status_code == 503 and page.headers["Retry-After"] and "The log cannot be reached" in page.text


async def test_the_auditors_page_offers_the_dashboard_as_of_the_usual_period_ends(console):
    auditor = await console("auditor-qian", ["refinery"], [Role.AUDITOR])
    page = await auditor.get("/console/audit", params={"lang": "en"})
    now = datetime.now(UTC)
    quarter = end_of_last("quarter", now, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M:%S")
    assert page.status_code == 200 and "The dashboard as of a moment" in page.text
    assert f'href="/console/dashboard?as_of={quote(quarter)}">End of last quarter</a>' in page.text
