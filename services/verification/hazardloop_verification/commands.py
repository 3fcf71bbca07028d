"""Verification's command handlers: load the case from the log, let it decide, append guarded.

Every command takes the event store's one path (``decide_many``): the broker guards each
append with the case's last sequence, so of two racing commands exactly one lands; the
loser reloads, decides again against the winner's event and gets the domain's own answer
(a 409 naming the state, say). What a case decides besides its own history (the policy in
force, the report a duplicate merges into) is loaded from the log in the same round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hazardloop.errors import Invalid
from hazardloop.events import AttachmentRef, CaseworkPolicySet, Event
from hazardloop.log.eventstore import AggregateKey, AggregateStore, History
from hazardloop.timing.clock import Clock
from hazardloop.timing.deadlines import Timer
from hazardloop_verification.domain import (
    POLICY_ID,
    Accept,
    Assign,
    DecideExtension,
    EscalateExternally,
    FeedBack,
    Rectify,
    ReportCase,
    RequestExtension,
    Review,
    SetCaseworkPolicy,
    Verify,
    policy_in_force,
    set_policy,
)


class TextSealer(Protocol):
    """Seals the free text of events made inside ``sealing`` under the report's own key
    (``hazardloop.privacy.sealing.TextVault``)."""

    def sealing(self, tenant: str, report_id: str) -> contextlib.AbstractAsyncContextManager[None]: ...


class Uploads(Protocol):
    """Where the photos and videos uploaded through intake are found (``AttachmentStore``)."""

    async def find(self, tenant: str, digest: str) -> AttachmentRef | None: ...


MergedInto = Callable[[str], Mapping[str, datetime]]
"""The reports already merged into a report, with when each was filed (a read of the read
model: no aggregate of the log lists them)."""

CaseDecision = Callable[[ReportCase, Mapping[AggregateKey, History], datetime], Sequence[Event]]
"""Given the case, the other histories the command loaded, and the time: the new events."""


@dataclass(frozen=True)
class Casework:
    """Verification's command handlers, over the event log and what commands look up besides it."""

    store: AggregateStore
    texts: TextSealer
    clock: Clock
    uploads: Uploads
    merged_into: MergedInto

    # --- the one way a case changes ---------------------------------------------------

    async def _decide(self, tenant: str, report_id: str, decision: CaseDecision, *others: AggregateKey) -> list[Event]:
        """Append what the report's case decides now, given the histories of ``others`` loaded
        in the same round; its free text sealed under the report's key."""
        this = AggregateKey(tenant, "report", report_id)

        def deciding(histories: Mapping[AggregateKey, History]) -> Sequence[Event]:
            return decision(ReportCase.from_history(tenant, report_id, histories[this]), histories, self.clock.now())

        async with self.texts.sealing(tenant, report_id):
            return await self.store.decide_many([this, *others], deciding)

    @staticmethod
    def _policy(tenant: str) -> AggregateKey:
        return AggregateKey(tenant, "policy", POLICY_ID)

    # --- commands ---------------------------------------------------------------------

    async def accept(self, tenant: str, report_id: str, command: Accept, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.accept(command, actor=actor, now=now))

    async def verify(self, tenant: str, report_id: str, command: Verify, actor: str) -> list[Event]:
        """Record the outcome; a duplicate names the first report of its hazard, an on-the-spot
        fix closes the case, a rectification given along starts its clock under the policy."""
        spot = command.on_the_spot
        evidence = await self._uploaded(tenant, spot.evidence, "on_the_spot.evidence") if spot else ()
        policy = self._policy(tenant)
        target = AggregateKey(tenant, "report", command.duplicate_of) if command.duplicate_of else None
        merged = await asyncio.to_thread(self.merged_into, command.duplicate_of) if command.duplicate_of else {}

        def decision(case: ReportCase, histories: Mapping[AggregateKey, History], now: datetime) -> list[Event]:
            first = case.first_of_cluster(command.duplicate_of, histories[target], merged) if target else None
            return case.verify(
                command, actor=actor, now=now, first_report_id=first, evidence=evidence, policy=policy_in_force(histories[policy])
            )

        return await self._decide(tenant, report_id, decision, policy, *([target] if target else []))

    async def assign(self, tenant: str, report_id: str, command: Assign, actor: str) -> list[Event]:
        policy = self._policy(tenant)
        return await self._decide(
            tenant,
            report_id,
            lambda case, histories, now: case.assign(command, actor=actor, now=now, policy=policy_in_force(histories[policy])),
            policy,
        )

    async def request_extension(self, tenant: str, report_id: str, command: RequestExtension, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.request_extension(command, actor=actor, now=now))

    async def decide_extension(self, tenant: str, report_id: str, command: DecideExtension, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.decide_extension(command, actor=actor, now=now))

    async def rectify(self, tenant: str, report_id: str, command: Rectify, actor: str, *, verifier: bool) -> list[Event]:
        evidence = await self._uploaded(tenant, command.evidence, "evidence")
        return await self._decide(
            tenant,
            report_id,
            lambda case, _, now: case.rectify(command.measures, evidence, actor=actor, now=now, verifier=verifier),
        )

    async def review(self, tenant: str, report_id: str, command: Review, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.review(command, actor=actor, now=now))

    async def feed_back(self, tenant: str, report_id: str, command: FeedBack, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.feed_back(command, actor=actor, now=now))

    async def escalate_externally(self, tenant: str, report_id: str, command: EscalateExternally, actor: str) -> list[Event]:
        return await self._decide(tenant, report_id, lambda case, _, now: case.escalate_externally(command, actor=actor, now=now))

    async def fire_clocks(self, tenant: str, report_id: str, due: Sequence[Timer]) -> list[Event]:
        """Append the events of the report's clocks that are due and still run; each once,
        however often it is fired (its event id comes from the clock's key)."""
        return await self._decide(tenant, report_id, lambda case, _, now: [e for timer in due for e in case.fire(timer, now=now)])

    async def set_policy(self, tenant: str, command: SetCaseworkPolicy, actor: str) -> CaseworkPolicySet:
        [event] = await self.store.decide(
            tenant, "policy", POLICY_ID, lambda history: set_policy(history, tenant, command, actor=actor, now=self.clock.now())
        )
        return event

    # --- what the commands need besides the log ---------------------------------------

    async def _uploaded(self, tenant: str, digests: Sequence[str], field_name: str) -> tuple[AttachmentRef, ...]:
        """The uploaded files the command names; a 422 naming the one that points nowhere."""
        found = []
        for index, digest in enumerate(digests):
            ref = await self.uploads.find(tenant, digest)
            if ref is None:
                raise Invalid(f"no uploaded file {digest[:12]}... in {tenant}; upload it first", field=f"{field_name}.{index}")
            found.append(ref)
        return tuple(found)
