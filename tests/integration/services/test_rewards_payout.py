"""After approval: an anonymous reporter claims with the receipt code and is paid against a
voucher without being named; a paid reward is revoked by a new event; paid rewards are
recognised by pseudonym and handed to payroll as CSV. Over HTTP on a real broker."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io

import pytest

from hazardloop_rewards.api.views import notice_reference
from tests.integration.services.reward_desk import HEAD, RewardDesk, confirmed, this_month

ANONYMOUS = "anon-emp-4711"


@pytest.fixture
def desk(harness) -> RewardDesk:
    return RewardDesk(harness)


def test_an_anonymous_reporter_claims_with_the_receipt_code_and_is_paid_against_a_voucher(desk):
    report_id, receipt = desk.file(ANONYMOUS, anonymous=True)
    assert receipt
    assert desk.verify(report_id, confirmed("general"))["anonymous"] is True
    desk.approved(report_id)

    unclaimed = desk.pay(report_id)
    assert (unclaimed.status_code, unclaimed.json()["state"]) == (409, "unclaimed")
    wrong_code = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"})
    assert wrong_code.status_code == 404
    claimed = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": receipt})
    assert claimed.status_code == 201, claimed.text
    voucher = claimed.json()["voucher_code"]
    again = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": receipt})
    assert (again.status_code, again.json()["voucher_code"]) == (201, voucher), "a claim whose answer was lost gets it again"
    assert desk.types(report_id).count("RewardClaimed") == 1

    forged = desk.pay(report_id, voucher_code="000000-000000-000000-000000")
    assert forged.status_code == 422 and forged.json()["detail"][0]["loc"] == ["body", "voucher_code"]
    assert desk.pay(report_id, "CASH-17", voucher_code=voucher).status_code == 201
    paid = desk.wait_status(report_id, "granted")
    assert (paid["channel"], paid["claimed"], paid["amount_fen"]) == ("voucher", True, 10_000)

    assert desk.types(report_id) == ["RewardProposed", "RewardApproved", "RewardClaimed", "RewardGranted"]
    assert not [data for data in desk.raw(report_id) if ANONYMOUS.encode() in data or voucher.encode() in data]


def test_a_named_reward_is_not_claimed_with_a_receipt_code(desk):
    report_id = desk.proposed(confirmed("general"))
    claim = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"})
    assert claim.status_code == 404
    assert desk.types(report_id) == ["RewardProposed"]


def test_a_paid_reward_is_revoked_by_a_new_event_and_an_unpaid_one_cannot_be(desk):
    paid = desk.proposed(confirmed("general"))
    unpaid = desk.proposed(confirmed("general"))
    desk.paid(paid, "PAY-9")

    assert desk.api.post(f"/rewards/{paid}/revocation", json={"reason": "staged"}, headers=desk.finance).status_code == 403
    revoked = desk.api.post(f"/rewards/{paid}/revocation", json={"reason": "proven fraud: the hazard was staged"}, headers=desk.leader)
    assert revoked.status_code == 201 and revoked.json()["event"] == "RewardRevoked"
    view = desk.wait_status(paid, "revoked")
    assert view["reason"] == "proven fraud: the hazard was staged" and view["payment_reference"] == "PAY-9"
    assert desk.types(paid) == ["RewardProposed", "RewardApproved", "RewardGranted", "RewardRevoked"]

    early = desk.api.post(f"/rewards/{unpaid}/revocation", json={"reason": "proven fraud"}, headers=desk.leader)
    assert (early.status_code, early.json()["state"]) == (409, "proposed")
    assert desk.types(unpaid) == ["RewardProposed"]


def test_paid_rewards_are_recognised_by_pseudonym_and_exported_for_payroll(desk):
    period, where = this_month(), {"tenant": "refinery"}
    first = desk.proposed(confirmed("general"), reporter="emp-31")
    second = desk.proposed(confirmed("general"), reporter="emp-32")
    desk.paid(first, "PAY-A")
    desk.paid(second, "PAY-B", amount_fen=12_345, reason="extra care in bad light")

    reporter = desk.headers("emp-31")
    board = desk.api.get("/leaderboard", params=where | {"period": period, "by": "area"}, headers=reporter)
    assert board.status_code == 200 and board.json() == [{"name": "Pipe rack", "rewarded_reports": 2, "amount_fen": 22_345}]
    refused = desk.api.get("/leaderboard", params=where | {"period": period, "by": "reporter"}, headers=reporter)
    assert refused.status_code == 403 and "by" in refused.text  # pseudonyms ranked are for staff who handle rewards
    by_reporter = desk.api.get("/leaderboard", params=where | {"period": period, "by": "reporter"}, headers=desk.finance).json()
    assert len(by_reporter) == 2 and all(s["name"].startswith("p-") for s in by_reporter)

    notices = desk.api.get("/notices", params=where | {"period": period}, headers=reporter)
    assert notices.status_code == 200 and {n["reference"] for n in notices.json()} == {notice_reference(first), notice_reference(second)}
    assert all(n["named"] is None for n in notices.json())
    for leak in ("emp-31", "emp-32", "p-", first, second):
        assert leak not in notices.text, leak

    assert desk.api.get("/payroll", params=where | {"period": period}, headers=reporter).status_code == 403
    export = desk.api.get("/payroll", params=where | {"period": period}, headers=desk.finance)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted((r["payment_reference"], r["report_id"], r["amount_fen"], r["amount_yuan"], r["approver"]) for r in rows) == [
        ("PAY-A", first, "10000", "100.00", HEAD),
        ("PAY-B", second, "12345", "123.45", HEAD),
    ]
    assert all(r["reporter"].startswith("p-") and r["channel"] == "payroll" for r in rows)
    assert "emp-31" not in export.text and "emp-32" not in export.text
    last_year = desk.api.get("/payroll", params=where | {"period": str(int(period[:4]) - 1)}, headers=desk.finance)
    assert list(csv.reader(io.StringIO(last_year.text)))[1:] == []
    other = desk.api.get("/payroll", params={"tenant": "mine", "period": period}, headers=desk.finance)
    assert other.status_code == 403
    assert desk.api.get("/rewards/totals", params=where, headers=desk.finance).json()["granted"] == 2


def test_a_repeated_claim_gets_the_same_voucher_which_no_key_of_the_services_computes(desk, harness):
    report_id, receipt = desk.file(ANONYMOUS, anonymous=True)
    desk.verify(report_id, confirmed("general"))
    desk.approved(report_id)
    voucher = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": receipt}).json()["voucher_code"]
    again = desk.api.post(f"/rewards/{report_id}/claim", headers={"Receipt-Code": receipt.lower().replace("-", " ")})
    assert (again.status_code, again.json()["voucher_code"]) == (201, voucher)
    assert desk.types(report_id).count("RewardClaimed") == 1
    keys = [harness.common["pseudonym_key"].encode(), *(p.read_bytes().strip() for p in (harness.tmp_path / "secrets").glob("*.key"))]
    made_with_keys = {
        base64.b32encode(hmac.new(key, f"voucher\x1frefinery\x1f{report_id}".encode(), hashlib.sha256).digest()).decode()[:16]
        for key in keys
    }
    assert voucher.replace("-", "") not in made_with_keys  # as vouchers used to be made: now only the receipt makes it
    assert desk.pay(report_id, "CASH-18", voucher_code=voucher).status_code == 201