"""Reporters' sessions on the report form, kept on the server: the cookie holds only a random secret.

A reporter signs in only to report in their own name and to follow their reports; the
access token stays here, never in the phone. Who the reporter is (employee number, name,
tokens) is kept sealed under the cookie's secret (``browser_sealed``), so intake's store
alone names no reporter. A session ends at sign-out, after the idle time, or when its
token expires, whichever comes first. The tables are not part of the projection: a
rebuild from the log signs nobody out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from hazardloop.web.auth import ALL_TENANTS, Principal, Role
from hazardloop_intake.browser_sealed import BrowserStore, browser_table
from hazardloop_intake.store import kept

SESSION_COOKIE = "hl_reporter"
COOKIE_PATH = "/f"
"""The reporter's pages only: intake's API never sees the cookie."""

reporter_sessions = browser_table("intake_reporter_sessions", kept, holds="who: employee number, name, subsidiaries, tokens")


@dataclass(frozen=True)
class ReporterSession:
    """A signed-in reporter: who the token says they are, and where they may report."""

    subject: str
    """The employee number (the token's subject)."""
    name: str | None
    tenants: tuple[str, ...]
    token: str
    csrf: str
    id_token: str | None = None

    @property
    def shown_as(self) -> str:
        return self.name or self.subject

    def may_file_in(self, tenant: str) -> bool:
        return ALL_TENANTS in self.tenants or tenant in self.tenants

    def principal(self, subsidiaries: list[str]) -> Principal:
        """The reporter as the services see them, for reads of their own reports."""
        return Principal(
            subject=self.subject, name=self.name, tenants=frozenset(self.tenants), roles=frozenset({Role.REPORTER}),
            subsidiaries=frozenset(subsidiaries),
        )


@dataclass(frozen=True)
class _Who:
    """What a session keeps sealed."""

    subject: str
    name: str | None
    tenants: list[str]
    token: str
    id_token: str | None


class ReporterSessions:
    def __init__(self, engine: Engine, idle: timedelta) -> None:
        self._store = BrowserStore(engine, reporter_sessions, "reporter session", idle=idle)

    def open(
        self, *, subject: str, name: str | None, tenants: list[str], token: str, expires_at: datetime, id_token: str | None = None
    ) -> str:
        """A new session; its id goes into the cookie and nowhere else."""
        who = _Who(subject=subject, name=name, tenants=list(tenants), token=token, id_token=id_token)
        return self._store.keep(json.dumps(asdict(who)).encode(), expires_at=expires_at)

    def find(self, session_id: str | None) -> ReporterSession | None:
        """The reporter of a live session; an idle or expired one is closed instead."""
        found = self._store.find(session_id)
        if found is None:
            return None
        who = _Who(**json.loads(found.value))
        return ReporterSession(
            subject=who.subject, name=who.name, tenants=tuple(who.tenants), token=who.token, csrf=found.csrf, id_token=who.id_token
        )

    def close(self, session_id: str) -> None:
        self._store.drop(session_id)


def secure_cookies(request: Request) -> bool:
    """Cookies only over HTTPS where phones reach intake over HTTPS."""
    return request.app.state.intake.settings.form_base_url.startswith("https://")


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=secure_cookies(request), path=COOKIE_PATH
    )


async def signed_in_reporter(request: Request) -> ReporterSession | None:
    """The reporter signed in on this phone, or None."""
    sessions: ReporterSessions = request.app.state.reporter_sessions
    return sessions.find(request.cookies.get(SESSION_COOKIE))


SignedInReporter = Annotated[ReporterSession | None, Depends(signed_in_reporter)]
