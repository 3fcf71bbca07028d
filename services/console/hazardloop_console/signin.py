"""Signing in and out.

With the group's identity provider configured, "sign in" is OpenID Connect
(authorization code with PKCE). The dev sign-in page listing the demo people exists only
when ``HAZARDLOOP_DEV_SIGNIN`` is set (``make run`` sets it; production never does).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from hazardloop.auth import Authenticator
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

routes = APIRouter(include_in_schema=False)

DEV_TOKEN_HOURS = 8


def safe_next(value: str | None) -> str:
    """Only a path of this console: never a redirect to somewhere else."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/console"
    return value


def start_session(view: Page, *, subject: str, name: str | None, tenants: list[str], roles: list, token: str,
                  expires_at: datetime, next_url: str) -> Response:
    """Open a session and send the person on to where they were going."""
    request = view.request
    session_id = request.app.state.sessions.open(
        subject=subject, name=name, tenants=tenants, roles=roles, token=token, expires_at=expires_at
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
    if not settings.dev_signin or person is None or not expected or not secrets.compare_digest(expected, csrf):
        raise NotYours()
    authenticator: Authenticator = view.request.app.state.authenticator
    tenants = [t for t in person.tenants if t == "*" or t in settings.tenants]
    token = authenticator.issue(person.subject, tenants, list(person.roles), ttl=timedelta(hours=DEV_TOKEN_HOURS))
    return start_session(
        view, subject=person.subject, name=person.name(view.language), tenants=tenants, roles=list(person.roles),
        token=token, expires_at=datetime.now(UTC) + timedelta(hours=DEV_TOKEN_HOURS), next_url=next,
    )


@routes.post("/signout")
async def signout(request: Request, view: PageDep) -> Response:
    form = await request.form()
    session_id = request.cookies.get(SESSION_COOKIE)
    if view.person is not None and session_id and secrets.compare_digest(str(form.get("csrf", "")), view.person.csrf):
        request.app.state.sessions.close(session_id)
    response = see_other("/signin")
    response.delete_cookie(SESSION_COOKIE)
    return response
