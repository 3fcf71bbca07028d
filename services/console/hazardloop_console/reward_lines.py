"""A reward's breakdown as a person reads it, in the page's language.

Rewards writes each line's ``detail`` in English for the log; its numbers (a multiplier,
a bonus, a percentage, the cap) follow fixed patterns, so the console rebuilds each line
from the rule and those numbers. A line it cannot read shows the rule's name alone.
"""

from __future__ import annotations

import re
from typing import Any

from hazardloop.web.labels import label

_GRADE = re.compile(r"confirmed (\w+) hazard")
_MULTIPLIER = re.compile(r"×(\d+)%")
_BONUS = re.compile(r"\+ (\d+) fen")
_PERCENT = re.compile(r": (\d+)%$")
_CAP = re.compile(r"capped at (\d+) fen")


def _yuan(fen: int, english: bool) -> str:
    return f"¥{fen / 100:,.2f}" if english else f"{fen / 100:,.2f} 元"


def explain(line: dict[str, Any], language: str) -> str:
    """``line`` (rule, detail, amount_fen) as one readable phrase, without the running amount."""
    english = language == "en"
    rule, detail = str(line.get("rule", "")), str(line.get("detail", ""))
    name = label(rule, language)
    if rule == "base":
        graded = _GRADE.search(detail)
        what = label(graded.group(1) if graded else "valid_not_hazard", language)
        return f"{name}: {what}" if english else f"{name}（{what}）"
    if multiplier := _MULTIPLIER.search(detail):
        text = f"{name}: ×{multiplier.group(1)}%" if english else f"{name}：×{multiplier.group(1)}%"
        if bonus := _BONUS.search(detail):
            text += f" + {_yuan(int(bonus.group(1)), english)}" if english else f"，另加 {_yuan(int(bonus.group(1)), english)}"
        return text
    if rule in ("routine_duty", "duplicate") and (percent := _PERCENT.search(detail)):
        if rule == "duplicate":
            return f"A later report of the same hazard: {percent.group(1)}% paid" if english else f"同一隐患的后续举报：按 {percent.group(1)}% 计"
        return f"{name}: {percent.group(1)}% paid" if english else f"{name}：按 {percent.group(1)}% 计"
    if rule == "cap" and (cap := _CAP.search(detail)):
        amount = _yuan(int(cap.group(1)), english)
        return f"Capped at {amount} (more needs group HQ)" if english else f"超过单笔上限，按 {amount} 计（更高金额须集团总部审批）"
    return name
