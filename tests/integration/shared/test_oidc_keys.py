"""The identity provider's keys over real HTTP: fetched once, fetched again for a rotation,
never more than once per cooldown however many bad tokens arrive, and a provider that is
down is told apart from a bad token."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from hazardloop.web.auth import KeysUnavailable, Role
from hazardloop.web.oidc import ProviderKeys, ProviderTokens, UnknownKey
from tests.oidc import OidcProvider, signing_key


def public(jwk: dict) -> dict:
    return {k: jwk[k] for k in ("kty", "n", "e", "kid", "use", "alg")}


class JwksServer(ThreadingHTTPServer):
    """A provider's key endpoint that counts how often it is asked."""

    def __init__(self, keys: list[dict]) -> None:
        super().__init__(("127.0.0.1", 0), JwksHandler)
        self.keys, self.hits = keys, 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/jwks"


class JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self.server.hits += 1
        body = json.dumps({"keys": [public(k) for k in self.server.keys]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer([signing_key("key-1")])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_provider_token_verifies_into_the_person_it_names(oidc_provider: OidcProvider):
    tokens = ProviderTokens(
        ProviderKeys(oidc_provider.issuer), issuer=oidc_provider.issuer, audience="hazardloop-api",
        subsidiaries=["refinery", "mine", "steelmill"],
    )
    chen = await tokens.verify(oidc_provider.login("maint-chen"))
    assert (chen.subject, chen.name, chen.roles) == ("maint-chen", "陈维修", {Role.RECTIFIER})
    assert chen.may_access("refinery") and not chen.may_access("mine")
    hq = await tokens.verify(oidc_provider.login("hq-liu"))
    assert hq.may_access("steelmill") and hq.roles == {Role.AUDITOR, Role.MANAGER}


async def test_a_flood_of_unknown_keys_asks_the_provider_once_per_cooldown(jwks: JwksServer):
    clock = Clock()
    keys = ProviderKeys("http://unused.invalid", jwks_url=jwks.url, cooldown=30, clock=clock)
    assert (await keys.key("key-1")).key_id == "key-1"
    for n in range(50):
        with pytest.raises(UnknownKey):
            await keys.key(f"made-up-{n}")
    assert jwks.hits == 1
    jwks.keys.insert(0, signing_key("key-2"))  # the provider rotates
    with pytest.raises(UnknownKey):
        await keys.key("key-2")  # still within the cooldown
    clock.now += 30
    assert (await keys.key("key-2")).key_id == "key-2"
    assert (await keys.key("key-1")).key_id == "key-1" and jwks.hits == 2


async def test_requests_waiting_on_the_same_new_key_share_one_fetch(jwks: JwksServer):
    keys = ProviderKeys("http://unused.invalid", jwks_url=jwks.url, cooldown=0)
    found = await asyncio.gather(*(keys.key("key-1") for _ in range(20)))
    assert {key.key_id for key in found} == {"key-1"} and jwks.hits == 1


async def test_a_provider_that_is_down_is_a_retry_later_not_a_bad_token(jwks: JwksServer):
    clock = Clock()
    keys = ProviderKeys("http://unused.invalid", jwks_url=jwks.url, cooldown=10, timeout=1, clock=clock)
    await keys.key("key-1")
    jwks.shutdown()
    jwks.server_close()
    clock.now += 10
    with pytest.raises(KeysUnavailable) as down:
        await keys.key("key-2")
    assert down.value.retry_after == 10
    clock.now += 4
    with pytest.raises(KeysUnavailable) as again:
        await keys.key("key-3")  # not asked again within the cooldown, still a 503
    assert again.value.retry_after == 6
    assert (await keys.key("key-1")).key_id == "key-1"  # keys in hand keep working


async def test_a_token_signed_with_a_key_of_another_algorithm_than_its_header_says_is_refused(jwks: JwksServer):
    tokens = ProviderTokens(
        ProviderKeys("http://unused.invalid", jwks_url=jwks.url), issuer="https://id.example", audience="hazardloop-api",
        subsidiaries=["refinery"],
    )
    claims = {"sub": "u", "tenants": ["refinery"], "iss": "https://id.example", "aud": "hazardloop-api", "exp": 9_999_999_999}
    forged = jwt.encode(claims, b"k" * 32, algorithm="HS256", headers={"kid": "key-1"})
    with pytest.raises(jwt.InvalidAlgorithmError):
        await tokens.verify(forged)
