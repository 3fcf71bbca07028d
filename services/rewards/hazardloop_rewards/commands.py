"""Rewards' handlers: the reaction that proposes once per verification, and the commands of
approvers, finance, anonymous claimants and those who set the policy and the budget.

Each loads from the log, lets the domain decide and appends through the event store's one
path (``decide``, or ``decide_many`` for a reward and the year's budget together), so a
lost race reloads and decides again against the winner's events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from hazardloop.errors import NotFound
from hazardloop.events import Event, Outcome, ReportFiled, RewardPolicy, RewardPolicySet, SignalRules, Verified
from hazardloop.log.eventstore import AggregateKey, AggregateStore, History
from hazardloop.privacy.receipts import receipt_digest
from hazardloop.timing.clock import Clock
from hazardloop_rewards.domain import (
    POLICY_ID,
    Budget,
    BudgetedDecision,
    Grading,
    PolicyVersions,
    Reward,
    RewardPreview,
    budget_id,
    budget_year,
    decide_on_verification,
    voucher_for,
    within_budget,
)
from hazardloop_rewards.signals.raised import Unrecorded, record_raised
from hazardloop_rewards.signals.review import RULES_ID, SignalReview, SignalRulesVersions, SignalSeen

Sealing = Callable[[str, str], AbstractAsyncContextManager[None]]
"""Seals the text of the events made inside under a report's key: ``(tenant, report id)``."""
PseudonymOf = Callable[[str, str], Awaitable[str | None]]
"""A person's pseudonym in a subsidiary, ``(tenant, subject)``: None if they never reported by name there."""


async def policy_versions(store: AggregateStore, tenant: str) -> PolicyVersions:
    return PolicyVersions.from_history(tenant, await store.load(tenant, "policy", POLICY_ID))


class RewardDecisions:
    """Proposes (or declines) the reward of each verified report, exactly once.

    Once is guaranteed by the broker: the decision creates the report's reward aggregate
    (expected sequence 0) with an id derived from the verification, so a redelivered,
    replayed or concurrently handled Verified cannot add a second one. The policy applied
    is the one in force when the report was verified, read from the log.
    """

    def __init__(self, store: AggregateStore) -> None:
        self._store = store

    async def when_verified_propose_reward(self, verified: Verified) -> None:
        existing = await self._store.load(verified.tenant, "reward", verified.aggregate_id)
        if existing.events:
            return
        filed = await self._filing(verified.tenant, verified.aggregate_id)
        grading = None
        if verified.outcome == Outcome.DUPLICATE:
            grading = await self._grading(verified.tenant, verified.duplicate_of)
        policy, effective_from = (await policy_versions(self._store, verified.tenant)).in_force(verified.occurred_at)
        decision = decide_on_verification(verified, filed, policy, policy_effective_from=effective_from, grading=grading)
        await self._store.append(decision, expected_version=0)

    async def _filing(self, tenant: str, report_id: str) -> ReportFiled:
        report = await self._store.load(tenant, "report", report_id)
        filed = report.events[0].event if report.events else None
        if not isinstance(filed, ReportFiled):
            raise NotFound(f"verified report {report_id} has no filing in the log")
        return filed

    async def _grading(self, tenant: str, report_id: str) -> Verified:
        """The verification of the report a duplicate was merged into."""
        history = await self._store.load(tenant, "report", report_id)
        for stored in history.events:
            if isinstance(stored.event, Verified):
                return stored.event
        raise NotFound(f"report {report_id}, which a duplicate was merged into, is not verified")


