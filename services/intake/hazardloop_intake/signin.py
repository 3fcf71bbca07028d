"""Reporters sign in on the report form: the group's OpenID Connect provider, authorization
code with PKCE, as the console does.

Signing in is what "named" means: the report is filed under the token's subject (the
employee number), never under a number somebody typed. Authlib speaks the protocol
(discovery, PKCE S256, the code exchange, the ID token's signature, issuer, audience,
nonce); the access token is read by the rules every service applies. A sign-in that
fails or is cancelled sends the reporter back where they came from (the form, with
what they typed) with a reason the page words in its language. With
``HAZARDLOOP_DEV_SIGNIN`` the demo's reporters sign in without a provider. The routes are
``api.signin`` and ``api.signin_dev``; this module holds the steps they take.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlencode

from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import HTTPException, Request
from fastapi.responses import Response

from hazardloop.web.auth import Principal
from hazardloop.web.oidc_signin import (
    PROVIDER_UNREACHABLE,
    ProviderDown,
    ProviderRefused,
    end_session_url,
    exchange_code,
    provider_client,
)
from hazardloop_intake.attempts import TTL, SignInAttempts
from hazardloop_intake.drafts import DRAFT_COOKIE, Drafts
from hazardloop_intake.i18n import TEXT
from hazardloop_intake.pages import see_other
from hazardloop_intake.reporter_session import ReporterSessions, secure_cookies, set_session_cookie
from hazardloop_intake.settings import IntakeSettings

log = logging.getLogger("hazardloop.intake.signin")

ATTEMPT_COOKIE = "hl_reporter_oidc"
"""The id of the sign-in under way, sent back only to the sign-in routes."""
SIGNIN_PATH = "/f/signin"
MINE = "/f/mine"
OUTCOMES = ("refused", "down", "stale", "unavailable")
"""Why a sign-in did not go through: ``?signin=`` of the page it returns to, worded there."""


def form_provider(settings: IntakeSettings) -> StarletteOAuth2App | None:
    """The report form as a client of the group's identity provider, when one is configured."""
    if not settings.oidc_issuer or not settings.form_oidc_client_id:
        return None
    secret = settings.form_oidc_client_secret.get_secret_value() if settings.form_oidc_client_secret else None
    return provider_client(
        issuer=settings.oidc_issuer, client_id=settings.form_oidc_client_id, client_secret=secret,
        scopes=settings.form_oidc_scopes, timeout=settings.oidc_timeout,
    )


def callback_url(settings: IntakeSettings) -> str:
    """The redirect URI to register at the provider."""
    return f"{settings.form_base_url}{SIGNIN_PATH}/callback"


def safe_next(value: str | None) -> str:
    """Only a reporter's page of intake: never a redirect to somewhere else."""
    if not value or not value.startswith("/f/") or "\\" in value or "//" in value:
        return MINE
    return value


def with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def signin_notice(outcome: str | None, lang: str) -> str | None:
    """The sentence a page shows for a sign-in that returned without going through."""
    return TEXT[lang][f"signin_{outcome}"] if outcome in OUTCOMES else None


def signin_available(request: Request) -> bool:
    return request.app.state.form_provider is not None or request.app.state.intake.settings.dev_signin


class SignInFailed(Exception):
    """The sign-in did not go through: ``reason`` is refused, down or stale."""

    def __init__(self, reason: str, why: object = None) -> None:
        super().__init__(f"{reason}: {why}" if why else reason)
        self.reason = reason


async def start_signin(request: Request, next_url: str, lang: str) -> Response:
    """Off to the provider's sign-in page (the dev page in the demo); the state, nonce and
    PKCE verifier stay here."""
    settings: IntakeSettings = request.app.state.intake.settings
    provider: StarletteOAuth2App | None = request.app.state.form_provider
    next_url = safe_next(next_url)
    if provider is None:
        if settings.dev_signin:
            return see_other(f"{SIGNIN_PATH}/dev?" + urlencode({"next": next_url, "lang": lang}))
        return see_other(with_query(next_url, signin="unavailable"))
    try:
        started = await provider.create_authorization_url(callback_url(settings), ui_locales="en" if lang == "en" else "zh-CN")
    except PROVIDER_UNREACHABLE:
        log.warning("the identity provider did not answer; a reporter could not sign in")
        return see_other(with_query(next_url, signin="down"))
    attempts: SignInAttempts = request.app.state.signin_attempts
    attempt = attempts.start(state=started["state"], nonce=started["nonce"], verifier=started["code_verifier"], next_url=next_url)
    response = see_other(started["url"])
    response.set_cookie(
        ATTEMPT_COOKIE, attempt, max_age=int(TTL.total_seconds()), path=SIGNIN_PATH, httponly=True, samesite="lax",
        secure=secure_cookies(request),
    )
    return response


def start_session(request: Request, *, person: Principal, name: str | None, token: str, expires_at: datetime,
                  next_url: str, id_token: str | None = None) -> Response:
    sessions: ReporterSessions = request.app.state.reporter_sessions
    session_id = sessions.open(
        subject=person.subject, name=name, tenants=sorted(person.tenants), token=token, expires_at=expires_at, id_token=id_token
    )
    response = see_other(safe_next(next_url))
    set_session_cookie(request, response, session_id)
    return response


def draft_url(request: Request) -> str:
    """The form a kept draft came from: where a sign-in whose attempt is lost returns to."""
    drafts: Drafts = request.app.state.drafts
    draft = drafts.open(request.cookies.get(DRAFT_COOKIE))
    return safe_next(draft.get("url") if draft else None)


async def exchange(provider: StarletteOAuth2App, settings: IntakeSettings, code: str, verifier: str, nonce: str):
    """The provider's tokens for the code, and the ID token's claims; ``SignInFailed`` if not."""
    try:
        return await exchange_code(
            provider, redirect_uri=callback_url(settings), issuer=settings.oidc_issuer, client_id=settings.form_oidc_client_id,
            code=code, verifier=verifier, nonce=nonce,
        )
    except ProviderDown as exc:
        raise SignInFailed("down", exc) from exc
    except ProviderRefused as exc:
        raise SignInFailed("refused", exc) from exc


async def person_of(request: Request, access_token: str, identity: dict) -> Principal:
    """Who the access token says the reporter is, as every service will read it."""
    try:
        person: Principal = await request.app.state.authenticator.authenticate(access_token)
    except HTTPException as exc:
        raise SignInFailed("down" if exc.status_code == 503 else "refused", exc.detail) from exc
    if person.subject != identity["sub"]:
        raise SignInFailed("refused", "the ID and access tokens name different people")
    return person


async def provider_sign_out(request: Request, id_token: str | None) -> str | None:
    """Where the provider ends its own session too, so that the next person on a shared
    phone cannot report in this one's name without a password; None when it offers none."""
    provider: StarletteOAuth2App | None = request.app.state.form_provider
    if provider is None or id_token is None:
        return None
    settings: IntakeSettings = request.app.state.intake.settings
    ending = await end_session_url(
        provider, id_token=id_token, post_logout_redirect_uri=f"{settings.form_base_url}{MINE}",
        client_id=settings.form_oidc_client_id,
    )
    if ending is None:
        log.warning("the identity provider offered no sign-out; a reporter was signed out of the form only")
    return ending
