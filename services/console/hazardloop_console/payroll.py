"""The month's payroll file as finance opens it: rewards' own payroll list, in Chinese or
English, with named cells, local times and yuan.

Rewards decides which rewards a month's payroll holds (it owns the payments and the
group's calendar), so the console takes its CSV as it is and only translates it: the
file finance downloads here can never disagree with the one the payroll system reads.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hazardloop.exports.spreadsheet import TIME, YUAN, Column, csv_text, workbook
from hazardloop.web.labels import label

COLUMNS: dict[str, tuple[str, str]] = {
    "payment_reference": ("付款凭证号", "Payment reference"),
    "report_id": ("报告编号", "Report"),
    "reporter": ("举报人（化名）", "Reporter (pseudonym)"),
    "amount_yuan": ("奖励金额（元）", "Reward (yuan)"),
    "channel": ("发放方式", "Paid how"),
    "approver": ("审批人", "Approved by"),
    "paid_at": ("发放时间", "Paid at"),
}
"""Column -> (Chinese header, English header), in the file's order."""
_WIDTHS = {"report_id": 38, "payment_reference": 24, "paid_at": 18}


@dataclass(frozen=True)
class Paid:
    payment_reference: str
    report_id: str
    reporter: str
    amount_yuan: Decimal
    channel: str
    approver: str
    paid_at: datetime


def _unguarded(cell: str) -> str:
    """A cell as typed, without the quote rewards put before one a spreadsheet would run."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def read(text: str) -> list[Paid]:
    """Rewards' payroll CSV, one paid reward a row."""
    rows = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    return [
        Paid(
            payment_reference=_unguarded(row["payment_reference"]), report_id=row["report_id"], reporter=row["reporter"],
            amount_yuan=Decimal(int(row["amount_fen"])) / 100, channel=row["channel"], approver=_unguarded(row["approver"]),
            paid_at=datetime.fromisoformat(row["paid_at"]),
        )
        for row in rows
    ]


def headers(language: str, zone: ZoneInfo) -> list[str]:
    english = language == "en"
    return [f"{names[english]} ({zone.key})" if name == "paid_at" else names[english] for name, names in COLUMNS.items()]


def cells(row: Paid, language: str, zone: ZoneInfo) -> list[Any]:
    """Names for codes, wall times of the group's zone, yuan as Decimal."""
    return [
        row.payment_reference, row.report_id, row.reporter, row.amount_yuan, label(row.channel, language), row.approver,
        row.paid_at.astimezone(zone).replace(tzinfo=None),
    ]


def as_csv(rows: list[Paid], language: str, zone: ZoneInfo) -> str:
    """CSV text beginning with a byte-order mark, so Excel reads its Chinese as UTF-8."""
    return csv_text(headers(language, zone), (cells(row, language, zone) for row in rows))


def as_xlsx(rows: list[Paid], language: str, zone: ZoneInfo, *, title: str) -> bytes:
    """A workbook with real amounts and times; text stays text, never a formula."""
    formats = {"paid_at": TIME, "amount_yuan": YUAN}
    columns = [
        Column(header, _WIDTHS.get(name, 16), formats.get(name))
        for name, header in zip(COLUMNS, headers(language, zone), strict=True)
    ]
    return workbook(title, columns, (cells(row, language, zone) for row in rows))
