"""A signed-in reporter's page tells them each time a member of staff opened their identity, and why."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.waiting import wait_for

DEMO_REPORTER = "emp-10482"
"""王工人, whom the demo sign-in offers."""


def looked_section(page: str) -> str:
    """The page from the section on who looked at the reporter's identity (the page's last)."""
    return page.split('id="identity-looked"', 1)[1]


def test_the_reporter_sees_who_opened_their_identity_when_and_why_in_their_language(harness):
    intake = harness.start("intake", dev_signin=True)
    filed = intake.post("/reports", json=report_body(), headers=harness.headers(DEMO_REPORTER))
    assert filed.status_code == 201, filed.text
    signin = intake.get("/f/signin/dev?lang=en")
    csrf = re.search(r'name="csrf" value="([^"]+)"', signin.text).group(1)
    intake.post("/f/signin/dev", data={"subject": DEMO_REPORTER, "csrf": csrf, "next": "/f/mine?lang=en", "lang": "en"})
    assert "Nobody has opened your identity" in looked_section(intake.get("/f/mine?lang=en").text)

    officer = harness.headers("co-chen", roles=[Role.CONFIDENTIALITY_OFFICER])
    opened = intake.post(
        f"/reports/{filed.json()['report_id']}/identity", json={"tenant": "refinery", "purpose": "核实报告人反映的打击报复"},
        headers=officer,
    )
    assert opened.status_code == 200, opened.text
    shown = wait_for(lambda: "co-chen" in (s := looked_section(intake.get("/f/mine?lang=en").text)) and s)
    assert "Confidentiality officer" in shown and "核实报告人反映的打击报复" in shown
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    assert re.search(rf'<span class="when">{today} \d\d:\d\d</span>', shown)  # the group's local time
    assert f"/f/reports/{filed.json()['report_id']}?lang=en" in shown
    assert "保密专员" in looked_section(intake.get("/f/mine?lang=zh-CN").text)

    intake.cookies.clear()
    intake.cookies.set("hl_reporter", "not-a-session")
    assert "co-chen" not in intake.get("/f/mine?lang=en").text