@dataclass(frozen=True, slots=True)
class RewardCommands:
    """The commands on rewards, the policy and the budget, with what they work with."""

    store: AggregateStore
    sealing: Sealing
    pseudonym_of: PseudonymOf
    clock: Clock
    timezone: ZoneInfo
    """Where the group is: the budget year is its calendar year."""

    # --- on one reward ---------------------------------------------------------------------

    async def _decide(self, tenant: str, report_id: str, decide: Callable[[Reward], list[Event]]) -> list[Event]:
        """Append what the reward decides, its text sealed under the report's key."""
        async with self.sealing(tenant, report_id):
            return await self.store.decide(
                tenant, "reward", report_id, lambda history: decide(Reward.from_history(tenant, report_id, history))
            )

    async def _within_budget(
        self, tenant: str, report_id: str, decide: Callable[[Reward, Budget], list[Event]], *, now: datetime
    ) -> list[Event]:
        """Decide on the reward with this year's budget (``within_budget``): the reward's events
        are the answer; a refusal is raised once what it gives back is appended."""
        year = budget_year(now, self.timezone)
        reward_key, budget_key = AggregateKey(tenant, "reward", report_id), AggregateKey(tenant, "budget", budget_id(year))
        made: list[BudgetedDecision] = []

        def decision(histories: Mapping[AggregateKey, History]) -> list[Event]:
            reward = Reward.from_history(tenant, report_id, histories[reward_key])
            made.append(within_budget(reward, Budget.from_history(tenant, year, histories[budget_key]), decide, now=now))
            return made[-1].events

        async with self.sealing(tenant, report_id):
            await self.store.decide_many([reward_key, budget_key], decision)
        if made[-1].refusal is not None:
            raise made[-1].refusal
        return made[-1].decided

    async def approve(self, tenant: str, report_id: str, *, amount_fen: int | None, reason: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(tenant, actor)
        return await self._within_budget(
            tenant, report_id,
            lambda reward, budget: reward.approve(amount_fen=amount_fen, reason=reason, actor=actor, pseudonym=me, now=now, budget=budget),
            now=now,
        )  # fmt: skip

    async def decline(self, tenant: str, report_id: str, *, reason: str, actor: str, hq: bool = False) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(tenant, actor)
        return await self._within_budget(
            tenant, report_id, lambda reward, _: reward.decline(reason=reason, actor=actor, pseudonym=me, now=now, hq=hq), now=now
        )

    async def approve_at_hq(self, tenant: str, report_id: str, *, reason: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(tenant, actor)
        return await self._within_budget(
            tenant, report_id,
            lambda reward, budget: reward.approve_at_hq(reason=reason, actor=actor, pseudonym=me, now=now, budget=budget),
            now=now,
        )  # fmt: skip

    async def pay(self, tenant: str, report_id: str, *, reference: str, voucher_code: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(tenant, actor)
        digest = receipt_digest(voucher_code) if voucher_code else None
        return await self._decide(
            tenant, report_id, lambda reward: reward.pay(reference=reference, voucher_digest=digest, actor=actor, pseudonym=me, now=now)
        )

    async def recognise(self, tenant: str, report_id: str, display_name: str | None, *, subject: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(tenant, subject)
        return await self._decide(tenant, report_id, lambda reward: reward.recognise(display_name, pseudonym=me, now=now))

    async def revoke(self, tenant: str, report_id: str, *, reason: str, actor: str) -> list[Event]:
        now = self.clock.now()
        return await self._decide(tenant, report_id, lambda reward: reward.revoke(reason=reason, actor=actor, now=now))

    async def claim(self, tenant: str, report_id: str, receipt_code: str) -> str:
        """An anonymous reporter's claim: a voucher code to collect the payout with.

        Derived from the receipt code the claimant holds, so a claim repeated after a lost
        answer gets the same voucher back, yet nobody else can compute it: the services
        keep only digests of both, and no key of theirs makes either.
        """
        voucher, now = voucher_for(receipt_code, tenant, report_id), self.clock.now()
        await self._decide(tenant, report_id, lambda reward: reward.claim(receipt_digest(voucher), now=now))
        return voucher

    # --- the policy and the budget ---------------------------------------------------------

    async def set_policy(self, tenant: str, policy: RewardPolicy, effective_from: datetime | None, *, actor: str) -> RewardPolicySet:
        """Set a new version of the policy; it applies to reports verified from its effective date."""
        now = self.clock.now()
        [event] = await self.store.decide(
            tenant, "policy", POLICY_ID,
            lambda history: PolicyVersions.from_history(tenant, history).set(policy, effective_from, actor=actor, now=now),
        )  # fmt: skip
        return event

    async def set_budget(self, tenant: str, year: int, amount_fen: int, *, actor: str) -> list[Event]:
        """Set the year's budget; setting the amount it already has records nothing (a PUT)."""
        now = self.clock.now()
        return await self.store.decide(
            tenant, "budget", budget_id(year), lambda history: Budget.from_history(tenant, year, history).set(amount_fen, actor=actor, now=now)
        )

    async def preview(self, grading: Grading) -> RewardPreview:
        """The reward ``grading`` would get by the policy in force now, from the log (so a
        policy set a moment ago counts); nothing is recorded."""
        return (await policy_versions(self.store, grading.tenant)).preview(grading, now=self.clock.now())

    # --- fraud signals ---------------------------------------------------------------------

    async def set_signal_rules(self, tenant: str, rules: SignalRules, *, actor: str) -> list[Event]:
        """Set the subsidiary's signal parameters; the ones in force already record nothing."""
        now = self.clock.now()
        return await self.store.decide(
            tenant, "signal_rules", RULES_ID, lambda history: SignalRulesVersions.from_history(tenant, history).set(rules, actor=actor, now=now)
        )

    async def _review(self, seen: SignalSeen, decide) -> list[Event]:
        """Append a reviewer's decision, its text sealed under the first report the signal names."""
        async with self.sealing(seen.tenant, seen.evidence[0]):
            return await self.store.decide(
                seen.tenant, "signal", seen.signal_id, lambda history: decide(SignalReview.from_history(seen.tenant, seen.signal_id, history))
            )

    async def dismiss_signal(self, seen: SignalSeen, *, reason: str, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(seen.tenant, actor)
        return await self._review(seen, lambda review: review.dismiss(seen, reason=reason, actor=actor, pseudonym=me, now=now))

    async def confirm_signal(self, seen: SignalSeen, *, note: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self.pseudonym_of(seen.tenant, actor)
        return await self._review(seen, lambda review: review.confirm(seen, note=note, actor=actor, pseudonym=me, now=now))

    async def record_raised(self, signal: Unrecorded) -> list[Event]:
        """Record that the rules raised ``signal``, once: nothing if its history holds it already."""
        now = self.clock.now()
        return await self.store.decide(signal.tenant, "signal", signal.signal_id, lambda history: record_raised(signal, history, now=now))
