"""The hazard ledger of a subsidiary and period, folded from the log alone.

One row per report filed in the period: when and where it was reported, what was
seen, how it was graded, what was done by when, when it was closed, and the reward.
Times are shown in the subsidiary's own time zone (its casework policy's), since the
ledger is the subsidiary's document; the reporter appears only as a pseudonym.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hazardloop.instants import in_zone
from hazardloop.spreadsheet import spreadsheet_safe
from hazardloop.events import (
    CaseworkPolicy,
    CaseworkPolicySet,
    Event,
    ExtensionGranted,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReportFiled,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    RewardRevoked,
    Verified,
)

LEDGER_TYPES = tuple(kind.model_fields["type"].default for kind in (
    CaseworkPolicySet, ReportFiled, Verified, RectificationAssigned, ExtensionGranted, Rectified, RectificationRejected,
    RectificationAccepted, RectificationOverdue, RewardProposed, RewardReferred, RewardApproved, RewardGranted,
    RewardDeclined, RewardRevoked,
))  # fmt: skip
"""The event types the ledger reads."""

COLUMNS = (
    ("report_id", "Report"), ("reported_at", "Reported at"), ("site", "Site"), ("area", "Area"), ("spot", "Spot"),
    ("equipment_tag", "Equipment"), ("category", "Category"), ("subtype", "Sub-type"), ("situation", "Situation"),
    ("outcome", "Outcome"), ("grade", "Grade"), ("risk_colour", "Risk colour"), ("status", "Status"),
    ("owner", "Rectification owner"), ("measures", "Measures"), ("deadline", "Deadline"),
    ("rectified_at", "Rectified at"), ("closed_at", "Closed at"), ("reward_yuan", "Reward (yuan)"),
    ("reward_status", "Reward status"), ("reporter", "Reporter (pseudonym)"),
)  # fmt: skip
TIME_COLUMNS = {"reported_at", "deadline", "rectified_at", "closed_at"}
_CLOSED_BY_VERDICT = {Outcome.VALID_NOT_HAZARD: "closed", Outcome.NOT_CONFIRMED: "not confirmed", Outcome.DUPLICATE: "duplicate"}


@dataclass
class LedgerRow:
    report_id: str
    reported_at: datetime
    site: str
    area: str
    spot: str
    equipment_tag: str | None
    category: str
    subtype: str
    situation: str
    reporter: str
    outcome: str | None = None
    grade: str | None = None
    risk_colour: str | None = None
    status: str = "filed"
    owner: str | None = None
    measures: str | None = None
    deadline: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None
    reward_fen: int | None = None
    reward_status: str | None = None

    @property
    def reward_yuan(self) -> Decimal | None:
        return None if self.reward_fen is None else Decimal(self.reward_fen) / 100

    def cells(self, zone: ZoneInfo) -> dict[str, Any]:
        """Column -> value, times in ``zone``."""
        values = {name: getattr(self, name) for name, _ in COLUMNS}
        for name in TIME_COLUMNS:
            if values[name] is not None:
                values[name] = in_zone(values[name], zone)
        return values


@dataclass
class Ledger:
    tenant: str
    timezone: str
    rows: list[LedgerRow] = field(default_factory=list)
    through_sequence: int = 0
    """The last log sequence read: the ledger is the state as of then."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def build_ledger(
    log: Iterable[tuple[int, Event]], tenant: str, *, since: datetime | None = None, until: datetime | None = None
) -> Ledger:
    """Fold the log into the ledger of reports filed in ``[since, until)`` in ``tenant``."""
    rows: dict[str, LedgerRow] = {}
    policy, last = CaseworkPolicy(), 0
    for sequence, event in log:
        last = sequence
        if event.tenant != tenant:
            continue
        if isinstance(event, CaseworkPolicySet):
            policy = event.policy
            continue
        if isinstance(event, ReportFiled):
            where = event.location
            rows[event.aggregate_id] = LedgerRow(
                event.aggregate_id, event.occurred_at, where.site, where.area, where.spot, where.equipment_tag,
                event.category.value, event.subtype, event.description, event.reporter,
            )
            continue
        row = rows.get(getattr(event, "report_id", None) or event.aggregate_id)
        if row is not None:
            _apply(row, event)
    chosen = [row for row in rows.values() if (since is None or row.reported_at >= since) and (until is None or row.reported_at < until)]
    chosen.sort(key=lambda row: (row.reported_at, row.report_id))
    return Ledger(tenant, policy.timezone, chosen, last)


