"""The reward and budget aggregates: three steps, four people, once, within budget."""

from datetime import UTC, datetime

import pytest

from hazardloop.errors import Invalid
from hazardloop.events import RewardBudgetSet, RewardPolicy
from hazardloop.log.eventstore import History, StoredEvent
from hazardloop.privacy.receipts import receipt_digest
from hazardloop_rewards.domain import Budget, NotAllowed, Reward, Stage, decide_on_verification, within_budget
from tests.factories import REPORTER, report_filed, verified

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
OTHER = "p-" + "cd" * 16


def history(*events):
    return History(tuple(StoredEvent(i + 1, e) for i, e in enumerate(events)))


def proposal(grade="larger", anonymous=False, policy=RewardPolicy()):
    filed = report_filed(**({"anonymous": True, "receipt_digest": "0" * 64} if anonymous else {}))
    return decide_on_verification(verified(filed, "confirmed_hazard", grade), filed, policy, policy_effective_from=None)


def reward_of(*events) -> Reward:
    return Reward.from_history(events[0].tenant, events[0].aggregate_id, history(*events))


def no_budget(year=2026) -> Budget:
    return Budget("refinery", year)


def approved(**kwargs):
    proposed = proposal(**kwargs)
    [approval] = reward_of(proposed).approve(amount_fen=None, reason=None, actor="head-liu", pseudonym=OTHER, now=NOW, budget=no_budget())
    return proposed, approval


def test_a_verification_proposes_once_with_its_breakdown_and_the_verifier_as_proposer():
    proposed = proposal()
    assert proposed.type == "RewardProposed" and proposed.amount_fen == 50_000 and proposed.proposer == "verifier-1"
    assert [line.rule for line in proposed.breakdown] == ["base"] and proposed.reporter == REPORTER


def test_the_same_verification_always_yields_the_same_decision_id():
    filed = report_filed()
    event = verified(filed)
    first = decide_on_verification(event, filed, RewardPolicy(), policy_effective_from=None)
    again = decide_on_verification(event, filed, RewardPolicy(), policy_effective_from=None)
    assert first.event_id == again.event_id and first.causation_id == event.event_id


def test_an_unconfirmed_report_is_declined_explicitly():
    filed = report_filed()
    decision = decide_on_verification(verified(filed, "not_confirmed", None), filed, RewardPolicy(), policy_effective_from=None)
    assert decision.type == "RewardDeclined" and "not_confirmed" in decision.reason


def test_four_different_people_reporter_proposer_approver_payer():
    proposed = proposal()
    with pytest.raises(NotAllowed, match="proposer"):
        reward_of(proposed).approve(amount_fen=None, reason=None, actor="verifier-1", pseudonym=OTHER, now=NOW, budget=no_budget())
    with pytest.raises(NotAllowed, match="reporter"):
        reward_of(proposed).approve(amount_fen=None, reason=None, actor="head-liu", pseudonym=REPORTER, now=NOW, budget=no_budget())
    proposed, approval = approved()
    with pytest.raises(NotAllowed, match="approver"):
        reward_of(proposed, approval).pay(reference="PAY-1", voucher_digest=None, actor="head-liu", pseudonym=OTHER, now=NOW)
    with pytest.raises(NotAllowed, match="proposer"):
        reward_of(proposed, approval).pay(reference="PAY-1", voucher_digest=None, actor="verifier-1", pseudonym=OTHER, now=NOW)
    [grant] = reward_of(proposed, approval).pay(reference="PAY-1", voucher_digest=None, actor="finance-zhao", pseudonym=OTHER, now=NOW)
    assert grant.amount_fen == 50_000 and grant.approved_by == "head-liu" and grant.payment_reference == "PAY-1"


def test_an_adjustment_needs_a_reason_and_is_recorded_beside_the_proposal():
    proposed = proposal()
    with pytest.raises(Invalid) as missing:
        reward_of(proposed).approve(amount_fen=60_000, reason=None, actor="head-liu", pseudonym=OTHER, now=NOW, budget=no_budget())
    assert missing.value.field == "reason"
    [approval] = reward_of(proposed).approve(amount_fen=60_000, reason="Stopped a likely fire", actor="head-liu", pseudonym=OTHER, now=NOW, budget=no_budget())
    assert approval.amount_fen == 60_000 and approval.proposed_fen == 50_000


