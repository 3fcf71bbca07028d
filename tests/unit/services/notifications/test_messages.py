import pytest

from hazardloop.events import GENESIS_HASH, Rectified, RewardDeclined, RewardGranted
from hazardloop_notifications.messages import message_for, yuan
from tests.factories import REPORTER, report_filed, verified


def reward(amount: int) -> RewardGranted:
    return RewardGranted.record(
        prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="r1", actor="policy", report_id="r1",
        reporter=REPORTER, amount_fen=amount, outcome="confirmed_hazard", grade="general", policy="t",
        payment_reference="PAY-1", approved_by="head-liu",
    )


@pytest.mark.parametrize(
    "event, kind, phrase",
    [
        (report_filed(), "received", "AT-2031"),
        (verified(report_filed(), "confirmed_hazard", "major"), "verified", "major hazard"),
        (verified(report_filed(), "valid_not_hazard", None), "verified", "not a hazard"),
        (verified(report_filed(), "not_confirmed", None), "verified", "could not be confirmed"),
        (Rectified.record(prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="r1", actor="o", measures="valve swapped"),
         "rectified", "valve swapped"),
        (reward(10_050), "rewarded", "100.50 yuan"),
        (RewardDeclined.record(prev_hash=GENESIS_HASH, tenant="refinery", aggregate_id="r1", actor="p", report_id="r1",
                               reporter=REPORTER, reason="no"), "not_rewarded", "No reward"),
    ],
)
def test_every_step_tells_the_reporter_something_specific(event, kind, phrase):
    assert message_for(event) == (kind, message_for(event)[1])
    assert message_for(event)[0] == kind and phrase in message_for(event)[1]


def test_fen_are_shown_as_yuan_exactly():
    assert yuan(0) == "0.00" and yuan(5) == "0.05" and yuan(30_000_00) == "30000.00"
