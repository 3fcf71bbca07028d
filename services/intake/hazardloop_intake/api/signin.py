"""Reporters' sign-in over HTTP: off to the provider, back with a code that becomes a
session, and sign-out here and at the provider (see ``hazardloop_intake.signin``)."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

import jwt
from authlib.integrations.starlette_client import StarletteOAuth2App
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from hazardloop.web.http import same_token
from hazardloop_intake.i18n import language
from hazardloop_intake.pages import see_other
from hazardloop_intake.reporter_session import COOKIE_PATH, SESSION_COOKIE, SignedInReporter
from hazardloop_intake.settings import IntakeSettings
from hazardloop_intake.signin import (
    ATTEMPT_COOKIE,
    SIGNIN_PATH,
    SignInFailed,
    draft_url,
    exchange,
    person_of,
    provider_sign_out,
    safe_next,
    start_session,
    start_signin,
    with_query,
)

log = logging.getLogger("hazardloop.intake.signin")

routes = APIRouter(include_in_schema=False)


@routes.get(SIGNIN_PATH)
async def signin(request: Request, next: str | None = None, lang: str | None = None) -> Response:
    return await start_signin(request, safe_next(next), language(lang, request.headers.get("accept-language")))


@routes.get(f"{SIGNIN_PATH}/callback")
async def from_provider(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    """Back from the provider: the code becomes tokens, the tokens a reporter's session."""
    provider: StarletteOAuth2App | None = request.app.state.form_provider
    if provider is None:
        raise HTTPException(404)
    settings: IntakeSettings = request.app.state.intake.settings
    attempt = request.app.state.signin_attempts.finish(request.cookies.get(ATTEMPT_COOKIE))
    next_url = attempt.next_url if attempt else draft_url(request)
    try:
        if attempt is None or not secrets.compare_digest(attempt.state.encode(), state.encode()):
            raise SignInFailed("stale")
        if error or not code:
            raise SignInFailed("refused", f"the provider answered {error or 'no code'}")
        tokens, identity = await exchange(provider, settings, code, attempt.verifier, attempt.nonce)
        person = await person_of(request, tokens["access_token"], identity)
    except SignInFailed as problem:
        log.warning("a reporter's sign-in at the identity provider failed: %s", problem)
        response = see_other(with_query(next_url, signin=problem.reason))
        response.delete_cookie(ATTEMPT_COOKIE, path=SIGNIN_PATH)
        return response
    access = tokens["access_token"]
    expires_at = datetime.fromtimestamp(jwt.decode(access, options={"verify_signature": False})["exp"], UTC)
    response = start_session(
        request, person=person, name=person.name or identity.get("name"), token=access, expires_at=expires_at,
        next_url=next_url, id_token=tokens.get("id_token"),
    )
    response.delete_cookie(ATTEMPT_COOKIE, path=SIGNIN_PATH)
    return response


@routes.post("/f/signout")
async def signout(request: Request, reporter: SignedInReporter) -> Response:
    """Sign out here and at the provider; a post without the session's token signs nobody out."""
    form = await request.form(max_files=0, max_fields=4)
    session_id = request.cookies.get(SESSION_COOKIE)
    if reporter is None or not session_id or not same_token(form.get("csrf"), reporter.csrf):
        return see_other(safe_next(str(form.get("next") or "")))
    request.app.state.reporter_sessions.close(session_id)
    response = see_other(await provider_sign_out(request, reporter.id_token) or safe_next(str(form.get("next") or "")))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
