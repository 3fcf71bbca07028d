"""Rewards' command handlers on an in-memory log: what each records, what each refuses, and
how a reward and the year's budget stay true to each other when commands race or the log
goes away half-way, without a broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hazardloop.errors import Invalid
from hazardloop.events import (
    BaseAmounts,
    Event,
    RewardApproved,
    RewardPolicy,
    SealedText,
    Verified,
)
from hazardloop.log.eventstore import Appended, EventStoreUnavailable
from hazardloop.privacy.sealing import TextVault
from hazardloop.testing import InMemoryEventStore
from hazardloop_rewards.commands import RewardCommands, RewardDecisions
from hazardloop_rewards.domain import POLICY_ID, Grading, NotAllowed, Reward, budget_id, voucher_for
from tests.clock import ManualClock
from tests.factories import REPORTER, report_filed, verified

TENANT = "refinery"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
YEAR = budget_id(2026)
REPORTING_EMPLOYEE = "emp-1"
HEAD, OTHER_HEAD, HQ, FINANCE, LEADER = "head-liu", "head-2", "hq-wang", "fin-zhao", "leader-sun"


class TextsInProcess(TextVault):
    """The real sealing, its data keys kept in a dict instead of the broker's bucket."""

    def __init__(self) -> None:
        super().__init__(None, lambda tenant: [b"m" * 32], bucket="text-keys")  # type: ignore[arg-type]  # no broker
        self.kept: dict[tuple[str, str], bytes] = {}

    async def data_key(self, tenant: str, key_id: str, *, create: bool, new: bool = False) -> bytes | None:
        if create:
            self.kept.setdefault((tenant, key_id), AESGCM.generate_key(bit_length=256))
        return self.kept.get((tenant, key_id))


class Log(InMemoryEventStore):
    """The in-memory log, on which a rival's write can land just before a chosen append."""

    rival: tuple[Callable[[Event], bool], Callable[[], Awaitable[object]]] | None = None

    def just_before(self, append_of: Callable[[Event], bool], rival: Callable[[], Awaitable[object]]) -> None:
        self.rival = (append_of, rival)

    async def append(self, event: Event, *, expected_version: int) -> Appended:
        if self.rival is not None and self.rival[0](event):
            rival, self.rival = self.rival[1], None
            await rival()
        return await super().append(event, expected_version=expected_version)


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def texts() -> TextsInProcess:
    return TextsInProcess()


@pytest.fixture
def commands(log: Log, texts: TextsInProcess) -> RewardCommands:
    pseudonyms = {(TENANT, REPORTING_EMPLOYEE): REPORTER}

    async def pseudonym_of(tenant: str, subject: str) -> str | None:
        return pseudonyms.get((tenant, subject))

    return RewardCommands(log, texts.sealing, pseudonym_of, ManualClock(NOW), ZoneInfo("Asia/Shanghai"))


async def events_of(log: Log, aggregate_type: str, aggregate_id: str) -> list[Event]:
    return [stored.event for stored in (await log.load(TENANT, aggregate_type, aggregate_id)).events]


async def types_of(log: Log, aggregate_type: str, aggregate_id: str) -> list[str]:
    return [event.type for event in await events_of(log, aggregate_type, aggregate_id)]


async def verify(log: Log, outcome: str = "confirmed_hazard", grade: str | None = "larger", **filing) -> Verified:
    """A report filed and verified in the log, and the reward decision its verification makes."""
    filed = report_filed(TENANT, **filing)
    checked = verified(filed, outcome, grade, occurred_at=NOW)
    await log.append(filed, expected_version=0)
    await log.append(checked, expected_version=(await log.load(TENANT, "report", filed.aggregate_id)).version)
    await RewardDecisions(log).when_verified_propose_reward(checked)
    return checked


async def proposed(log: Log, grade: str = "larger", **filing) -> str:
    """A report whose reward is proposed (50,000 fen for a larger hazard, by the defaults)."""
    return (await verify(log, grade=grade, **filing)).aggregate_id


# --- proposing on verification -------------------------------------------------------------


async def test_a_verification_proposes_its_reward_once_by_the_policy_in_force_when_it_was_made(log, commands):
    await commands.set_policy(TENANT, RewardPolicy(name="refinery-2026", base=BaseAmounts(larger=60_000)), None, actor=HEAD)
    checked = await verify(log)
    await RewardDecisions(log).when_verified_propose_reward(checked)  # redelivered

    [proposal] = await events_of(log, "reward", checked.aggregate_id)
    assert (proposal.type, proposal.amount_fen, proposal.policy, proposal.proposer) == ("RewardProposed", 60_000, "refinery-2026", "verifier-1")
    assert proposal.causation_id == checked.event_id and proposal.reporter == REPORTER


