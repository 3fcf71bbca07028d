"""The reporter's page of one report, apart from HTTP: its words, the sentences of its
timeline, the reward's state as the reporter reads it, and what a message must be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from hazardloop.events import MESSAGE_LIMIT, MessageText
from hazardloop.web.labels import label
from hazardloop_intake.i18n import TEXT
from hazardloop_intake.i18n_report import REPORT_TEXT
from hazardloop_intake.lookups import LookupLimiter
from hazardloop_intake.pages import NO_STORE, templates
from hazardloop_intake.peers import PeerRefused, Peers
from hazardloop_intake.receipt_sessions import ReceiptSessions

CLAIMABLE = frozenset({"proposed", "referred", "approved"})
"""Reward stages in which rewards takes an anonymous claim (it is paid only once claimed)."""
MESSAGE = TypeAdapter(MessageText)


@dataclass
class ReporterDesk:
    """What the reporter's pages need besides the store: sessions, the guard against
    guessing, and the services they ask for the reporter."""

    sessions: ReceiptSessions
    limiter: LookupLimiter
    peers: Peers
    secure_cookies: bool


def words(lang: str) -> dict[str, str]:
    return TEXT[lang] | REPORT_TEXT[lang]


def page(name: str, lang: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    html = templates.get_template(name).render(lang=lang, t=words(lang), extra_query="", **context)
    return HTMLResponse(html, status_code=status_code, headers=NO_STORE | (headers or {}))


def reward_state(reward: Any) -> str:
    """The reward's stage as the reporter reads it: a claimed one says so until it is paid."""
    return "claimed" if reward.claimed and reward.stage in CLAIMABLE else reward.stage


def sentence(step: Any, t: dict[str, str], lang: str, when, yuan) -> str:
    """One step of the timeline in the reporter's words (``when`` and ``yuan`` word times and amounts)."""
    detail = step.detail
    values = {
        "outcome": " · ".join(label(code, lang) for code in (detail.get("outcome"), detail.get("grade")) if code),
        "deadline": when(datetime.fromisoformat(detail["deadline"])) if detail.get("deadline") else "",
        "measures": detail.get("measures") or "",
        "amount": yuan(detail.get("amount_fen")),
        "reason": detail.get("reason") or "",
    }
    return t.get(f"step_{step.type}", label(step.type, lang)).format(**values)


def message_error(text: str, t: dict[str, str]) -> str | None:
    """What is wrong with a message, in the reporter's words (None: it can be sent)."""
    try:
        MESSAGE.validate_python(text)
    except ValidationError as invalid:
        kind = invalid.errors()[0]["type"]
        if kind == "string_too_long":
            return t["message_too_long"].format(limit=MESSAGE_LIMIT, n=len(text.strip()))
        return t["message_empty"] if kind == "string_too_short" else t["message_invalid"]
    return None


def claim_refusal(refusal: PeerRefused, t: dict[str, str], lang: str) -> str:
    """Why rewards refused the claim, in the reporter's words."""
    if refusal.status == 404:
        return t["claim_not_found"]
    if refusal.state == "claimed":
        return t["claim_already"]
    if refusal.state == "granted":
        return t["claim_paid"]
    if refusal.state:
        return t["claim_not_now"].format(state=label(refusal.state, lang))
    return t["claim_refused"].format(reason=refusal.reason)
