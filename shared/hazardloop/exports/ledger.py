"""The hazard ledger as people open it: a workbook and a CSV in Chinese or English.

Pure functions of a ledger and a language, so the auditor's command line and a web
page hand out the same document. Every coded cell shows its name, times are the
subsidiary's wall time (its zone named in the headers), money is in yuan, and what
people typed can never run as a formula.
"""

from __future__ import annotations

from typing import Any

from hazardloop.audit.ledger import Ledger, LedgerRow
from hazardloop.events import Language
from hazardloop.exports.spreadsheet import TIME, YUAN, Column, csv_text, workbook
from hazardloop.timing.instants import in_zone
from hazardloop.web.labels import label, language_of

COLUMNS: dict[str, tuple[str, str]] = {
    "report_id": ("报告编号", "Report"),
    "reported_at": ("举报时间", "Reported at"),
    "site": ("厂区", "Site"),
    "area": ("装置或区域", "Area"),
    "spot": ("部位", "Spot"),
    "equipment_tag": ("设备位号", "Equipment"),
    "category": ("隐患类别", "Category"),
    "subtype": ("隐患细类", "Sub-type"),
    "situation": ("隐患情况", "Situation"),
    "outcome": ("核查结论", "Outcome"),
    "grade": ("隐患等级", "Grade"),
    "risk_colour": ("风险颜色", "Risk colour"),
    "status": ("状态", "Status"),
    "owner": ("整改责任人", "Rectification owner"),
    "measures": ("整改措施", "Measures"),
    "deadline": ("整改期限", "Deadline"),
    "rectified_at": ("整改完成时间", "Rectified at"),
    "closed_at": ("闭环时间", "Closed at"),
    "reward_yuan": ("奖励金额（元）", "Reward (yuan)"),
    "reward_status": ("奖励状态", "Reward status"),
    "reward_decided_at": ("奖励审批时间", "Reward decided at"),
    "reward_paid_at": ("奖励发放时间", "Reward paid at"),
    "payout_channel": ("发放方式", "Paid how"),
    "payment_reference": ("付款凭证号", "Payment reference"),
    "reporter": ("举报人（化名）", "Reporter (pseudonym)"),
}  # fmt: skip
"""Column -> (Chinese header, English header), in the ledger's order."""

CODED = frozenset({"category", "subtype", "outcome", "grade", "risk_colour", "status", "reward_status", "payout_channel"})
TIMES = frozenset({"reported_at", "deadline", "rectified_at", "closed_at", "reward_decided_at", "reward_paid_at"})
_WIDTHS = {"situation": 60, "measures": 50, "report_id": 38, "subtype": 30}
_ABOUT = {
    "title": ("台账", "Ledger"),
    "tenant": ("所属公司", "Subsidiary"),
    "timezone": ("时区", "Time zone"),
    "reports": ("报告数", "Reports"),
    "through": ("截至日志序号", "Built from the log through sequence"),
}


def headers(ledger: Ledger, language: str = Language.ZH_CN) -> list[str]:
    """The column headers in ``language``; time columns name the subsidiary's zone."""
    english = language_of(language) == Language.EN
    return [f"{names[english]} ({ledger.timezone})" if name in TIMES else names[english] for name, names in COLUMNS.items()]


def cells(row: LedgerRow, ledger: Ledger, language: str = Language.ZH_CN) -> list[Any]:
    """One row's values in column order: names for codes, zone-less wall times, yuan as Decimal."""
    values = []
    for name in COLUMNS:
        value = getattr(row, name)
        if name in CODED and value is not None:
            value = label(value, language)
        elif name in TIMES and value is not None:
            value = in_zone(value, ledger.zone).replace(tzinfo=None)
        values.append(value)
    return values


def _columns(ledger: Ledger, language: str) -> list[Column]:
    formats = {**dict.fromkeys(TIMES, TIME), "reward_yuan": YUAN}
    return [
        Column(header, _WIDTHS.get(name, 20), formats.get(name), wrap=name in ("situation", "measures"))
        for name, header in zip(COLUMNS, headers(ledger, language), strict=True)
    ]


def ledger_csv(ledger: Ledger, language: str = Language.ZH_CN) -> str:
    """The ledger as CSV text, beginning with a byte-order mark so Excel reads its Chinese as UTF-8.

    Encode it as UTF-8 (the mark is part of the text).
    """
    return csv_text(headers(ledger, language), (cells(row, ledger, language) for row in ledger.rows))


def ledger_xlsx(ledger: Ledger, language: str = Language.ZH_CN, *, title: str = "") -> bytes:
    """The ledger as a workbook: real dates and amounts, and a sheet saying what it was built from."""
    english = language_of(language) == Language.EN
    facts = {"title": title, "tenant": ledger.tenant, "timezone": ledger.timezone, "reports": len(ledger.rows),
             "through": ledger.through_sequence}  # fmt: skip
    return workbook(
        _ABOUT["title"][english], _columns(ledger, language), (cells(row, ledger, language) for row in ledger.rows),
        freeze="B2", filters=True,
        about=("说明" if not english else "About", [(_ABOUT[key][english], value) for key, value in facts.items()]),
    )