async def test_a_report_not_confirmed_is_declined_by_policy_and_a_duplicate_follows_the_original_grading(log, commands):
    unconfirmed = await verify(log, "not_confirmed", None)
    assert await types_of(log, "reward", unconfirmed.aggregate_id) == ["RewardDeclined"]

    await commands.set_policy(TENANT, RewardPolicy(duplicate_percent=20), None, actor=HEAD)
    original = await verify(log, grade="larger")
    later = report_filed(TENANT)
    duplicate = Verified.record(
        prev_hash=later.hash, tenant=TENANT, aggregate_id=later.aggregate_id, actor="verifier-1", occurred_at=NOW,
        outcome="duplicate", duplicate_of=original.aggregate_id, first_report_id=original.aggregate_id,
    )  # fmt: skip
    await log.append(later, expected_version=0)
    await log.append(duplicate, expected_version=(await log.load(TENANT, "report", later.aggregate_id)).version)
    await RewardDecisions(log).when_verified_propose_reward(duplicate)
    [share] = await events_of(log, "reward", later.aggregate_id)
    assert (share.type, share.amount_fen, share.first_report_id) == ("RewardProposed", 10_000, original.aggregate_id)


# --- approving, referring, declining ---------------------------------------------------------


async def test_an_approval_within_the_budget_takes_its_amount_from_it(log, commands):
    await commands.set_budget(TENANT, 2026, 60_000, actor=LEADER)
    report_id = await proposed(log)

    [approval] = await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)

    assert (approval.type, approval.amount_fen, approval.actor, approval.budget_year) == ("RewardApproved", 50_000, HEAD, 2026)
    assert await types_of(log, "reward", report_id) == ["RewardProposed", "RewardApproved"]
    committed = (await events_of(log, "budget", YEAR))[-1]
    assert (committed.type, committed.report_id, committed.amount_fen, committed.over_budget) == ("BudgetCommitted", report_id, 50_000, False)


async def test_an_approval_beyond_what_is_left_is_referred_to_group_hq_who_approve_it_over_budget(log, commands):
    await commands.set_budget(TENANT, 2026, 60_000, actor=LEADER)
    first, second = await proposed(log), await proposed(log)
    await commands.approve(TENANT, first, amount_fen=None, reason=None, actor=HEAD)

    [referral] = await commands.approve(TENANT, second, amount_fen=None, reason=None, actor=HEAD)
    assert (referral.type, referral.reason) == ("RewardReferred", "over_budget")
    assert await types_of(log, "budget", YEAR) == ["RewardBudgetSet", "BudgetCommitted"], "a referral takes nothing"

    with pytest.raises(NotAllowed, match="referring head"):
        await commands.approve_at_hq(TENANT, second, reason=None, actor=HEAD)
    [approval] = await commands.approve_at_hq(TENANT, second, reason="a real hazard: pay it over budget", actor=HQ)
    assert (approval.type, approval.level, approval.amount_fen) == ("RewardApproved", "group_hq", 50_000)
    commitment = (await events_of(log, "budget", YEAR))[-1]
    assert (commitment.type, commitment.report_id, commitment.over_budget) == ("BudgetCommitted", second, True)


async def test_an_amount_above_the_cap_is_referred_to_group_hq_taking_nothing(log, commands):
    report_id = await proposed(log, grade="major")

    [referral] = await commands.approve(TENANT, report_id, amount_fen=3_000_000, reason="it averted a reactor fire", actor=HEAD)

    assert (referral.type, referral.reason, referral.amount_fen) == ("RewardReferred", "above_cap", 3_000_000)
    assert await types_of(log, "budget", YEAR) == []


async def test_a_decline_records_its_reason_sealed_under_the_report_key(log, commands, texts):
    report_id = await proposed(log)

    [declined] = await commands.decline(TENANT, report_id, reason="a drill, not a hazard", actor=HEAD)

    assert declined.type == "RewardDeclined" and isinstance(declined.reason, SealedText) and declined.reason.key_id == report_id
    assert await texts.open(TENANT, declined.reason) == "a drill, not a hazard"
    assert await types_of(log, "reward", report_id) == ["RewardProposed", "RewardDeclined"]
    with pytest.raises(NotAllowed) as refused:
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=OTHER_HEAD)
    assert refused.value.state == "declined"


async def test_the_reporter_and_the_proposer_cannot_approve_and_nothing_is_recorded(log, commands):
    report_id = await proposed(log)
    with pytest.raises(NotAllowed, match="reporter"):
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=REPORTING_EMPLOYEE)
    with pytest.raises(NotAllowed, match="proposer"):
        await commands.decline(TENANT, report_id, reason="not credible", actor="verifier-1")
    assert await types_of(log, "reward", report_id) == ["RewardProposed"]


