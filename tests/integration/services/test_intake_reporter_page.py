"""The anonymous reporter's page over real HTTP on a real broker: the code kept out of URLs,
the guard against guessing, and messages that cannot be kept refused in the reporter's language."""

from __future__ import annotations

import re

import pytest

from hazardloop.log.natsserver import NatsServer, free_port
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.integration.services.conftest import Harness
from tests.waiting import wait_for

NOBODY = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"
NOBODY_EITHER = ("AAAAA-BBBBB-CCCCC-DDDDD-EEEE2", "AAAAA-BBBBB-CCCCC-DDDDD-EEEE3")


@pytest.fixture
def intake(harness):
    nobody_there = f"http://127.0.0.1:{free_port()}"  # rewards is not running
    return harness.start("intake", wrong_codes_per_address=3, wrong_codes_overall=50, rewards_url=nobody_there)


@pytest.fixture
def code(harness, intake) -> str:
    filed = intake.post("/reports", json=report_body(anonymous=True), headers=harness.headers("emp-1")).json()
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    wait_for(lambda: intake.get(f"/reports/{filed['report_id']}", headers=officer).status_code == 200)  # not by code: that counts misses
    return filed["receipt_code"]


def csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def look_up(intake, code: str, lang: str = "zh"):
    form = intake.get(f"/f/status?lang={lang}")
    return intake.post("/f/status", data={"code": code, "lang": lang, "csrf": csrf(form)}, follow_redirects=False)


def test_the_code_opens_the_page_without_ever_being_in_a_url_or_the_store(harness, intake, code):
    answer = look_up(intake, code)
    assert answer.status_code == 303 and answer.headers["location"] == "/f/receipt?lang=zh"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and code not in cookie
    page = intake.get("/f/receipt?lang=zh")
    assert page.status_code == 200 and "已提交" in page.text and code not in page.text
    stored = (harness.tmp_path / "intake.db").read_bytes()
    assert code.encode() not in stored and code.replace("-", "").encode() not in stored


def test_a_wrong_and_an_unknown_code_are_answered_alike_and_guessing_is_stopped(intake, code):
    near_miss = code[:-1] + ("A" if code[-1] != "A" else "B")
    wrong, unknown = look_up(intake, near_miss), look_up(intake, NOBODY)
    assert wrong.status_code == unknown.status_code == 404
    strip = lambda html: re.sub(r'name="csrf" value="[^"]+"', "", html)  # noqa: E731
    assert strip(wrong.text) == strip(unknown.text)
    assert look_up(intake, NOBODY).status_code == 404  # the same wrong code again counts once
    look_up(intake, NOBODY_EITHER[0])  # the third distinct wrong code from this address
    refused = look_up(intake, code)  # even the right one, until the window passes
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "分钟后再试" in refused.text
    assert look_up(intake, code, lang="en").status_code == 429
    assert "try again in" in look_up(intake, code, lang="en").text


@pytest.mark.parametrize("token", ["forged", "伪造"])
def test_a_lookup_without_its_form_token_is_refused(intake, code, token):
    intake.get("/f/status?lang=en")  # the form's own token is in the cookie, not sent
    answer = intake.post("/f/status", data={"code": code, "lang": "en", "csrf": token}, follow_redirects=False)
    assert answer.status_code == 403


def test_a_message_over_the_limit_is_refused_in_the_reporters_language_and_nothing_is_stored(harness, intake, code):
    look_up(intake, code, lang="en")
    page = intake.get("/f/receipt?lang=en")
    answer = intake.post(
        "/f/receipt/messages", data={"text": "x" * 2001, "lang": "en", "csrf": csrf(page)}, follow_redirects=False
    )
    assert answer.status_code == 422 and "at most 2000 characters; yours has 2001" in answer.text
    assert "x" * 2001 in answer.text  # kept in the form to shorten
    assert harness.raw_log("thread") == []
    sent = intake.post("/f/receipt/messages", data={"text": "Still broken", "lang": "en", "csrf": csrf(page)}, follow_redirects=False)
    assert sent.status_code == 303
    assert wait_for(lambda: "Still broken" in intake.get("/f/receipt?lang=en").text)


def test_a_post_without_the_sessions_token_writes_nothing(harness, intake, code):
    look_up(intake, code)
    answer = intake.post("/f/receipt/messages", data={"text": "Hi", "lang": "zh", "csrf": "forged"}, follow_redirects=False)
    assert answer.status_code == 303 and "expired=1" in answer.headers["location"]
    assert harness.raw_log("thread") == []


def test_without_a_session_the_page_asks_for_the_code(intake):
    answer = intake.get("/f/receipt?lang=en", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/f/status?lang=en")


def test_the_apis_taking_a_receipt_code_are_limited_alike(intake, code):
    for wrong in (NOBODY, *NOBODY_EITHER):
        assert intake.get("/receipt", headers={"Receipt-Code": wrong}).status_code == 404
    for refused in (
        intake.get("/receipt", headers={"Receipt-Code": code}),
        intake.get("/reports/any-report/thread", headers={"Receipt-Code": code}),
    ):
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_line_breaks_count_as_one_character_as_the_reporter_sees_them(intake, code):
    look_up(intake, code, lang="en")
    page = intake.get("/f/receipt?lang=en")
    text = "ab\r\n" * 600  # 2400 characters as a browser sends them, 1800 as typed
    sent = intake.post("/f/receipt/messages", data={"text": text, "lang": "en", "csrf": csrf(page)}, follow_redirects=False)
    assert sent.status_code == 303


def test_with_the_log_down_a_message_is_not_lost_and_sent_again_is_written_once(tmp_path):
    server = NatsServer(tmp_path / "nats").start()
    restarted = NatsServer(tmp_path / "nats", port=server.port)
    harness = Harness(server.url, tmp_path, "OUTAGE", "outage")
    try:
        intake = harness.start("intake")
        filed = intake.post("/reports", json=report_body(anonymous=True), headers=harness.headers("emp-1")).json()
        officer = harness.headers("officer-li", roles=[Role.VERIFIER])
        wait_for(lambda: intake.get(f"/reports/{filed['report_id']}", headers=officer).status_code == 200)
        look_up(intake, filed["receipt_code"], lang="en")
        page = intake.get("/f/receipt?lang=en")
        server.kill()
        form = {"text": "Still broken", "lang": "en", "csrf": csrf(page), "idempotency_key": "page-message-0001"}
        down = intake.post("/f/receipt/messages", data=form, follow_redirects=False)
        assert down.status_code == 503 and down.headers["Retry-After"] == "2"
        assert "could not confirm yet" in down.text and "Still broken" in down.text and 'value="page-message-0001"' in down.text
        restarted.start()
        assert harness.raw_log("thread") == []
        wait_for(lambda: intake.post("/f/receipt/messages", data=form, follow_redirects=False).status_code == 303)
        intake.post("/f/receipt/messages", data=form, follow_redirects=False)
        assert len(harness.raw_log("thread")) == 1
    finally:
        harness.close()
        restarted.stop()


def test_with_rewards_unreachable_a_claim_says_so_in_the_reporters_language(intake, code):
    look_up(intake, code, lang="zh")
    page = intake.get("/f/receipt?lang=zh")
    answer = intake.post("/f/receipt/claim", data={"lang": "zh", "csrf": csrf(page)}, follow_redirects=False)
    assert answer.status_code == 503 and answer.headers["Retry-After"] and "系统暂时无法办理" in answer.text
