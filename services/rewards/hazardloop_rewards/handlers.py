"""Rewards: the reaction that decides once, and the read model of decisions."""

from __future__ import annotations

from hazardloop.errors import NotFound
from hazardloop.eventstore import EventStore
from hazardloop.events import ReportFiled, RewardDeclined, RewardGranted, Verified
from hazardloop.projection import Projection
from hazardloop.writer import Writer
from hazardloop_rewards.domain import GradeTable, decide_reward
from hazardloop_rewards.store import decisions, metadata


class RewardDecisions:
    """Decides the reward of each verified report, exactly once.

    Once is guaranteed by the broker: the decision creates the report's reward
    aggregate (expected sequence 0) with an id derived from the verification, so a
    redelivered, replayed or concurrently handled Verified cannot add a second one.
    """

    def __init__(self, store: EventStore, table: GradeTable) -> None:
        self._store = store
        self._table = table

    async def when_verified_decide_reward(self, verified: Verified) -> None:
        existing = await self._store.load(verified.tenant, "reward", verified.aggregate_id)
        if existing.events:
            return
        report = await self._store.load(verified.tenant, "report", verified.aggregate_id)
        filed = report.events[0].event if report.events else None
        if not isinstance(filed, ReportFiled):
            raise NotFound(f"verified report {verified.aggregate_id} has no filing in the log")
        decision = decide_reward(verified, reporter=filed.reporter, table=self._table)
        await self._store.append(decision, expected_version=0)


def when_reward_granted_record(event: RewardGranted, db: Writer) -> None:
    db.insert(
        decisions,
        report_id=event.report_id,
        tenant=event.tenant,
        reporter=event.reporter,
        status="granted",
        amount_fen=event.amount_fen,
        outcome=event.outcome.value,
        grade=event.grade.value if event.grade else None,
        policy=event.policy,
        decided_at=event.occurred_at,
    )


def when_reward_declined_record(event: RewardDeclined, db: Writer) -> None:
    db.insert(
        decisions,
        report_id=event.report_id,
        tenant=event.tenant,
        reporter=event.reporter,
        status="declined",
        amount_fen=0,
        outcome="not_confirmed",
        reason=event.reason,
        decided_at=event.occurred_at,
    )


def projection_with(table: GradeTable):
    def projection(store: EventStore) -> Projection:
        rewards = RewardDecisions(store, table)
        return Projection(
            name="rewards",
            metadata=metadata,
            handlers={RewardGranted: when_reward_granted_record, RewardDeclined: when_reward_declined_record},
            reactions={Verified: rewards.when_verified_decide_reward},
        )

    return projection