# --- the reward and the budget, when commands race or the log goes away --------------------


async def test_an_approval_that_lost_its_race_to_a_decline_gives_its_amount_back_before_it_is_refused(log, commands):
    await commands.set_budget(TENANT, 2026, 100_000, actor=LEADER)
    report_id = await proposed(log)

    async def declined_meanwhile() -> None:  # lands after the approval took its amount, before it records it
        history = await log.load(TENANT, "reward", report_id)
        [declined] = Reward.from_history(TENANT, report_id, history).decline(reason="not credible", actor=OTHER_HEAD, pseudonym=None, now=NOW)
        await log.append(declined, expected_version=history.version)

    log.just_before(lambda event: isinstance(event, RewardApproved), declined_meanwhile)
    with pytest.raises(NotAllowed) as refused:
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)

    assert refused.value.state == "declined"
    assert await types_of(log, "reward", report_id) == ["RewardProposed", "RewardDeclined"]
    assert await types_of(log, "budget", YEAR) == ["RewardBudgetSet", "BudgetCommitted", "BudgetReleased"]


async def test_racing_approvals_cannot_both_spend_what_is_left(log, commands):
    await commands.set_budget(TENANT, 2026, 60_000, actor=LEADER)
    first, second = await proposed(log), await proposed(log)

    async def rival_approval() -> None:  # takes what is left just before the first approval takes it
        await commands.approve(TENANT, second, amount_fen=None, reason=None, actor=OTHER_HEAD)

    log.just_before(lambda event: event.type == "BudgetCommitted", rival_approval)
    [outcome] = await commands.approve(TENANT, first, amount_fen=None, reason=None, actor=HEAD)

    assert (outcome.type, outcome.reason) == ("RewardReferred", "over_budget")
    commitments = [e for e in await events_of(log, "budget", YEAR) if e.type == "BudgetCommitted"]
    assert [(e.report_id, e.amount_fen) for e in commitments] == [(second, 50_000)]


async def test_a_commitment_left_by_an_approval_cut_short_is_used_when_the_approval_comes_again(log, commands):
    await commands.set_budget(TENANT, 2026, 60_000, actor=LEADER)
    report_id = await proposed(log)

    log.just_before(lambda event: isinstance(event, RewardApproved), lambda: _outage(log))
    with pytest.raises(EventStoreUnavailable):
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)
    assert await types_of(log, "reward", report_id) == ["RewardProposed"]

    [approval] = await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)
    assert approval.type == "RewardApproved", "approved, not referred: the commitment it left is its own"
    assert await types_of(log, "budget", YEAR) == ["RewardBudgetSet", "BudgetCommitted"]


async def test_a_commitment_left_by_an_approval_cut_short_is_given_back_when_the_reward_is_declined(log, commands):
    await commands.set_budget(TENANT, 2026, 100_000, actor=LEADER)
    report_id = await proposed(log)
    log.just_before(lambda event: isinstance(event, RewardApproved), lambda: _outage(log))
    with pytest.raises(EventStoreUnavailable):
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)

    [declined] = await commands.decline(TENANT, report_id, reason="not credible on review", actor=OTHER_HEAD)

    assert declined.type == "RewardDeclined"
    assert await types_of(log, "budget", YEAR) == ["RewardBudgetSet", "BudgetCommitted", "BudgetReleased"]


async def _outage(log: Log) -> None:
    log.fail_next(1)


# --- paying, recognising, revoking, claiming -----------------------------------------------


async def test_finance_pays_an_approved_reward_once_and_not_as_its_approver(log, commands):
    report_id = await proposed(log)
    with pytest.raises(NotAllowed) as early:
        await commands.pay(TENANT, report_id, reference="PAY-1", voucher_code=None, actor=FINANCE)
    assert early.value.state == "proposed"
    await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)
    with pytest.raises(NotAllowed, match="approver"):
        await commands.pay(TENANT, report_id, reference="PAY-1", voucher_code=None, actor=HEAD)

    [grant] = await commands.pay(TENANT, report_id, reference="PAY-1", voucher_code=None, actor=FINANCE)

    assert (grant.type, grant.amount_fen, grant.payment_reference, grant.approved_by, grant.channel) == (
        "RewardGranted", 50_000, "PAY-1", HEAD, "payroll",
    )  # fmt: skip
    with pytest.raises(NotAllowed) as twice:
        await commands.pay(TENANT, report_id, reference="PAY-2", voucher_code=None, actor="fin-2")
    assert twice.value.state == "granted"


