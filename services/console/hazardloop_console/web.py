"""What every console page shares: the signed-in person, the page's language, rendering,
CSRF checks, and how refusals and outages become messages in that language."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import Engine

from hazardloop.privacy.sealing import holds_sealed
from hazardloop.timing.instants import in_zone
from hazardloop.web.auth import Role
from hazardloop.web.http import same_token
from hazardloop.web.labels import label
from hazardloop_console.backends import Backends, Refused, ServiceDown
from hazardloop_console.i18n import language_of, word
from hazardloop_console.sessions import Person, Sessions
from hazardloop_console.settings import ConsoleSettings

SESSION_COOKIE = "hl_session"
LANGUAGE_COOKIE = "hl_lang"
PRE_SESSION_COOKIE = "hl_signin"
"""Double-submit CSRF token of the sign-in forms, before any session exists."""


class SignInRequired(Exception):
    """No live session: the person signs in, then comes back to ``next``."""

    def __init__(self, next_url: str, expired: bool) -> None:
        super().__init__(next_url)
        self.next_url, self.expired = next_url, expired


class NotYours(Exception):
    """The page exists, but not for this person's roles or subsidiaries."""


@dataclass
class Page:
    """The context of one page: who, in which language, in which time zone."""

    request: Request
    language: str
    zone: ZoneInfo
    person: Person | None = None
    notices: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    """Field name to the message shown beside it."""

    @property
    def settings(self) -> ConsoleSettings:
        return self.request.app.state.runtime.settings

    @property
    def engine(self) -> Engine:
        """The console's own store."""
        return self.request.app.state.runtime.engine

    @property
    def tenants(self) -> list[str]:
        """The subsidiaries the signed-in person acts in (every one for group headquarters)."""
        known = self.settings.tenants
        return list(known) if self.person.group_wide else [t for t in known if t in self.person.tenants]

    def t(self, key: str, **values: object) -> str:
        return word(key, self.language, **values)

    def label(self, code: object) -> str:
        """The name of a code, or of a subsidiary (as the group calls it), in the page's language."""
        if code is None:
            return ""
        named = self.settings.subsidiary_names.get(str(code))
        return named.get(self.language) or named.get("zh-CN") or str(code) if named else label(code, self.language)

    def actor(self, actor: str | None) -> str:
        """Who took a step, as a person reads it: a reporter by pseudonym, staff by name, the system not at all."""
        if not actor or actor.startswith("hazardloop/"):
            return ""
        if actor == "receipt-holder":
            return self.t("anonymous")
        kind, _, who = actor.partition(":")
        if kind == "reporter" and who:
            return self.t("pseudonym", p=who)
        return who if kind == "staff" and who else actor

    def when(self, at: datetime | None, *, date_only: bool = False) -> str:
        if at is None:
            return ""
        local = in_zone(at, self.zone)
        return local.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")

    def yuan(self, fen: int | None) -> str:
        if fen is None:
            return ""
        return self.t("yuan", v=f"{fen / 100:,.2f}")

    def clock(self, due: datetime | None, now: datetime) -> tuple[str, str]:
        """Time left to ``due`` (or how late), and its urgency: late, urgent (under 4 h), soon (a day), ok."""
        if due is None:
            return "", "none"
        seconds = int((due - now).total_seconds())
        hours, minutes = divmod(abs(seconds) // 60, 60)
        days, hours = divmod(hours, 24)
        span = self.t("days_hours", d=days, h=hours) if days else self.t("hours_minutes", h=hours, m=minutes)
        if seconds < 0:
            return self.t("late_by", d=span), "late"
        return self.t("due_in", d=span), "urgent" if seconds < 4 * 3600 else "soon" if seconds < 86400 else "ok"

    def path_with(self, **params: Any) -> str:
        """This page's address with some query parameters changed (filters, paging, language)."""
        query = dict(self.request.query_params)
        for key, value in params.items():
            if value is None or value == "":
                query.pop(key, None)
            else:
                query[key] = str(value)
        encoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
        return f"{self.request.url.path}{'?' + encoded if encoded else ''}"

    def refused(self, refusal: Refused, renames: Mapping[str, str] | None = None) -> None:
        """Say why the service refused, and mark the fields it named (``renames``: its name to the form's)."""
        self.errors.append(self.t("refused_by", s=self.t(f"service_{refusal.service}"), r=refusal.reason))
        self.fields.update(refusal.fields)
        self.fields.update({renames[k]: v for k, v in refusal.fields.items() if k in (renames or {})})

    def down(self, outage: ServiceDown) -> None:
        self.errors.append(self.t("service_down", s=self.t(f"service_{outage.service}")))

    def invalid(self, error: ValidationError) -> None:
        """Mark each field a form got wrong, in the page's language."""
        self.errors.append(self.t("fix_fields"))
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]) or "-"
            kind = problem["type"]
            key = {"missing": "required", "string_too_long": "too_long", "int_parsing": "not_a_number",
                   "float_parsing": "not_a_number", "datetime_from_date_parsing": "not_a_time",
                   "datetime_parsing": "not_a_time"}.get(kind, "invalid")
            self.fields.setdefault(name, self.t(key))


def state(request: Request) -> Any:
    return request.app.state


