"""The console's sign-in cookies and redirects, on the app itself (no broker needed to sign in)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hazardloop.log.natsserver import free_port
from hazardloop_console.api.signin import safe_next
from hazardloop_console.app import build


@pytest.fixture
def console(tmp_path, monkeypatch):
    def start(public_url: str, **env: str) -> TestClient:
        monkeypatch.setenv("HAZARDLOOP_STATE_DIR", str(tmp_path))
        monkeypatch.setenv("HAZARDLOOP_CONSOLE_PUBLIC_URL", public_url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return TestClient(build(), base_url=public_url)

    return start


@pytest.mark.parametrize(("public_url", "secure"), [("https://console.example", True), ("http://127.0.0.1:8100", False)])
def test_session_cookies_are_httponly_lax_and_secure_behind_https(console, public_url, secure):
    browser = console(public_url, HAZARDLOOP_DEV_SIGNIN="true")
    browser.get("/signin")
    answer = browser.post("/signin/dev", data={"subject": "hq-liu", "csrf": browser.cookies["hl_signin"]},
                          follow_redirects=False)
    assert answer.status_code == 303
    [session] = [c for c in answer.headers.get_list("set-cookie") if c.startswith("hl_session=")]
    flags = {flag.strip().lower() for flag in session.split(";")[1:]}
    assert {"httponly", "samesite=lax"} <= flags and ("secure" in flags) == secure


def test_the_dev_signin_form_needs_its_double_submitted_token(console):
    browser = console("http://127.0.0.1:8100", HAZARDLOOP_DEV_SIGNIN="true")
    browser.get("/signin")
    answer = browser.post("/signin/dev", data={"subject": "hq-liu", "csrf": "guessed"}, follow_redirects=False)
    assert answer.status_code == 403 and "hl_session" not in browser.cookies


def test_without_a_provider_there_is_no_provider_signin(console):
    browser = console("http://127.0.0.1:8100")
    assert browser.get("/signin/oidc").status_code == 404
    assert browser.get("/signin/callback?code=x&state=y").status_code == 404


def test_a_provider_out_of_reach_is_a_page_to_try_again_not_an_error(console):
    browser = console(
        "http://127.0.0.1:8100", HAZARDLOOP_OIDC_ISSUER=f"http://127.0.0.1:{free_port()}", HAZARDLOOP_OIDC_CLIENT_ID="console",
        HAZARDLOOP_OIDC_TIMEOUT="1",
    )
    answer = browser.get("/signin/oidc?next=/console/queue&lang=en")
    assert answer.status_code == 503
    assert "cannot be reached right now" in answer.text and 'href="/signin/oidc?next=/console/queue"' in answer.text


@pytest.mark.parametrize(
    ("asked", "kept"),
    [("/console/queue?state=open", "/console/queue?state=open"), ("//evil.example/x", "/console"),
     ("https://evil.example/", "/console"), ("/\\evil.example", "/console"), (None, "/console"), ("console", "/console")],
)
def test_only_console_paths_are_followed_after_signin(asked, kept):
    assert safe_next(asked) == kept
