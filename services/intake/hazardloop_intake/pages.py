"""The reporter's pages: server-rendered Jinja2 templates, never cached, never framed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hazardloop_intake.i18n import TEXT

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]), auto_reload=False
)
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'"}


def render(name: str, lang: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = templates.get_template(name).render(lang=lang, t=TEXT[lang], **{"extra_query": ""} | context)
    return HTMLResponse(page, status_code=status_code, headers=NO_STORE)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
