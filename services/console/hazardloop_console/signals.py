"""Fraud signals beside the rewards a reviewer decides: asked of rewards with the person's
own token (rewards judges who may see them), each put in plain words in the page's language.

Signals inform; they never decide a reward, and an approval never waits for them: when
rewards cannot answer, the page says so and the rewards are shown without them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hazardloop_console.backends import Refused, ServiceDown
from hazardloop_console.web import Page, backends


def described(view: Page, signal: dict[str, Any]) -> dict[str, Any]:
    """The signal with its label and its figures as a sentence, in the page's language."""
    figures = dict(signal.get("figures") or {})
    for name, value in figures.items():
        if isinstance(value, list):
            figures[name] = ", ".join(str(item) for item in value)
    rule = signal["rule"]
    try:
        detail = view.t(f"signal_{rule}_detail", **figures)
    except (KeyError, IndexError):
        detail = ""
    return signal | {"label": view.t(f"signal_{rule}"), "detail": detail}


async def signals_on(view: Page, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]] | None:
    """Per reward of ``rows`` (by report), the open and confirmed signals on its report or its
    reporter; None when rewards cannot say now."""
    by_tenant: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_tenant[row["tenant"]].append(row["report_id"])
    found: dict[str, list[dict[str, Any]]] = {row["report_id"]: [] for row in rows}
    try:
        for tenant, report_ids in by_tenant.items():
            listed = await backends(view).read(view.person.token, "rewards", "/signals", tenant=tenant, report=report_ids)
            for signal in listed:
                for row in rows:
                    named = row["report_id"] in signal["evidence"] or (signal.get("reporter") and signal["reporter"] == row.get("reporter"))
                    if row["tenant"] == tenant and named:
                        found[row["report_id"]].append(described(view, signal))
    except (ServiceDown, Refused):
        return None
    return found
