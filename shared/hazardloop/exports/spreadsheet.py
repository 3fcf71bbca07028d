"""Files people open in spreadsheets: CSV that Excel reads as UTF-8, and workbooks with
real dates and amounts. In both, what people typed shows as text and never runs as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

TIME = "yyyy-mm-dd hh:mm"
"""Number format of a wall time to the minute."""
YUAN = "#,##0.00"
"""Number format of an amount in yuan."""
SHEET_TITLE_LIMIT = 31
"""The longest sheet name Excel opens."""


@dataclass(frozen=True)
class Column:
    """A column of a workbook: its header, its width, and how its cells show."""

    header: str
    width: int = 20
    number_format: str | None = None
    wrap: bool = False
    """Long text wrapped within the column's width."""


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: what people typed never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _text(value: Any) -> Any:
    """A CSV cell: wall times to the minute, yuan with two decimals."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text beginning with a byte-order mark, so Excel reads its Chinese as UTF-8.

    Encode it as UTF-8 (the mark is part of the text).
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([spreadsheet_safe(_text(value)) for value in row])
    return out.getvalue()


def workbook(
    title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, freeze: str = "A2", filters: bool = False,
    about: tuple[str, Sequence[tuple[str, Any]]] | None = None,
) -> bytes:
    """An XLSX workbook: a sheet of ``rows`` under bold headers, with typed dates and numbers,
    frozen at ``freeze`` (the header row, and the first column too with "B2"), ``filters`` on
    its headers, and ``about``, a second sheet's title and its (fact, value) lines."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title[:SHEET_TITLE_LIMIT]
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        # openpyxl writes text as text (never a formula) only when told so: set data_type after.
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        for cell in sheet[letter][1:]:
            if column.number_format:
                cell.number_format = column.number_format
            if column.wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = freeze
    if filters:
        sheet.auto_filter.ref = sheet.dimensions
    if about is not None:
        about_title, facts = about
        notes = book.create_sheet(about_title[:SHEET_TITLE_LIMIT])
        for fact in facts:
            notes.append(fact)
        notes.column_dimensions["A"].width = 36
        notes.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
