"""Each reward anomaly the reconciliation looks for, on hand-made logs."""

from hazardloop.audit.payouts import reconcile_rewards
from tests.factories import paid_report


def kinds(*events):
    return [f.kind for f in reconcile_rewards(enumerate(events, start=1))]


def test_a_complete_trail_has_no_findings():
    assert kinds(*paid_report()) == []


def test_a_payment_without_approval_and_a_commitment_without_approval_are_found():
    filed, check, proposal, commitment, approval, grant = paid_report()
    assert kinds(filed, check, proposal, commitment, grant) == ["paid without approval", "budget taken, no approval"]


def test_an_approval_that_took_nothing_from_the_budget_is_found():
    filed, check, proposal, commitment, approval, grant = paid_report()
    assert kinds(filed, check, proposal, approval, grant) == ["approved outside the budget"]


def test_a_verified_report_without_any_decision_is_found():
    filed, check, *_ = paid_report()
    assert kinds(filed, check) == ["verified, no reward decision"]
