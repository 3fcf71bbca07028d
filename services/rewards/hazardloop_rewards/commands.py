"""Rewards' handlers: the reaction that proposes once per verification, and the commands of
approvers, finance and anonymous claimants, each appended guarded by the broker."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hazardloop.timing.clock import Clock
from hazardloop.web.edge import FURTHEST_AHEAD
from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.events import (
    Event,
    Outcome,
    ReportFiled,
    RewardApproved,
    RewardBudgetSet,
    RewardPolicy,
    RewardPolicySet,
    Verified,
)
from hazardloop.log.eventstore import ConcurrencyError, EventStore
from hazardloop.privacy.receipts import normalised, receipt_digest
from hazardloop.runtime.service import Runtime
from hazardloop_rewards.domain import POLICY_ACTOR, Budget, Reward, Stage, budget_id, decide_on_verification
from hazardloop_rewards.policy import in_force

ATTEMPTS = 3
POLICY_ID = "rewards"


def voucher_for(receipt_code: str, tenant: str, report_id: str) -> str:
    """The voucher of a claim: keyed by the receipt code itself (as typed, loosely or not)."""
    mac = hmac.new(normalised(receipt_code).encode(), f"voucher\x1f{tenant}\x1f{report_id}".encode(), hashlib.sha256).digest()
    letters = base64.b32encode(mac).decode()[:16]
    return "-".join(letters[i : i + 4] for i in range(0, 16, 4))


async def policy_history(store: EventStore, tenant: str) -> list[RewardPolicySet]:
    history = await store.load(tenant, "policy", POLICY_ID)
    return [s.event for s in history.events if isinstance(s.event, RewardPolicySet)]


class RewardDecisions:
    """Proposes (or declines) the reward of each verified report, exactly once.

    Once is guaranteed by the broker: the decision creates the report's reward aggregate
    (expected sequence 0) with an id derived from the verification, so a redelivered,
    replayed or concurrently handled Verified cannot add a second one. The policy applied
    is the one in force when the report was verified, read from the log.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def when_verified_propose_reward(self, verified: Verified) -> None:
        existing = await self._store.load(verified.tenant, "reward", verified.aggregate_id)
        if existing.events:
            return
        filed = await self._filing(verified.tenant, verified.aggregate_id)
        grading = None
        if verified.outcome == Outcome.DUPLICATE:
            grading = await self._grading(verified.tenant, verified.duplicate_of)
        chosen = in_force(await policy_history(self._store, verified.tenant), verified.occurred_at)
        decision = decide_on_verification(
            verified,
            filed,
            chosen.policy if chosen else RewardPolicy(),
            policy_effective_from=chosen.effective_from if chosen else None,
            grading=grading,
        )
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