def _apply(row: LedgerRow, event: Event) -> None:  # noqa: C901 - one case per event type reads best flat
    match event:
        case Verified():
            row.outcome, row.grade = event.outcome.value, event.grade.value if event.grade else None
            row.risk_colour = event.risk_colour.value if event.risk_colour else None
            row.status = _CLOSED_BY_VERDICT.get(event.outcome, "verified")
            if event.outcome == Outcome.VALID_NOT_HAZARD:
                row.closed_at = event.occurred_at
        case RectificationAssigned():
            row.owner, row.deadline, row.status = event.owner, event.deadline, "rectifying"
            if event.plan is not None:
                row.measures = event.plan.measures
        case ExtensionGranted():
            row.deadline = event.deadline
        case RectificationOverdue():
            if row.closed_at is None:
                row.status = "overdue"
        case Rectified():
            row.measures, row.rectified_at = event.measures, event.occurred_at
            row.status = "closed" if event.on_the_spot else "under review"
            if event.on_the_spot:
                row.closed_at = event.occurred_at
        case RectificationRejected():
            row.rectified_at, row.status = None, "rectifying"
        case RectificationAccepted():
            row.closed_at, row.status = event.occurred_at, "closed"
        case RewardProposed():
            row.reward_fen, row.reward_status = event.amount_fen, "proposed"
        case RewardReferred():
            row.reward_fen, row.reward_status = event.amount_fen, "referred to HQ"
        case RewardApproved():
            row.reward_fen, row.reward_status = event.amount_fen, "approved"
        case RewardGranted():
            row.reward_fen, row.reward_status = event.amount_fen, "paid"
        case RewardDeclined():
            row.reward_fen, row.reward_status = 0, "declined"
        case RewardRevoked():
            row.reward_status = "revoked"


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def write_csv(ledger: Ledger, path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([name for name, _ in COLUMNS])
    for row in ledger.rows:
        cells = row.cells(ledger.zone)
        writer.writerow([spreadsheet_safe(_text(cells[name])) for name, _ in COLUMNS])
    path.write_text(out.getvalue(), encoding="utf-8-sig")  # the BOM makes spreadsheets read UTF-8 (Chinese names)


def write_xlsx(ledger: Ledger, path: Path, *, title: str) -> None:
    """A workbook: the ledger with real dates and amounts, and a sheet saying what it was built from."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Ledger"
    sheet.append([f"{label} ({ledger.timezone})" if name in TIME_COLUMNS else label for name, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in ledger.rows:
        cells = row.cells(ledger.zone)
        # openpyxl writes text as text (never a formula) only when told so: set data_type after.
        sheet.append([cells[name].replace(tzinfo=None) if name in TIME_COLUMNS and cells[name] else cells[name] for name, _ in COLUMNS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    widths = {"situation": 60, "measures": 50, "report_id": 38}
    for index, (name, _) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, 20)
        for cell in sheet[letter][1:]:
            if name in TIME_COLUMNS:
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif name == "reward_yuan":
                cell.number_format = "#,##0.00"
            elif name in ("situation", "measures"):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("About")
    for line in (("Ledger", title), ("Subsidiary", ledger.tenant), ("Time zone", ledger.timezone),
                 ("Reports", len(ledger.rows)), ("Built from the log through sequence", ledger.through_sequence)):
        about.append(line)
    about.column_dimensions["A"].width = 36
    about.column_dimensions["B"].width = 60
    book.save(path)
