"""Signing people in at the group's identity provider: what the console and the report form share.

Both are clients of the same provider (OpenID Connect, authorization code with PKCE
S256, through Authlib), each with its own client id. The state, nonce and PKCE
verifier of a sign-in under way stay on the server (``SignInAttempts``); the browser
holds only a random id in a short-lived HttpOnly cookie. The callback must come back to
the browser that started the sign-in, with the state it was sent with, once: so nobody
can slip their own sign-in into someone else's browser, nor replay a callback.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import JoseError
from sqlalchemy import Column, Engine, MetaData, String, Table, Text, delete, insert, select

from hazardloop.projections.db import UtcDateTime

PROVIDER_UNREACHABLE = (httpx2.HTTPError, ValueError, KeyError, RuntimeError)
"""What Authlib raises when the provider's metadata cannot be had (down, or not a provider's answer)."""

ATTEMPT_TTL = timedelta(minutes=10)
"""Time a person has at the provider's page before the attempt is forgotten."""


def provider_client(
    *, issuer: str, client_id: str, client_secret: str | None, scopes: str, timeout: float
) -> StarletteOAuth2App:
    """A client of the provider: ``client_secret_basic`` with a secret, a public client without."""
    return OAuth().register(
        "group",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic" if client_secret else "none",
            "timeout": timeout,
        },
    )


class ProviderDown(Exception):
    """The provider could not be reached while exchanging the code."""


class ProviderRefused(Exception):
    """The provider's answer does not sign anybody in (bad code, bad ID token, no access token)."""


async def exchange_code(
    provider: StarletteOAuth2App, *, redirect_uri: str, issuer: str, client_id: str, code: str, verifier: str, nonce: str
) -> tuple[dict, dict]:
    """The provider's tokens for the code, and the ID token's claims once Authlib has
    checked its signature, issuer, audience (this client) and nonce."""
    try:
        tokens = await provider.fetch_access_token(redirect_uri=redirect_uri, code=code, code_verifier=verifier)
        identity = await provider.parse_id_token(
            tokens, nonce=nonce,
            claims_options={"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}},
        )
    except httpx2.HTTPError as exc:
        raise ProviderDown(exc) from exc
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        raise ProviderRefused(repr(exc)) from exc
    if identity is None or "access_token" not in tokens:
        raise ProviderRefused("no ID token or no access token")
    return tokens, identity


async def end_session_url(
    provider: StarletteOAuth2App, *, id_token: str, post_logout_redirect_uri: str, client_id: str
) -> str | None:
    """Where the provider ends its own session too, so the next person at a shared screen
    cannot sign in as this one without a password; None when it offers no such place or
    cannot be reached (the sign-out here still holds)."""
    try:
        metadata = await provider.load_server_metadata()
    except PROVIDER_UNREACHABLE:
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri, "client_id": client_id})
    return f"{endpoint}?{query}"


def attempts_table(name: str, metadata: MetaData) -> Table:
    """A service's table of sign-ins under way (among the tables a projection rebuild keeps)."""
    return Table(
        name,
        metadata,
        Column("id_hash", String(64), primary_key=True),
        Column("state", String(128), nullable=False),
        Column("nonce", String(128), nullable=False),
        Column("verifier", String(128), nullable=False),
        Column("next_url", Text, nullable=False),
        Column("expires_at", UtcDateTime(), nullable=False),
    )


@dataclass(frozen=True)
class Attempt:
    state: str
    nonce: str
    verifier: str
    next_url: str


def _hash(attempt_id: str) -> str:
    return hashlib.sha256(attempt_id.encode()).hexdigest()


class SignInAttempts:
    def __init__(self, engine: Engine, table: Table) -> None:
        self._engine = engine
        self._table = table

    def start(self, *, state: str, nonce: str, verifier: str, next_url: str) -> str:
        """Remember an attempt; the id returned goes into the browser's cookie."""
        attempt_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._engine.begin() as db:
            db.execute(delete(self._table).where(self._table.c.expires_at < now))
            db.execute(insert(self._table).values(
                id_hash=_hash(attempt_id), state=state, nonce=nonce, verifier=verifier, next_url=next_url,
                expires_at=now + ATTEMPT_TTL,
            ))
        return attempt_id

    def finish(self, attempt_id: str | None) -> Attempt | None:
        """The attempt, taken out of the store: a callback is honoured once, and only in time."""
        if not attempt_id:
            return None
        key = _hash(attempt_id)
        with self._engine.begin() as db:
            row = db.execute(select(self._table).where(self._table.c.id_hash == key)).first()
            db.execute(delete(self._table).where(self._table.c.id_hash == key))
        if row is None or row.expires_at <= datetime.now(UTC):
            return None
        return Attempt(state=row.state, nonce=row.nonce, verifier=row.verifier, next_url=row.next_url)