def test_above_the_cap_goes_to_group_hq_and_hq_is_someone_else():
    proposed = proposal()
    [referred] = reward_of(proposed).approve(
        amount_fen=3_000_000, reason="Averted a reactor fire", actor="head-liu", pseudonym=OTHER, now=NOW, budget=no_budget()
    )
    assert referred.type == "RewardReferred" and referred.reason == "above_cap"
    with pytest.raises(NotAllowed):
        reward_of(proposed, referred).approve_at_hq(reason=None, actor="head-liu", pseudonym=OTHER, now=NOW, budget=no_budget())
    with pytest.raises(NotAllowed, match="referred"):
        reward_of(proposed, referred).pay(reference="x", voucher_digest=None, actor="finance-zhao", pseudonym=OTHER, now=NOW)
    [approval] = reward_of(proposed, referred).approve_at_hq(reason="Exceptional", actor="hq-chen", pseudonym=OTHER, now=NOW, budget=no_budget())
    assert approval.level == "group_hq" and approval.amount_fen == 3_000_000


def test_beyond_the_budget_waits_for_hq_instead_of_paying_or_dropping():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=40_000)
    budget = Budget.from_history("refinery", 2026, history(set_budget))
    assert budget.remaining == 40_000 and not budget.allows(50_000)
    [referred] = reward_of(proposal()).approve(amount_fen=None, reason=None, actor="head-liu", pseudonym=OTHER, now=NOW, budget=budget)
    assert referred.reason == "over_budget"
    commitment = budget.commit("r-1", 50_000, actor="hq-chen", now=NOW)
    assert commitment.over_budget and Budget.from_history("refinery", 2026, history(set_budget, commitment)).remaining == -10_000
    again = Budget.from_history("refinery", 2026, history(set_budget, commitment)).commit("r-1", 50_000, actor="hq-chen", now=NOW)
    assert again is None, "a retried approval takes from the budget once"


@pytest.mark.parametrize(
    ("steps", "command", "state"),
    [
        (1, "approve", "approved"),  # approving twice
        (0, "pay", "proposed"),  # paying before approval
        ("declined", "pay", "declined"),  # paying a declined reward
        (2, "pay", "granted"),  # paying twice
    ],
)
def test_invalid_steps_are_refused_naming_the_state(steps, command, state):
    proposed, approval = approved()
    events = {0: [proposed], 1: [proposed, approval]}.get(steps)
    if steps == "declined":
        events = [proposed, *reward_of(proposed).decline(reason="Not credible", actor="head-liu", pseudonym=OTHER, now=NOW)]
    if steps == 2:
        events = [proposed, approval, *reward_of(proposed, approval).pay(reference="P", voucher_digest=None, actor="fin", pseudonym=OTHER, now=NOW)]
    reward = reward_of(*events)
    with pytest.raises(NotAllowed) as refused:
        if command == "approve":
            reward.approve(amount_fen=None, reason=None, actor="head-2", pseudonym=OTHER, now=NOW, budget=no_budget())
        else:
            reward.pay(reference="P2", voucher_digest=None, actor="fin-2", pseudonym=OTHER, now=NOW)
    assert refused.value.state == state


def test_an_anonymous_reward_is_paid_only_against_the_claimed_voucher():
    proposed, approval = approved(anonymous=True)
    with pytest.raises(NotAllowed, match="claimed"):
        reward_of(proposed, approval).pay(reference="V-1", voucher_digest=None, actor="fin", pseudonym=OTHER, now=NOW)
    [claimed] = reward_of(proposed, approval).claim(receipt_digest("ABCD-1234-EF"), now=NOW)
    assert reward_of(proposed, approval, claimed).claim(receipt_digest("ABCD-1234-EF"), now=NOW) == [], "the same claim again"
    with pytest.raises(NotAllowed):
        reward_of(proposed, approval, claimed).claim(receipt_digest("OTHER-CODE-1"), now=NOW)
    with pytest.raises(Invalid):
        reward_of(proposed, approval, claimed).pay(reference="V-1", voucher_digest=receipt_digest("WRONG-CODE"), actor="fin", pseudonym=OTHER, now=NOW)
    [grant] = reward_of(proposed, approval, claimed).pay(reference="V-1", voucher_digest=receipt_digest("abcd 1234 ef"), actor="fin", pseudonym=OTHER, now=NOW)
    assert grant.channel == "voucher"


