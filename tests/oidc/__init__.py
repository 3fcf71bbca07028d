"""A real OpenID provider for the tests: the certified ``oidc-provider`` on Node (provider.mjs).

``oidc_provider`` runs it for the whole session on a free loopback port; ``login`` signs an
account in through its real pages (authorization code + PKCE) and returns the access
token, so API tests need no browser. The signing keys are made here, so a test can also
sign tokens the provider would never issue (expired, for another issuer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from hazardloop.log.natsserver import free_port

HERE = Path(__file__).parent
CLIENT_ID = "hazardloop-console"
CLIENT_SECRET = "hazardloop-console-secret"
FORM_CLIENT_ID = "hazardloop-intake-form"
FORM_CLIENT_SECRET = "hazardloop-intake-form-secret"
"""The report form's client (intake exchanges the code on its server: confidential, with PKCE)."""
PASSWORD = "hazard-2026"
"""Every account's password."""
AUDIENCE = "hazardloop-api"
CALLBACK = "http://127.0.0.1:9/oidc/callback"
"""The redirect URI ``login`` uses: never opened, the code is read from the redirect itself."""
ACCOUNTS = {
    "safety-officer-li": {"tenants": ["refinery"], "roles": ["verifier"]},
    "maint-chen": {"tenants": ["refinery"], "roles": ["rectifier"]},
    "manager-zhao": {"tenants": ["refinery"], "roles": ["manager"]},
    "hq-liu": {"tenants": ["*"], "roles": ["auditor", "manager"]},
    "worker-wang": {"tenants": ["refinery"], "roles": ["reporter"]},
    "worker-zhou": {"tenants": ["mine"], "roles": ["reporter"]},
}
"""As provider.mjs defines them (each also has a Chinese display ``name``)."""


def signing_key(kid: str) -> dict[str, Any]:
    """A new private RSA signing key as a JWK.

    Without ``key_ops``: PyJWT writes ``["sign"]``, which the provider would publish with
    the public half, and a strict client (the console's Authlib) then refuses to verify with it.
    """
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(private)), "kid": kid, "use": "sig", "alg": "RS256"}
    jwk.pop("key_ops", None)
    return jwk


class OidcProvider:
    """The provider process: started, stopped and restarted by its PID."""

    def __init__(self, folder: Path, redirect_uris: list[str] | None = None) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.jwks_file = folder / "jwks.json"
        self.log_file = folder / "provider.log"
        self.keys = [signing_key("key-1")]
        self.redirect_uris = [CALLBACK, *(redirect_uris or [])]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def signing(self) -> dict[str, Any]:
        """The private JWK the provider signs with now."""
        return self.keys[0]

    def service_env(self) -> dict[str, str]:
        """What a service needs to accept this provider's tokens (keys fetched again at once on rotation)."""
        return {"HAZARDLOOP_OIDC_ISSUER": self.issuer, "HAZARDLOOP_OIDC_JWKS_COOLDOWN_SECONDS": "0"}

    def start(self, timeout: float = 20) -> None:
        node = shutil.which("node") or "/usr/bin/node"
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("oidc-provider is not installed: run `npm ci --prefix tests/oidc` (`make test` does)")
        self.jwks_file.write_text(json.dumps({"keys": self.keys}))
        env = {
            **os.environ,
            "OIDC_ISSUER": self.issuer,
            "OIDC_PORT": str(self.port),
            "OIDC_JWKS_FILE": str(self.jwks_file),
            "OIDC_REDIRECT_URIS": ",".join(self.redirect_uris),
            "OIDC_PASSWORD": PASSWORD,
        }
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen([node, str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the OpenID provider exited: {self.log_file.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the OpenID provider did not answer: {self.log_file.read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self, *, redirect_uris: list[str] | None = None) -> None:
        """Start again (sessions and grants are forgotten), with more redirect URIs if given."""
        self.stop()
        self.redirect_uris = [*self.redirect_uris, *(u for u in redirect_uris or [] if u not in self.redirect_uris)]
        self.start()

    def rotate(self) -> dict[str, Any]:
        """Sign with a new key from now on; the former ones stay published for the tokens they signed."""
        self.keys = [signing_key(f"key-{len(self.keys) + 1}"), *self.keys]
        self.restart()
        return self.signing

    def login(self, account: str, password: str = PASSWORD, *, scope: str = "openid profile") -> str:
        """The access token the console would get for ``account``, through the real pages."""
        return self.sign_in(account, password, scope=scope)["access_token"]

    def sign_in(self, account: str, password: str = PASSWORD, *, scope: str = "openid profile") -> dict[str, Any]:
        """The token response of an authorization code + PKCE sign-in (access, ID and refresh tokens)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        with httpx.Client(base_url=self.issuer, timeout=10) as browser:
            discovery = browser.get("/.well-known/openid-configuration").json()
            page = browser.get(
                discovery["authorization_endpoint"],
                follow_redirects=True,
                params={
                    "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": CALLBACK, "scope": scope,
                    "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
                },
            )
            form = re.search(r'<form method="post" action="([^"]+)"', page.text)
            if form is None:
                raise AssertionError(f"no sign-in form: {page.status_code} {page.text[:500]}")
            answer = browser.post(unescape(form.group(1)), data={"login": account, "password": password})
            while answer.is_redirect and not answer.headers["location"].startswith(CALLBACK):
                answer = browser.get(answer.headers["location"])
            if not answer.is_redirect:
                raise AssertionError(f"sign-in refused: {answer.status_code} {answer.text[:500]}")
            callback = parse_qs(urlsplit(answer.headers["location"]).query)
            if callback.get("state") != [state] or "code" not in callback:
                raise AssertionError(f"sign-in failed: {callback}")
            tokens = browser.post(
                discovery["token_endpoint"],
                auth=(CLIENT_ID, CLIENT_SECRET),
                data={"grant_type": "authorization_code", "code": callback["code"][0], "redirect_uri": CALLBACK,
                      "code_verifier": verifier},
            )
            tokens.raise_for_status()
            return tokens.json()

    def forge(self, claims: dict[str, Any], key: dict[str, Any] | None = None) -> str:
        """A token signed with one of the provider's keys (or ``key``) but not issued by it."""
        jwk = key or self.signing
        private = RSAAlgorithm.from_jwk(json.dumps(jwk))
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": jwk["kid"], "typ": "at+jwt"})


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """The group identity provider as the services and the console meet it."""
    provider = OidcProvider(tmp_path_factory.mktemp("oidc"))
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()
