"""The ledger's fold (deadlines moved by extensions, rework after a rejection, declines,
payouts) and the document people open: in Chinese by default or in English."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from hazardloop.audit.ledger import build_ledger
from hazardloop.events import (
    ExtensionGranted,
    RectificationAssigned,
    RectificationRejected,
    Rectified,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
)
from hazardloop.exports.ledger import ledger_csv, ledger_xlsx
from hazardloop.exports.spreadsheet import spreadsheet_safe
from tests.factories import REPORTER, report_filed, verified

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def follow(event, kind, at, **payload):
    return kind.record(prev_hash=event.hash, tenant=event.tenant, aggregate_id=event.aggregate_id, actor="x", occurred_at=at, **payload)


def test_the_row_follows_the_report_through_rework_and_an_extension():
    filed = report_filed(occurred_at=AT, description="=HYPERLINK(\"x\")")
    check = verified(filed, grade="larger", occurred_at=AT + timedelta(hours=1))
    assigned = follow(check, RectificationAssigned, AT + timedelta(hours=2), owner="maint-chen", deadline=AT + timedelta(days=7))
    extended = follow(assigned, ExtensionGranted, AT + timedelta(days=5), deadline=AT + timedelta(days=10))
    fixed = follow(extended, Rectified, AT + timedelta(days=6), measures="Guard refitted.")
    rejected = follow(fixed, RectificationRejected, AT + timedelta(days=6, hours=3), reason="Interlock not wired.")
    other = report_filed(tenant="mine", occurred_at=AT)
    log = list(enumerate([filed, other, check, assigned, extended, fixed, rejected], start=1))
    ledger = build_ledger(log, "refinery")
    [row] = ledger.rows
    assert (row.status, row.owner, row.deadline, row.rectified_at, row.closed_at) == ("rectifying", "maint-chen", AT + timedelta(days=10), None, None)
    assert (row.measures, row.grade, row.reporter, ledger.through_sequence, ledger.timezone) == ("Guard refitted.", "larger", REPORTER, 7, "Asia/Shanghai")
    assert spreadsheet_safe(row.situation).startswith("'=")


def test_a_declined_reward_reads_zero_and_the_period_filters_by_filing():
    filed = report_filed(occurred_at=AT)
    check = verified(filed, "not_confirmed", None, occurred_at=AT + timedelta(hours=1))
    declined = RewardDeclined.record(prev_hash="0" * 64, tenant=filed.tenant, aggregate_id=filed.aggregate_id, actor="system:rewards",
                                     report_id=filed.aggregate_id, reporter=REPORTER, reason="Not confirmed on site.")
    log = list(enumerate([filed, check, declined], start=1))
    [row] = build_ledger(log, "refinery", since=AT, until=AT + timedelta(days=1)).rows
    assert (row.status, row.reward_yuan, row.reward_status) == ("not_confirmed", 0, "declined")
    assert build_ledger(log, "refinery", since=AT + timedelta(seconds=1)).rows == []


def paid_ledger():
    """A larger hazard typed as a formula, rewarded 3,960.50 yuan through payroll."""
    filed = report_filed(occurred_at=AT, description="=cmd|' /C calc'!A0")
    check = verified(filed, grade="larger", occurred_at=AT + timedelta(hours=1))
    reward = dict(tenant=filed.tenant, aggregate_id=filed.aggregate_id, prev_hash="0" * 64)
    proposed = RewardProposed.record(**reward, actor="verifier-1", report_id=filed.aggregate_id, reporter=REPORTER, proposer="verifier-1",
                                     outcome="confirmed_hazard", grade="larger", amount_fen=396050, breakdown=(), policy="p", cap_fen=1000000)
    approved = RewardApproved.record(**reward, actor="head-1", amount_fen=396050, proposed_fen=396050, budget_year=2026,
                                     occurred_at=AT + timedelta(days=1))
    granted = RewardGranted.record(**reward, actor="finance-1", report_id=filed.aggregate_id, reporter=REPORTER, amount_fen=396050,
                                   outcome="confirmed_hazard", grade="larger", policy="p", payment_reference="PAY-2026-0042",
                                   approved_by="head-1", occurred_at=AT + timedelta(days=2))
    return build_ledger(list(enumerate([filed, check, proposed, approved, granted], start=1)), "refinery")


def test_the_paid_reward_keeps_when_it_was_decided_and_paid_and_its_reference():
    [row] = paid_ledger().rows
    assert (row.reward_status, row.reward_yuan, row.payout_channel, row.payment_reference) == ("granted", 3960.5, "payroll", "PAY-2026-0042")
    assert (row.reward_decided_at, row.reward_paid_at) == (AT + timedelta(days=1), AT + timedelta(days=2))


def test_the_csv_is_in_chinese_by_default_with_a_byte_order_mark_for_excel():
    text = ledger_csv(paid_ledger())
    assert text.startswith("\ufeff")
    [row] = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    assert (row["隐患类别"], row["隐患等级"], row["状态"], row["奖励状态"]) == ("物的不安全状态", "较大隐患", "已核查", "已发放")
    assert (row["奖励金额（元）"], row["发放方式"], row["付款凭证号"]) == ("3960.50", "随工资发放", "PAY-2026-0042")
    assert row["举报时间 (Asia/Shanghai)"] == "2026-06-01 10:00"  # 02:00 UTC is 10:00 at the refinery
    assert row["奖励发放时间 (Asia/Shanghai)"] == "2026-06-03 10:00"
    assert row["隐患情况"].startswith("'=")  # typed text never runs as a formula


def test_the_csv_in_english_names_every_code():
    [row] = csv.DictReader(io.StringIO(ledger_csv(paid_ledger(), "en").removeprefix("\ufeff")))
    assert (row["Category"], row["Sub-type"], row["Outcome"]) == ("Unsafe equipment or facilities", "Monitoring, alarm, protection or rescue device off or damaged", "Confirmed hazard")
    assert (row["Grade"], row["Risk colour"], row["Status"], row["Reward status"], row["Reward (yuan)"]) == ("Larger hazard", "Orange", "Verified", "Paid", "3960.50")
    assert "unsafe_equipment" not in ledger_csv(paid_ledger(), "en")


def test_the_workbook_has_real_dates_and_amounts_in_the_chosen_language():
    chinese = load_workbook(io.BytesIO(ledger_xlsx(paid_ledger(), title="refinery 2026"))).worksheets[0]
    headers = [cell.value for cell in chinese[1]]
    assert chinese.title == "台账" and headers[:2] == ["报告编号", "举报时间 (Asia/Shanghai)"]
    values = dict(zip(headers, [cell.value for cell in chinese[2]], strict=True))
    assert (values["隐患等级"], values["奖励状态"], float(values["奖励金额（元）"])) == ("较大隐患", "已发放", 3960.5)
    assert values["举报时间 (Asia/Shanghai)"] == datetime(2026, 6, 1, 10, 0)
    assert chinese.cell(2, headers.index("隐患情况") + 1).data_type == "s"  # kept as text, not a formula
    english = load_workbook(io.BytesIO(ledger_xlsx(paid_ledger(), "en", title="refinery 2026"))).worksheets[0]
    assert english.title == "Ledger" and english.cell(1, headers.index("隐患等级") + 1).value == "Grade"
    assert english.cell(2, headers.index("隐患等级") + 1).value == "Larger hazard"
