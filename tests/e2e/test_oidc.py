"""People signed in at the group's identity provider call the services with its tokens.

A real OpenID provider (tests/oidc) issues them; the services run as processes and fetch
its keys themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.oidc import AUDIENCE, OidcProvider, signing_key
from tests.waiting import wait_for


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict, claims: dict, sign=lambda _: b"") -> str:
    """A token no library would make: unsigned, or signed as its header says but with the wrong key."""
    head = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{head}.{b64(sign(head.encode()))}"


def claims_of_li(provider: OidcProvider, **overrides) -> dict:
    now = int(time.time())
    return {"sub": "safety-officer-li", "tenants": ["refinery"], "roles": ["verifier"], "iss": provider.issuer,
            "aud": AUDIENCE, "iat": now, "exp": now + 600, **overrides}


def test_an_officer_signed_in_at_the_provider_reads_his_subsidiarys_queue_and_no_other(oidc_system, oidc_provider):
    oidc_system.start("intake", "verification")
    li = bearer(oidc_provider.login("safety-officer-li"))
    queue = f"{oidc_system.url('verification')}/queue"
    with httpx.Client(timeout=10) as http:
        filed = http.post(f"{oidc_system.url('intake')}/reports", json=report_body(), headers=oidc_system.headers("emp-77"))
        assert filed.status_code == 201
        report_id = filed.json()["report_id"]
        seen = wait_for(lambda: (r := http.get(queue, params={"tenant": "refinery"}, headers=li)).status_code == 200 and r.json())
        assert [case["report_id"] for case in seen] == [report_id]
        mine = http.get(queue, params={"tenant": "mine"}, headers=li)
        assert mine.status_code == 403 and "mine" in mine.json()["detail"]
        verification = f"{oidc_system.url('verification')}/reports/{report_id}/verification"
        chen = http.post(verification, json={"outcome": "confirmed_hazard", "grade": "larger"},
                         headers=bearer(oidc_provider.login("maint-chen")))
        assert chen.status_code == 403 and "verifier" in chen.json()["detail"]  # a rectifier may not verify
        hq = http.get(queue, params={"tenant": "mine"}, headers=bearer(oidc_provider.login("hq-liu")))
        assert hq.status_code == 200
        dev = oidc_system.headers("safety-wu", roles=[Role.VERIFIER])
        assert [c["report_id"] for c in http.get(queue, params={"tenant": "refinery"}, headers=dev).json()] == [report_id]


def test_tokens_the_provider_did_not_issue_are_refused(oidc_system, oidc_provider):
    oidc_system.start("verification")
    public_pem = RSAAlgorithm.from_jwk(json.dumps(oidc_provider.signing)).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = oidc_provider.signing["kid"]
    forged = {  # each refused for its own flaw, named in the refusal
        "Invalid issuer": oidc_provider.forge(claims_of_li(oidc_provider, iss="https://id.elsewhere.example")),
        "Audience doesn't match": oidc_provider.forge(claims_of_li(oidc_provider, aud="payroll-api")),
        "Signature has expired": oidc_provider.forge(claims_of_li(oidc_provider, exp=int(time.time()) - 60)),
        "'none' is not accepted": hand_made({"alg": "none", "typ": "JWT", "kid": kid}, claims_of_li(oidc_provider)),
        "provider does not publish": oidc_provider.forge(claims_of_li(oidc_provider), key=signing_key("stranger")),
        "Signature verification failed": hand_made(  # HS256, keyed with the provider's public key
            {"alg": "HS256", "typ": "JWT", "kid": kid}, claims_of_li(oidc_provider),
            sign=lambda head: hmac.new(public_pem, head, hashlib.sha256).digest(),
        ),
        "unknown subsidiaries: atlantis": oidc_provider.forge(claims_of_li(oidc_provider, tenants=["refinery", "atlantis"])),
    }
    queue = f"{oidc_system.url('verification')}/queue"
    with httpx.Client(timeout=10) as http:
        assert http.get(queue, params={"tenant": "refinery"}, headers=bearer(oidc_provider.forge(claims_of_li(oidc_provider)))).status_code == 200
        answers = {flaw: http.get(queue, params={"tenant": "refinery"}, headers=bearer(token)) for flaw, token in forged.items()}
    assert {flaw: r.status_code for flaw, r in answers.items()} == dict.fromkeys(forged, 401)
    assert all(flaw in r.json()["detail"] for flaw, r in answers.items())
    assert all(r.headers["WWW-Authenticate"] == "Bearer" for r in answers.values())


def test_a_rotated_key_is_accepted_at_once_and_a_provider_down_is_a_retry_later(oidc_system, oidc_provider):
    oidc_system.start("verification")
    queue = f"{oidc_system.url('verification')}/queue"
    with httpx.Client(timeout=10) as http:
        before = bearer(oidc_provider.login("safety-officer-li"))
        assert http.get(queue, params={"tenant": "refinery"}, headers=before).status_code == 200
        oidc_provider.rotate()
        after = oidc_provider.login("safety-officer-li")
        assert json.loads(base64.urlsafe_b64decode(after.split(".")[0] + "==")).get("kid") == oidc_provider.signing["kid"]
        assert http.get(queue, params={"tenant": "refinery"}, headers=bearer(after)).status_code == 200
        assert http.get(queue, params={"tenant": "refinery"}, headers=before).status_code == 200
        unknown = bearer(oidc_provider.forge(claims_of_li(oidc_provider), key=signing_key("next-year")))
        oidc_provider.stop()
        try:
            down = http.get(queue, params={"tenant": "refinery"}, headers=unknown)
            assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 1
            assert "identity provider" in down.json()["detail"]
            assert http.get(queue, params={"tenant": "refinery"}, headers=bearer(after)).status_code == 200  # key in hand
        finally:
            oidc_provider.start()
