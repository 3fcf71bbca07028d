"""Cells for CSV files people open in spreadsheets."""

from __future__ import annotations

from typing import Any


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: what people typed never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