def test_a_revocation_is_a_new_event_after_payment():
    proposed, approval = approved()
    with pytest.raises(NotAllowed):
        reward_of(proposed, approval).revoke(reason="Staged hazard", actor="leader", now=NOW)
    [grant] = reward_of(proposed, approval).pay(reference="P", voucher_digest=None, actor="fin", pseudonym=OTHER, now=NOW)
    [revoked] = reward_of(proposed, approval, grant).revoke(reason="Staged hazard", actor="leader", now=NOW)
    assert revoked.amount_fen == 50_000 and reward_of(proposed, approval, grant, revoked).stage == Stage.REVOKED


def test_a_commitment_whose_approval_never_landed_is_given_back_and_can_be_taken_again():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=100_000)
    budget = Budget.from_history("refinery", 2026, history(set_budget))
    taken = budget.commit("r-1", 50_000, actor="head", now=NOW)
    after = Budget.from_history("refinery", 2026, history(set_budget, taken))
    released = after.release("r-1", actor="policy:rewards", now=NOW)
    again = Budget.from_history("refinery", 2026, history(set_budget, taken, released))
    assert again.remaining == 100_000 and again.release("r-1", actor="x", now=NOW) is None
    retaken = again.commit("r-1", 60_000, actor="hq", now=NOW)
    assert retaken is not None and retaken.event_id != taken.event_id, "a new commitment, not deduplicated as the old one"


def test_an_approval_retried_with_another_amount_gives_back_the_first_and_takes_the_second():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=100_000)
    first = Budget.from_history("refinery", 2026, history(set_budget)).take("r-1", 30_000, actor="head", now=NOW)
    assert [e.type for e in first] == ["BudgetCommitted"]
    budget = Budget.from_history("refinery", 2026, history(set_budget, *first))
    assert budget.take("r-1", 30_000, actor="head", now=NOW) == [], "a retry with the same amount takes nothing more"
    again = Budget.from_history("refinery", 2026, history(set_budget, *first)).take("r-1", 45_000, actor="head", now=NOW)
    assert [e.type for e in again] == ["BudgetReleased", "BudgetCommitted"] and again[1].prev_hash == again[0].hash
    assert Budget.from_history("refinery", 2026, history(set_budget, *first, *again)).remaining == 55_000


def approve(reward: Reward, budget: Budget) -> list:
    return reward.approve(amount_fen=None, reason=None, actor="head-liu", pseudonym=OTHER, now=NOW, budget=budget)


def test_an_approval_takes_from_the_budget_before_the_reward_records_it():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=100_000)
    proposed = proposal()
    decision = within_budget(reward_of(proposed), Budget.from_history("refinery", 2026, history(set_budget)), approve, now=NOW)
    assert [e.type for e in decision.events] == ["BudgetCommitted", "RewardApproved"] and decision.refusal is None
    assert [e.type for e in decision.decided] == ["RewardApproved"], "the command answers with the reward's own events"


def test_a_reward_declined_under_an_approval_gives_its_commitment_back_and_refuses_it():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=100_000)
    proposed = proposal()
    taken = Budget.from_history("refinery", 2026, history(set_budget)).commit(proposed.aggregate_id, 50_000, actor="head-liu", now=NOW)
    declined = reward_of(proposed).decline(reason="Not credible", actor="head-2", pseudonym=OTHER, now=NOW)
    decision = within_budget(reward_of(proposed, *declined), Budget.from_history("refinery", 2026, history(set_budget, taken)), approve, now=NOW)
    assert [e.type for e in decision.events] == ["BudgetReleased"] and decision.decided == []
    assert isinstance(decision.refusal, NotAllowed) and decision.refusal.state == "declined"


def test_a_decline_gives_back_what_the_report_holds_only_after_the_reward_records_it():
    set_budget = RewardBudgetSet.record(prev_hash="0" * 64, tenant="refinery", aggregate_id="year-2026", actor="leader", year=2026, amount_fen=100_000)
    proposed = proposal()
    taken = Budget.from_history("refinery", 2026, history(set_budget)).commit(proposed.aggregate_id, 50_000, actor="head-liu", now=NOW)
    budget = Budget.from_history("refinery", 2026, history(set_budget, taken))

    def decline(reward: Reward, _: Budget) -> list:
        return reward.decline(reason="Not credible", actor="head-2", pseudonym=OTHER, now=NOW)

    assert [e.type for e in within_budget(reward_of(proposed), budget, decline, now=NOW).events] == ["RewardDeclined", "BudgetReleased"]
