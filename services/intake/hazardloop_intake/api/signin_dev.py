"""The demo's reporters sign in on the form without a provider or password.

Only with ``HAZARDLOOP_DEV_SIGNIN`` (``make run`` sets it; production never does): the
page lists the demo reporters, and a click opens a session with a token intake issues.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from hazardloop.web.auth import Authenticator, Principal, Role
from hazardloop.web.http import same_token
from hazardloop_intake.demo_reporters import DEMO_REPORTERS, demo_reporter
from hazardloop_intake.i18n import language
from hazardloop_intake.pages import render
from hazardloop_intake.reporter_session import secure_cookies
from hazardloop_intake.settings import IntakeSettings
from hazardloop_intake.signin import MINE, SIGNIN_PATH, safe_next, start_session

routes = APIRouter(include_in_schema=False)

DEV_CSRF_COOKIE = "hl_reporter_dev"
"""Double-submit token of the dev sign-in page's buttons."""
DEV_TOKEN_HOURS = 8


@routes.get(f"{SIGNIN_PATH}/dev")
def dev_signin_page(request: Request, next: str | None = None, lang: str | None = None) -> Response:
    settings: IntakeSettings = request.app.state.intake.settings
    if not settings.dev_signin:
        raise HTTPException(404)
    chosen = language(lang, request.headers.get("accept-language"))
    token = request.cookies.get(DEV_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        "signin_dev.html", chosen, people=[(p.subject, p.name(chosen)) for p in DEMO_REPORTERS], next_url=safe_next(next),
        csrf=token, extra_query=f"&{urlencode({'next': safe_next(next)})}",
    )
    response.set_cookie(DEV_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request),
                        path=SIGNIN_PATH, max_age=3600)
    return response


@routes.post(f"{SIGNIN_PATH}/dev")
def dev_signin(
    request: Request, subject: Annotated[str, Form(max_length=128)], csrf: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = MINE, lang: Annotated[str, Form(max_length=8)] = "zh",
) -> Response:
    settings: IntakeSettings = request.app.state.intake.settings
    expected = request.cookies.get(DEV_CSRF_COOKIE)
    person = demo_reporter(subject)
    if not settings.dev_signin or person is None or not same_token(csrf, expected):
        raise HTTPException(403, detail="not a demo sign-in of this page")
    authenticator: Authenticator = request.app.state.authenticator
    tenants = [t for t in person.tenants if t in settings.tenants]
    token = authenticator.issue(person.subject, tenants, [Role.REPORTER], ttl=timedelta(hours=DEV_TOKEN_HOURS))
    principal = Principal(subject=person.subject, tenants=frozenset(tenants), roles=frozenset({Role.REPORTER}),
                          subsidiaries=frozenset(settings.tenants))
    response = start_session(
        request, person=principal, name=person.name(language(lang, None)), token=token,
        expires_at=datetime.now(UTC) + timedelta(hours=DEV_TOKEN_HOURS), next_url=next,
    )
    response.delete_cookie(DEV_CSRF_COOKIE, path=SIGNIN_PATH)
    return response