async def page(request: Request) -> Page:
    """The page's context; a ``lang`` in the query is the person's choice and is remembered."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    settings: ConsoleSettings = request.app.state.runtime.settings
    sessions: Sessions = request.app.state.sessions
    person = sessions.find(request.cookies.get(SESSION_COOKIE))
    return Page(request=request, language=language_of(chosen), zone=ZoneInfo(settings.timezone), person=person)


PageDep = Annotated[Page, Depends(page)]


def secure_cookies(settings: ConsoleSettings) -> bool:
    """Cookies only over HTTPS where browsers reach the console over HTTPS."""
    return settings.base_url.startswith("https://")


def came_from(request: Request) -> str:
    """The console page a form was posted from (its referrer, if it is this console's), else the front page."""
    referrer = urlsplit(request.headers.get("referer", ""))
    ours = {request.url.netloc, urlsplit(request.app.state.runtime.settings.base_url).netloc}
    if referrer.scheme not in ("http", "https") or referrer.netloc not in ours or not referrer.path.startswith("/"):
        return "/console"
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


async def signed_in(request: Request, view: PageDep) -> Page:
    """A signed-in person; anybody else signs in first and comes back to this page
    (a form posted after the session ended: back to the page it was posted from)."""
    if view.person is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = came_from(request)
        raise SignInRequired(target, expired=SESSION_COOKIE in request.cookies)
    return view


SignedIn = Annotated[Page, Depends(signed_in)]


def for_roles(*roles: Role):
    """A dependency admitting signed-in people holding one of ``roles``."""

    async def check(view: SignedIn) -> Page:
        if not view.person.has(*roles):
            raise NotYours()
        return view

    return check


async def form_of(request: Request, view: SignedIn) -> dict[str, Any]:
    """The posted form, once its CSRF token proved it came from a console page."""
    form = await request.form()
    sent = form.get("csrf")
    if not same_token(sent, view.person.csrf):
        raise NotYours()
    values: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key == "csrf":
            continue
        if key in values:
            values[key] = [*values[key], value] if isinstance(values[key], list) else [values[key], value]
        else:
            values[key] = value
    return values


FormDep = Annotated[dict[str, Any], Depends(form_of)]


def render(view: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = SealedTextPage(view, template, {"page": view, "person": view.person, **context}, status_code=status_code)
    if "lang" in view.request.query_params:
        response.set_cookie(
            LANGUAGE_COOKIE, view.language, max_age=365 * 86400, samesite="lax", httponly=True,
            secure=secure_cookies(view.settings),
        )
    response.headers["Cache-Control"] = "no-store"
    return response


class SealedTextPage(HTMLResponse):
    """A page rendered as it is sent, once the sealed text it shows is opened: opening
    fetches keys from the broker, which the synchronous page code that made it cannot
    wait for. Headers and cookies set on it meanwhile are sent with it."""

    def __init__(self, view: Page, template: str, context: dict[str, Any], *, status_code: int) -> None:
        super().__init__(b"", status_code=status_code)
        self._view, self._template, self._context = view, template, context

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        view = self._view
        context = self._context
        if holds_sealed(context):
            context = await view.request.app.state.runtime.texts.reveal(context, erased=view.label("erased_text"))
        templates: Jinja2Templates = view.request.app.state.templates
        page = templates.TemplateResponse(view.request, self._template, context, status_code=self.status_code)
        body_headers = (b"content-length", b"content-type")
        page.raw_headers = [h for h in page.raw_headers if h[0] in body_headers] + [
            h for h in self.raw_headers if h[0] not in body_headers
        ]
        await page(scope, receive, send)


def backends(view: Page) -> Backends:
    return view.request.app.state.backends


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def retry_later(view: Page, response: Response) -> Response:
    """A service is down: tell browsers and proxies when to try again."""
    response.headers["Retry-After"] = str(view.settings.retry_after_seconds)
    return response


async def attempt(
    view: Page, send: Callable[[], Awaitable[str]], again: Callable[[int], Response], *,
    renames: Mapping[str, str] | None = None,
) -> Response:
    """Send what a form asks for: on to the address ``send`` returns once done, or the page
    ``again`` with the status the failure deserves, marked where the form was wrong (422),
    with the service's reason where it refused (its status) or a notice that it is down (503)."""
    try:
        url = await send()
    except ValidationError as error:
        view.invalid(error)
        return again(422)
    except Refused as refusal:
        view.refused(refusal, renames)
        return again(refusal.status)
    except ServiceDown as outage:
        view.down(outage)
        return retry_later(view, again(503))
    return see_other(url)


def install(app: FastAPI) -> None:
    """Templates, and the answers to a missing session, a page not theirs and a service down."""
    templates = Jinja2Templates(directory=str(files("hazardloop_console") / "templates"))
    templates.env.filters["fromjson"] = json.loads
    templates.env.filters["fromiso"] = datetime.fromisoformat
    app.state.templates = templates

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, exc: SignInRequired) -> Response:
        url = f"/signin?next={quote(exc.next_url)}" + ("&expired=1" if exc.expired else "")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": url})
        response = see_other(url)
        if exc.expired:
            response.delete_cookie(SESSION_COOKIE)
        return response

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, _: NotYours) -> Response:
        view = await page(request)
        return render(view, "message.html", status_code=403, message=view.t("forbidden"))

    @app.exception_handler(ServiceDown)
    async def service_down(request: Request, exc: ServiceDown) -> Response:
        view = await page(request)
        view.down(exc)
        return retry_later(view, render(view, "message.html", status_code=503, message=""))

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        view = await page(request)
        if exc.status in (403, 404):
            return render(view, "message.html", status_code=exc.status, message=view.t("not_found"))
        view.refused(exc)
        return render(view, "message.html", status_code=exc.status, message="")
