"""Signing in at the group's identity provider: OpenID Connect, authorization code with PKCE.

Authlib speaks the protocol: discovery, PKCE (S256), the code exchange with the client's
secret, the ID token's signature (the provider's published keys), issuer, audience and
nonce. What the person may do comes from the access token, checked and read by the same
rules every service applies (``hazardloop.web.oidc``): the console never shows a person more
than the services will let them do. Anything going wrong comes back as a page in the
person's language with a way to try again.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

import jwt
from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from hazardloop.web.auth import Principal
from hazardloop.web.oidc_signin import (
    PROVIDER_UNREACHABLE,
    ProviderDown,
    ProviderRefused,
    exchange_code,
    provider_client,
)
from hazardloop_console.api.signin import safe_next, start_session
from hazardloop_console.attempts import TTL, SignInAttempts
from hazardloop_console.settings import ConsoleSettings
from hazardloop_console.web import Page, PageDep, render, secure_cookies, see_other

log = logging.getLogger("hazardloop.console.signin")

routes = APIRouter(include_in_schema=False)

ATTEMPT_COOKIE = "hl_oidc"
"""The id of the sign-in under way, sent back only to the sign-in routes."""


def group_provider(settings: ConsoleSettings) -> StarletteOAuth2App | None:
    """The console as a client of the group's identity provider, when one is configured."""
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return provider_client(
        issuer=settings.oidc_issuer, client_id=settings.oidc_client_id, client_secret=secret, scopes=settings.oidc_scopes,
        timeout=settings.oidc_timeout,
    )


def callback_url(settings: ConsoleSettings) -> str:
    """The redirect URI to register at the provider."""
    return f"{settings.base_url}/signin/callback"


class SignInFailed(Exception):
    """The sign-in did not go through: ``reason`` is a word key, ``status`` the page's status."""

    def __init__(self, reason: str, status: int, why: object = None) -> None:
        super().__init__(f"{reason}: {why}" if why else reason)
        self.reason, self.status = reason, status


def failed(view: Page, problem: SignInFailed, next_url: str = "/console") -> Response:
    return render(
        view, "signin_failed.html", status_code=problem.status, message=view.t(problem.reason),
        again=f"/signin/oidc?next={quote(safe_next(next_url))}",
    )


def _provider(view: Page) -> StarletteOAuth2App:
    provider = view.request.app.state.provider
    if provider is None:
        raise HTTPException(404)
    return provider


def _attempts(view: Page) -> SignInAttempts:
    return view.request.app.state.signin_attempts


@routes.get("/signin/oidc")
async def to_provider(view: PageDep, next: str | None = None) -> Response:
    """Off to the provider's sign-in page; the state, nonce and PKCE verifier stay here."""
    provider, settings = _provider(view), view.request.app.state.runtime.settings
    try:
        started = await provider.create_authorization_url(callback_url(settings), ui_locales=view.language)
    except PROVIDER_UNREACHABLE:
        return failed(view, SignInFailed("provider_down", 503), next or "/console")
    attempt = _attempts(view).start(
        state=started["state"], nonce=started["nonce"], verifier=started["code_verifier"], next_url=safe_next(next)
    )
    response = see_other(started["url"])
    response.set_cookie(
        ATTEMPT_COOKIE, attempt, max_age=int(TTL.total_seconds()), path="/signin", httponly=True, samesite="lax",
        secure=secure_cookies(settings),
    )
    return response


@routes.get("/signin/callback")
async def from_provider(view: PageDep, state: str = "", code: str = "", error: str = "") -> Response:
    """Back from the provider: the code becomes tokens, the tokens a console session."""
    provider, settings = _provider(view), view.request.app.state.runtime.settings
    attempt = _attempts(view).finish(view.request.cookies.get(ATTEMPT_COOKIE))
    next_url = attempt.next_url if attempt else "/console"
    try:
        if attempt is None or not secrets.compare_digest(attempt.state.encode(), state.encode()):
            raise SignInFailed("signin_stale", 400)
        if error or not code:
            raise SignInFailed("signin_refused", 403, f"the provider answered {error or 'no code'}")
        tokens, identity = await _exchange(provider, settings, code, attempt.verifier, attempt.nonce)
        person = await _person(view, tokens["access_token"], identity)
    except SignInFailed as problem:
        log.warning("a sign-in at the identity provider failed: %s", problem)
        response = failed(view, problem, next_url)
        response.delete_cookie(ATTEMPT_COOKIE, path="/signin")
        return response
    access = tokens["access_token"]
    expires_at = datetime.fromtimestamp(jwt.decode(access, options={"verify_signature": False})["exp"], UTC)
    response = start_session(
        view, subject=person.subject, name=person.name or identity.get("name"), tenants=sorted(person.tenants),
        roles=sorted(person.roles), token=access, expires_at=expires_at, next_url=next_url,
        id_token=tokens.get("id_token"),
    )
    response.delete_cookie(ATTEMPT_COOKIE, path="/signin")
    return response


async def _exchange(provider: StarletteOAuth2App, settings: ConsoleSettings, code: str, verifier: str, nonce: str):
    try:
        return await exchange_code(
            provider, redirect_uri=callback_url(settings), issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
            code=code, verifier=verifier, nonce=nonce,
        )
    except ProviderDown as exc:
        raise SignInFailed("provider_down", 503, exc) from exc
    except ProviderRefused as exc:
        raise SignInFailed("signin_refused", 403, exc) from exc


async def _person(view: Page, access_token: str, identity: dict) -> Principal:
    """Who the access token says the person is, as every service will read it."""
    try:
        person: Principal = await view.request.app.state.authenticator.authenticate(access_token)
    except HTTPException as exc:
        if exc.status_code == 503:
            raise SignInFailed("provider_down", 503, exc.detail) from exc
        raise SignInFailed("signin_refused", 403, exc.detail) from exc
    if person.subject != identity["sub"]:
        raise SignInFailed("signin_refused", 403, "the ID and access tokens name different people")
    if not person.roles:
        raise SignInFailed("signin_no_roles", 403)
    return person
