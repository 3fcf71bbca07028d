"""Signing in and out.

With the group's identity provider configured, "sign in" is OpenID Connect
(authorization code with PKCE). The dev sign-in page listing the demo people exists only
when ``HAZARDLOOP_DEV_SIGNIN`` is set (``make run`` sets it; production never does).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from hazardloop.web.auth import Authenticator
from hazardloop.web.http import same_token
from hazardloop.web.oidc_signin import end_session_url
from hazardloop_console.people import DEMO_PEOPLE, demo_person
from hazardloop_console.web import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    NotYours,
    Page,
    PageDep,
    render,
    secure_cookies,
    see_other,
)

log = logging.getLogger("hazardloop.console.signin")

routes = APIRouter(include_in_schema=False)

DEV_TOKEN_HOURS = 8


def safe_next(value: str | None) -> str:
    """Only a path of this console: never a redirect to somewhere else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/console"
    return value


def start_session(view: Page, *, subject: str, name: str | None, tenants: list[str], roles: list, token: str,
                  expires_at: datetime, next_url: str, id_token: str | None = None) -> Response:
    """Open a session and send the person on to where they were going."""
    request = view.request
    session_id = request.app.state.sessions.open(
        subject=subject, name=name, tenants=tenants, roles=roles, token=token, expires_at=expires_at, id_token=id_token
    )
    response = see_other(safe_next(next_url))
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=secure_cookies(request.app.state.runtime.settings),
        path="/",
    )
    response.delete_cookie(PRE_SESSION_COOKIE)
    return response


@routes.get("/")
def root() -> Response:
    return see_other("/console")


@routes.get("/signin")
def signin_page(view: PageDep, next: str | None = None, expired: bool = False) -> Response:
    settings = view.request.app.state.runtime.settings
    if expired:
        view.notices.append(view.t("session_expired"))
    token = view.request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        view, "signin.html", people=DEMO_PEOPLE if settings.dev_signin else (), oidc=view.request.app.state.provider is not None,
        next_url=safe_next(next), signin_csrf=token,
    )
    response.set_cookie(
        PRE_SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(settings), max_age=3600
    )
    return response


@routes.post("/signin/dev")
def dev_signin(
    view: PageDep, subject: Annotated[str, Form(max_length=128)], csrf: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "/console",
) -> Response:
    settings = view.request.app.state.runtime.settings
    expected = view.request.cookies.get(PRE_SESSION_COOKIE)
    person = demo_person(subject)
    if not settings.dev_signin or person is None or not same_token(csrf, expected):
        raise NotYours()
    authenticator: Authenticator = view.request.app.state.authenticator
    tenants = [t for t in person.tenants if t == "*" or t in settings.tenants]
    token = authenticator.issue(person.subject, tenants, list(person.roles), ttl=timedelta(hours=DEV_TOKEN_HOURS))
    return start_session(
        view, subject=person.subject, name=person.name(view.language), tenants=tenants, roles=list(person.roles),
        token=token, expires_at=datetime.now(UTC) + timedelta(hours=DEV_TOKEN_HOURS), next_url=next,
    )


async def _provider_sign_out(request: Request, id_token: str | None) -> str | None:
    """Where the provider ends its own session too, so the next person at a shared terminal
    cannot sign in as this one without a password; None when it offers no such place."""
    provider = request.app.state.provider
    if provider is None or id_token is None:
        return None
    settings = request.app.state.runtime.settings
    ending = await end_session_url(
        provider, id_token=id_token, post_logout_redirect_uri=f"{settings.base_url}/", client_id=settings.oidc_client_id
    )
    if ending is None:
        log.warning("the identity provider offered no sign-out; signed out of the console only")
    return ending


@routes.post("/signout")
async def signout(request: Request, view: PageDep) -> Response:
    form = await request.form()
    session_id = request.cookies.get(SESSION_COOKIE)
    person = view.person
    if person is None or not session_id or not same_token(form.get("csrf"), person.csrf):
        person = None  # nobody, or a forged request: sign nobody out anywhere
    else:
        request.app.state.sessions.close(session_id)
    response = see_other(await _provider_sign_out(request, person.id_token if person else None) or "/signin")
    response.delete_cookie(SESSION_COOKIE)
    return response
