"""Verification's command handlers: load the case from the log, let it decide, append guarded.

The broker guards every append with the case's last sequence, so of two racing
commands exactly one lands; the loser reloads, decides again against the winner's
event and gets the domain's own answer (a 409 naming the state, say).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from nats.js import JetStreamContext
from sqlalchemy import select

from hazardloop.media.attachments import AttachmentStore
from hazardloop.timing.clock import Clock
from hazardloop.errors import Invalid, NotFound
from hazardloop.events import AttachmentRef, CaseworkPolicy, CaseworkPolicySet, Event, Outcome, ReportFiled
from hazardloop.log.eventstore import EventStore, EventStoreUnavailable
from hazardloop.runtime.service import Runtime
from hazardloop_verification.domain import (
    Accept,
    Assign,
    DecideExtension,
    EscalateExternally,
    FeedBack,
    OPEN_FOR_VERIFICATION,
    Rectify,
    ReportCase,
    RequestExtension,
    Review,
    Stage,
    Verify,
)
from hazardloop_verification.settings import VerificationSettings
from hazardloop_verification.store import cases, policies

POLICY_ID = "casework"

Decision = Callable[[ReportCase, datetime], list[Event]]


@dataclass
class Casework:
    """Verification's adapters and its command handling; broker-bound once connected."""

    settings: VerificationSettings
    clock: Clock
    _runtime: Runtime | None = field(default=None, repr=False)
    _attachments: AttachmentStore | None = field(default=None, repr=False)
    _js: JetStreamContext | None = field(default=None, repr=False)

    async def connect(self, runtime: Runtime, js: JetStreamContext) -> None:
        """Open the attachment bucket where rectification evidence is uploaded (via intake)."""
        settings = self.settings
        attachments = AttachmentStore(js, bucket=settings.bucket("attachments"), replicas=settings.stream_replicas)
        await attachments.ensure()
        self._runtime, self._attachments, self._js = runtime, attachments, js

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self._runtime

    @property
    def store(self) -> EventStore:
        return self.runtime.event_store()

    @property
    def attachments(self) -> AttachmentStore:
        """The photos and videos (uploaded through intake), for the dossier to show."""
        if self._attachments is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self._attachments

    @property
    def js(self) -> JetStreamContext:
        """The broker, for reading a sealed range of the log back."""
        if self._js is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        return self._js

    # --- the one way a case changes ---------------------------------------------------

    async def decide(self, tenant: str, report_id: str, decision: Decision) -> list[Event]:
        """Append what the report's case decides now, guarded by the broker (its text sealed)."""
        async with self.runtime.texts.sealing(tenant, report_id):
            return await self.store.decide(
                tenant, "report", report_id,
                lambda history: decision(ReportCase.from_history(tenant, report_id, history), self.clock.now()),
            )

    # --- commands ---------------------------------------------------------------------

    async def accept(self, tenant: str, report_id: str, command: Accept, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.accept(command, actor=actor, now=now))

    async def verify(self, tenant: str, report_id: str, command: Verify, actor: str) -> list[Event]:
        first = await self._first_of_cluster(tenant, report_id, command.duplicate_of) if command.duplicate_of else None
        evidence = await self._evidence(tenant, command.on_the_spot.evidence, "on_the_spot.evidence") if command.on_the_spot else ()
        policy = await self.policy(tenant)
        return await self.decide(
            tenant,
            report_id,
            lambda case, now: case.verify(command, actor=actor, now=now, first_report_id=first, evidence=evidence, policy=policy),
        )

    async def assign(self, tenant: str, report_id: str, command: Assign, actor: str) -> list[Event]:
        policy = await self.policy(tenant)
        return await self.decide(tenant, report_id, lambda case, now: case.assign(command, actor=actor, now=now, policy=policy))

    async def request_extension(self, tenant: str, report_id: str, command: RequestExtension, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.request_extension(command, actor=actor, now=now))

    async def decide_extension(self, tenant: str, report_id: str, command: DecideExtension, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.decide_extension(command, actor=actor, now=now))

    async def rectify(self, tenant: str, report_id: str, command: Rectify, actor: str, *, verifier: bool) -> list[Event]:
        evidence = await self._evidence(tenant, command.evidence, "evidence")
        return await self.decide(
            tenant,
            report_id,
            lambda case, now: case.rectify(command.measures, evidence, actor=actor, now=now, verifier=verifier),
        )

    async def review(self, tenant: str, report_id: str, command: Review, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.review(command, actor=actor, now=now))

    async def feed_back(self, tenant: str, report_id: str, command: FeedBack, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.feed_back(command, actor=actor, now=now))

    async def escalate_externally(self, tenant: str, report_id: str, command: EscalateExternally, actor: str) -> list[Event]:
        return await self.decide(tenant, report_id, lambda case, now: case.escalate_externally(command, actor=actor, now=now))

    async def set_policy(self, tenant: str, policy: CaseworkPolicy, actor: str) -> CaseworkPolicySet:
        [event] = await self.store.decide(
            tenant,
            "policy",
            POLICY_ID,
            lambda history: [
                CaseworkPolicySet.record(
                    prev_hash=history.last_hash, tenant=tenant, aggregate_id=POLICY_ID, actor=actor, occurred_at=self.clock.now(), policy=policy
                )
            ],
        )
        return event

    # --- what the commands need besides the case --------------------------------------

    async def policy(self, tenant: str) -> CaseworkPolicy:
        """The policy in force: the last one set in the log, as the read model holds it."""

        def read() -> CaseworkPolicy:
            with self.runtime.engine.connect() as db:
                stored = db.execute(select(policies.c.policy).where(policies.c.tenant == tenant)).scalar()
            return CaseworkPolicy.model_validate_json(stored) if stored else CaseworkPolicy()

        return await asyncio.to_thread(read)

    async def _first_of_cluster(self, tenant: str, report_id: str, duplicate_of: str) -> str:
        """Which report of the hazard came first: this one, the report it merges into, or
        one merged into that report before (its first reporter keeps the claim)."""
        target = await self.store.load(tenant, "report", duplicate_of)
        if not target.events or not isinstance(target.events[0].event, ReportFiled):
            raise Invalid(f"no report {duplicate_of!r} in {tenant} to merge into", field="duplicate_of")
        primary = ReportCase.from_history(tenant, duplicate_of, target)
        if primary.stage in OPEN_FOR_VERIFICATION:
            raise Invalid(f"verify report {duplicate_of} first: a duplicate merges into a verified report", field="duplicate_of")
        if primary.stage == Stage.DUPLICATE and primary.outcome == Outcome.DUPLICATE:
            raise Invalid(
                f"report {duplicate_of} was itself merged into {primary.duplicate_of}: merge into that one", field="duplicate_of"
            )
        this = await self.store.load(tenant, "report", report_id)
        if not this.events:
            raise NotFound(f"no report {report_id!r} in {tenant!r}")
        filed = {stored.event.aggregate_id: stored.event.occurred_at for stored in (this.events[0], target.events[0])}
        filed |= await asyncio.to_thread(self._merged_into, duplicate_of)
        return min(filed, key=lambda rid: (filed[rid], rid))

    def _merged_into(self, report_id: str) -> dict[str, datetime]:
        """The reports already merged into ``report_id``, with when each was filed."""
        with self.runtime.engine.connect() as db:
            rows = db.execute(select(cases.c.report_id, cases.c.filed_at).where(cases.c.duplicate_of == report_id))
            return {row.report_id: row.filed_at for row in rows}

    async def _evidence(self, tenant: str, digests: Sequence[str], field_name: str) -> tuple[AttachmentRef, ...]:
        if self._attachments is None:
            raise EventStoreUnavailable("the service is not connected to the broker yet")
        found = []
        for index, digest in enumerate(digests):
            ref = await self._attachments.find(tenant, digest)
            if ref is None:
                raise Invalid(f"no uploaded file {digest[:12]}... in {tenant}; upload it first", field=f"{field_name}.{index}")
            found.append(ref)
        return tuple(found)
