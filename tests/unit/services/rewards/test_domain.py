import pytest

from hazardloop.events import RewardDeclined, RewardGranted
from hazardloop_rewards.domain import GradeTable, decide_reward
from tests.factories import REPORTER, report_filed, verified


@pytest.mark.parametrize(
    "outcome, grade, amount",
    [("confirmed_hazard", "general", 10_000), ("confirmed_hazard", "larger", 50_000),
     ("confirmed_hazard", "major", 200_000), ("valid_not_hazard", None, 2_000)],
)
def test_bigger_hazards_earn_bigger_rewards(outcome, grade, amount):
    decision = decide_reward(verified(report_filed(), outcome, grade), reporter=REPORTER, table=GradeTable())
    assert isinstance(decision, RewardGranted)
    assert decision.amount_fen == amount and decision.reporter == REPORTER and decision.policy == "grade-table-v1"


def test_unconfirmed_reports_get_an_explicit_decline():
    decision = decide_reward(verified(report_filed(), "not_confirmed", None), reporter=REPORTER, table=GradeTable())
    assert isinstance(decision, RewardDeclined) and "not_confirmed" in decision.reason


def test_decision_is_deterministic_per_verification_and_traces_its_cause():
    event = verified(report_filed())
    first = decide_reward(event, reporter=REPORTER, table=GradeTable())
    again = decide_reward(event, reporter=REPORTER, table=GradeTable())
    assert first.event_id == again.event_id
    assert first.causation_id == event.event_id and first.correlation_id == event.correlation_id
    assert first.aggregate_id == event.aggregate_id == first.report_id


def test_grade_table_is_configurable_in_fen():
    table = GradeTable(name="custom", general=12_345)
    decision = decide_reward(verified(report_filed()), reporter=REPORTER, table=table)
    assert decision.amount_fen == 12_345 and decision.policy == "custom"
    with pytest.raises(ValueError):
        GradeTable(general=1.5)