async def test_a_paid_reward_is_revoked_by_a_new_event_with_its_reason(log, commands):
    report_id = await proposed(log)
    with pytest.raises(NotAllowed):
        await commands.revoke(TENANT, report_id, reason="staged hazard", actor=LEADER)
    await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)
    await commands.pay(TENANT, report_id, reference="PAY-1", voucher_code=None, actor=FINANCE)

    [revoked] = await commands.revoke(TENANT, report_id, reason="staged hazard", actor=LEADER)

    assert (revoked.type, revoked.amount_fen) == ("RewardRevoked", 50_000)
    assert await types_of(log, "reward", report_id) == ["RewardProposed", "RewardApproved", "RewardGranted", "RewardRevoked"]


async def test_only_the_named_reporter_decides_how_the_notice_names_them(log, commands, texts):
    report_id = await proposed(log)
    with pytest.raises(NotAllowed, match="named reporter"):
        await commands.recognise(TENANT, report_id, "Wang Fang", subject=HEAD)

    [consent] = await commands.recognise(TENANT, report_id, "Wang Fang", subject=REPORTING_EMPLOYEE)
    [withdrawal] = await commands.recognise(TENANT, report_id, None, subject=REPORTING_EMPLOYEE)

    assert (consent.type, consent.actor, await texts.open(TENANT, consent.display_name)) == ("RecognitionConsented", REPORTER, "Wang Fang")
    assert withdrawal.type == "RecognitionWithdrawn"


async def test_an_anonymous_claim_gives_the_same_voucher_again_and_the_payout_needs_it(log, commands):
    report_id = await proposed(log, anonymous=True, receipt_digest="0" * 64)
    await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)

    voucher = await commands.claim(TENANT, report_id, "ABCD-1234-EF")
    assert voucher == voucher_for("ABCD-1234-EF", TENANT, report_id)
    assert await commands.claim(TENANT, report_id, "abcd 1234 ef") == voucher, "the same claim, typed loosely, after a lost answer"
    assert (await types_of(log, "reward", report_id)).count("RewardClaimed") == 1
    with pytest.raises(Invalid):
        await commands.pay(TENANT, report_id, reference="V-1", voucher_code="WRONG-VOUCHER-1", actor=FINANCE)

    [grant] = await commands.pay(TENANT, report_id, reference="V-1", voucher_code=voucher, actor=FINANCE)
    assert grant.channel == "voucher"


# --- the policy and the budget -----------------------------------------------------------------


async def test_a_policy_takes_effect_now_or_later_and_a_preview_applies_the_one_in_force(log, commands):
    policy = RewardPolicy(name="refinery-2027", base=BaseAmounts(general=15_000))
    with pytest.raises(Invalid) as backdated:
        await commands.set_policy(TENANT, policy, NOW - timedelta(hours=1), actor=HEAD)
    with pytest.raises(Invalid):
        await commands.set_policy(TENANT, policy, NOW + timedelta(days=4 * 365), actor=HEAD)
    assert backdated.value.field == "effective_from" and await types_of(log, "policy", POLICY_ID) == []

    later = await commands.set_policy(TENANT, policy, NOW + timedelta(days=30), actor=HEAD)
    grading = Grading(tenant=TENANT, outcome="confirmed_hazard", grade="general")
    assert (await commands.preview(grading)).amount_fen == 10_000, "the defaults, until it takes effect"

    now = await commands.set_policy(TENANT, policy, None, actor=HEAD)
    preview = await commands.preview(grading)
    assert (later.effective_from, now.effective_from) == (NOW + timedelta(days=30), NOW)
    assert (preview.amount_fen, preview.policy, preview.above_cap) == (15_000, "refinery-2027", False)
    assert await types_of(log, "policy", POLICY_ID) == ["RewardPolicySet", "RewardPolicySet"]


async def test_setting_the_budget_it_already_has_records_nothing(log, commands):
    assert [e.amount_fen for e in await commands.set_budget(TENANT, 2026, 60_000, actor=LEADER)] == [60_000]
    assert await commands.set_budget(TENANT, 2026, 60_000, actor=FINANCE) == []
    assert [e.amount_fen for e in await commands.set_budget(TENANT, 2026, 80_000, actor=FINANCE)] == [80_000]
    assert await types_of(log, "budget", YEAR) == ["RewardBudgetSet", "RewardBudgetSet"]


async def test_an_outage_answers_unavailable_and_records_nothing(log, commands):
    report_id = await proposed(log)
    log.fail_next(1)
    with pytest.raises(EventStoreUnavailable):
        await commands.approve(TENANT, report_id, amount_fen=None, reason=None, actor=HEAD)
    assert await types_of(log, "reward", report_id) == ["RewardProposed"]