@dataclass
class Payouts:
    """The commands on a reward: each loads from the log, decides, appends guarded."""

    runtime: Runtime
    clock: Clock

    @property
    def store(self) -> EventStore:
        return self.runtime.event_store()

    async def _decide(self, tenant: str, report_id: str, decide: Callable[[Reward], list[Event]]) -> list[Event]:
        """Append what the reward decides, its text sealed under the report's key."""
        async with self.runtime.texts.sealing(tenant, report_id):
            return await self.store.decide(
                tenant, "reward", report_id, lambda history: decide(Reward.from_history(tenant, report_id, history))
            )

    async def _with_budget(self, tenant: str, report_id: str, decide: Callable[[Reward, Budget], list[Event]]) -> list[Event]:
        async with self.runtime.texts.sealing(tenant, report_id):
            return await self._within_budget(tenant, report_id, decide)

    async def _within_budget(self, tenant: str, report_id: str, decide: Callable[[Reward, Budget], list[Event]]) -> list[Event]:
        """Decide with this year's budget; an approval first takes its amount from the budget,
        guarded by the budget's own sequence, so racing approvals cannot both spend the rest.

        An approval that took its amount and then lost the race on the reward (to a
        decline, say) gives the amount back before the loser hears 409.
        """
        year = self.clock.now().astimezone(ZoneInfo(self.runtime.settings.timezone)).year
        for attempt in range(1, ATTEMPTS + 1):
            budget_history = await self.store.load(tenant, "budget", budget_id(year))
            budget = Budget.from_history(tenant, year, budget_history)
            history = await self.store.load(tenant, "reward", report_id)
            reward = Reward.from_history(tenant, report_id, history)
            try:
                events = decide(reward, budget)
            except DomainError:
                await self._release_unapproved(budget, budget_history.version, reward)
                raise
            try:
                approval = next((e for e in events if isinstance(e, RewardApproved)), None)
                if approval is not None:
                    budget_version = budget_history.version
                    for taken in budget.take(report_id, approval.amount_fen, actor=approval.actor, now=approval.occurred_at):
                        budget_version = (await self.store.append(taken, expected_version=budget_version)).sequence
                version = history.version
                for event in events:
                    version = (await self.store.append(event, expected_version=version)).sequence
                if approval is None:  # declined or referred now (the decision moved ``reward`` on)
                    await self._release_unapproved(budget, budget_history.version, reward)
                return events
            except ConcurrencyError:
                if attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _release_unapproved(self, budget: Budget, version: int, reward: Reward) -> None:
        """Only once the reward is declined or referred: while it is proposed, a commitment
        may belong to an approval still on its way, which will use it."""
        if reward.stage not in (Stage.DECLINED, Stage.REFERRED) or reward.proposal is None:
            return
        release = budget.release(reward.report_id, actor=POLICY_ACTOR, now=self.clock.now())
        if release is not None:
            await self.store.append(release, expected_version=version)

    async def _pseudonym(self, tenant: str, subject: str) -> str | None:
        """The person's pseudonym as a reporter there (None if they never reported by name)."""
        return await self.runtime.pseudonym_of(tenant, subject)

    async def approve(self, tenant: str, report_id: str, *, amount_fen: int | None, reason: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self._pseudonym(tenant, actor)
        return await self._with_budget(
            tenant,
            report_id,
            lambda reward, budget: reward.approve(amount_fen=amount_fen, reason=reason, actor=actor, pseudonym=me, now=now, budget=budget),
        )

    async def decline(self, tenant: str, report_id: str, *, reason: str, actor: str, hq: bool = False) -> list[Event]:
        now, me = self.clock.now(), await self._pseudonym(tenant, actor)
        return await self._with_budget(
            tenant, report_id, lambda reward, _: reward.decline(reason=reason, actor=actor, pseudonym=me, now=now, hq=hq)
        )

    async def approve_at_hq(self, tenant: str, report_id: str, *, reason: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self._pseudonym(tenant, actor)
        return await self._with_budget(
            tenant, report_id, lambda reward, budget: reward.approve_at_hq(reason=reason, actor=actor, pseudonym=me, now=now, budget=budget)
        )

    async def pay(self, tenant: str, report_id: str, *, reference: str, voucher_code: str | None, actor: str) -> list[Event]:
        now, me = self.clock.now(), await self._pseudonym(tenant, actor)
        digest = receipt_digest(voucher_code) if voucher_code else None
        return await self._decide(
            tenant, report_id, lambda reward: reward.pay(reference=reference, voucher_digest=digest, actor=actor, pseudonym=me, now=now)
        )

    async def recognise(self, tenant: str, report_id: str, display_name: str | None, *, subject: str) -> list[Event]:
        now, me = self.clock.now(), await self._pseudonym(tenant, subject)
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

    async def set_policy(self, tenant: str, policy: RewardPolicy, effective_from, actor: str) -> RewardPolicySet:
        now = self.clock.now()
        if effective_from is None:
            effective_from = now
        elif effective_from < now.replace(microsecond=0):
            raise Invalid("a policy takes effect now or later, never in the past", field="effective_from")
        elif effective_from > now + FURTHEST_AHEAD:
            raise Invalid("a policy takes effect at most three years ahead", field="effective_from")
        return await self._append_to(tenant, "policy", POLICY_ID, RewardPolicySet, actor, policy=policy, effective_from=effective_from)

    async def set_budget(self, tenant: str, year: int, amount_fen: int, actor: str) -> None:
        """Set the year's budget; setting the amount it already has records nothing (a PUT)."""
        current = Budget.from_history(tenant, year, await self.store.load(tenant, "budget", budget_id(year)))
        if current.amount_fen != amount_fen:
            await self._append_to(tenant, "budget", budget_id(year), RewardBudgetSet, actor, year=year, amount_fen=amount_fen)

    async def _append_to(self, tenant: str, aggregate: str, aggregate_id: str, kind, actor: str, **payload):
        """Append one event of ``kind`` to an aggregate, whatever it holds."""
        [event] = await self.store.decide(
            tenant,
            aggregate,
            aggregate_id,
            lambda history: [
                kind.record(prev_hash=history.last_hash, tenant=tenant, aggregate_id=aggregate_id, actor=actor, occurred_at=self.clock.now(), **payload)
            ],
        )
        return event
