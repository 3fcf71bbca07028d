"""A forged form token is refused as wrong, whatever characters it holds: never a server error."""

from __future__ import annotations

import re

import pytest

from hazardloop.web.http import same_token

FORGED = ["", "x" * 32, "令牌", "tökén", "\u202e"]


@pytest.mark.parametrize("sent", [*FORGED, None, 7, b"bytes"])
def test_only_the_expected_token_matches(sent):
    assert not same_token(sent, "expected-token")
    assert same_token("expected-token", "expected-token")
    assert not same_token("expected-token", None) and not same_token("", "")


@pytest.mark.parametrize("forged", FORGED)
def test_signing_in_and_out_on_the_form_with_a_forged_token_is_refused_not_an_error(harness, forged):
    intake = harness.start("intake", dev_signin=True)
    page = intake.get("/f/signin/dev?lang=en")
    assert 400 <= intake.post("/f/signin/dev", data={"subject": "emp-10482", "csrf": forged}).status_code < 500
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    assert intake.post("/f/signin/dev", data={"subject": "emp-10482", "csrf": csrf, "next": "/f/mine"}, follow_redirects=False).status_code == 303
    refused = intake.post("/f/signout", data={"csrf": forged, "next": "/f/mine"}, follow_redirects=False)
    assert refused.status_code == 303  # back where they were, signed in as before
    assert "王工人" in intake.get("/f/mine?lang=zh").text  # still signed in
