"""Checks elsewhere's command handlers: load the check, its tasks and what they need, decide, append guarded.

A check and its tasks live in different subsidiaries, so each command loads them together
(``decide_many``): a task's answer sees whether the check closed, a closure sees every
task. The text of what to look for is sealed once per subsidiary, under the check's key
in that subsidiary, so each one can open its own copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from hazardloop.events import CHECK_TASK, Event, LongText, ReportFiled, SealedText, sealed
from hazardloop.log.eventstore import AggregateKey, AggregateStore, History
from hazardloop.timing.clock import Clock
from hazardloop.timing.deadlines import Timer
from hazardloop_verification.checks import (
    AnswerCheck,
    Check,
    CheckTask,
    CloseCheck,
    DecideCheckExtension,
    RaiseCheck,
    RequestCheckExtension,
    raise_check,
)
from hazardloop_verification.commands import TextSealer
from hazardloop_verification.domain import POLICY_ID, ReportCase, policy_in_force


class _LookFor(BaseModel):
    text: sealed(LongText, "What to look for.")


def _policy(tenant: str) -> AggregateKey:
    return AggregateKey(tenant, "policy", POLICY_ID)


def _task(tenant: str, check_id: str) -> AggregateKey:
    return AggregateKey(tenant, CHECK_TASK, check_id)


@dataclass(frozen=True)
class CheckWork:
    """The handlers of checks elsewhere, over the event log."""

    store: AggregateStore
    texts: TextSealer
    clock: Clock

    async def _sealed(self, tenant: str, check_id: str, text: str) -> SealedText | str:
        async with self.texts.sealing(tenant, check_id):
            return _LookFor(text=text).text

    async def raise_check(
        self, tenant: str, report_id: str, check_id: str, command: RaiseCheck, actor: str, *, subsidiaries: Sequence[str],
        all_subsidiaries: bool,
    ) -> list[Event]:
        """Raise the check on the report and open a task in each subsidiary."""
        look_for = {t: await self._sealed(t, check_id, command.look_for) for t in dict.fromkeys([tenant, *subsidiaries])}
        report, origin = AggregateKey(tenant, "report", report_id), AggregateKey(tenant, "check", check_id)
        keys = [report, origin, _policy(tenant), *(k for t in subsidiaries for k in (_task(t, check_id), _policy(t)))]

        def deciding(histories: Mapping[AggregateKey, History]) -> Sequence[Event]:
            return raise_check(
                ReportCase.from_history(tenant, report_id, histories[report]), check_id, command,
                subsidiaries=subsidiaries, all_subsidiaries=all_subsidiaries,
                histories={t: histories[_task(t, check_id)] for t in subsidiaries},
                policies={t: policy_in_force(histories[_policy(t)]) for t in subsidiaries},
                look_for=look_for, origin_history=histories[origin], origin_policy=policy_in_force(histories[_policy(tenant)]),
                actor=actor, now=self.clock.now(),
            )

        return await self.store.decide_many(keys, deciding)

    async def _on_task(self, tenant: str, check_id: str, decision) -> list[Event]:
        async with self.texts.sealing(tenant, check_id):
            return await decide_on_task(self.store, tenant, check_id, lambda task, check: decision(task, check, self.clock.now()))

    async def answer(self, tenant: str, check_id: str, command: AnswerCheck, actor: str) -> list[Event]:
        return await self._on_task(tenant, check_id, lambda task, check, now: task.answer_not_present(check, command, actor=actor, now=now))

    async def request_extension(self, tenant: str, check_id: str, command: RequestCheckExtension, actor: str) -> list[Event]:
        return await self._on_task(tenant, check_id, lambda task, check, now: task.request_extension(check, command, actor=actor, now=now))

    async def decide_extension(self, tenant: str, check_id: str, command: DecideCheckExtension, actor: str) -> list[Event]:
        return await self._on_task(tenant, check_id, lambda task, check, now: task.decide_extension(check, command, actor=actor, now=now))

    async def fire_clocks(self, tenant: str, check_id: str, due: Sequence[Timer]) -> list[Event]:
        """The task's due clocks that still run, each once (its event id comes from the clock's key)."""
        ordered = sorted(due, key=lambda t: (t.due_at, t.step is not None, t.step or 0))  # overdue before the rung due with it
        return await self._on_task(tenant, check_id, lambda task, check, now: [e for t in ordered for e in task.fire(check, t, now=now)])

    async def close(self, tenant: str, check_id: str, command: CloseCheck, actor: str) -> list[Event]:
        origin = AggregateKey(tenant, "check", check_id)
        check = Check.from_history(tenant, check_id, await self.store.load(*origin))
        tasks = {t: _task(t, check_id) for t in check.raised.subsidiaries}

        def deciding(histories: Mapping[AggregateKey, History]) -> Sequence[Event]:
            current = Check.from_history(tenant, check_id, histories[origin])
            return current.close({t: histories[key] for t, key in tasks.items()}, actor=actor, now=self.clock.now(), note=command.note)

        async with self.texts.sealing(tenant, check_id):
            return await self.store.decide_many([origin, *tasks.values()], deciding)


async def decide_on_task(store: AggregateStore, tenant: str, check_id: str, decision) -> list[Event]:
    """Decide on one subsidiary's task, with its check (in the original subsidiary) loaded too."""
    task_key = _task(tenant, check_id)
    opened = CheckTask.from_history(tenant, check_id, await store.load(*task_key)).opened
    origin = AggregateKey(opened.origin_tenant, "check", check_id)

    def deciding(histories: Mapping[AggregateKey, History]) -> Sequence[Event]:
        task = CheckTask.from_history(tenant, check_id, histories[task_key])
        return decision(task, Check.from_history(opened.origin_tenant, check_id, histories[origin]))

    return await store.decide_many([task_key, origin], deciding)


@dataclass(frozen=True)
class FoundAnswers:
    """The reaction that answers a task "found" when its subsidiary files the report of what it found."""

    store: AggregateStore

    async def when_found_report_filed_answer(self, filed: ReportFiled) -> None:
        """Once, and only while the task is open: a redelivery, a replay or a task answered
        or closed meanwhile appends nothing."""
        if filed.check_id is None:
            return
        if not (await self.store.load(*_task(filed.tenant, filed.check_id))).events:
            return  # intake refuses such a link; nothing to answer
        await decide_on_task(
            self.store, filed.tenant, filed.check_id,
            lambda task, check: task.answer_found(
                check, filed.aggregate_id, actor=filed.actor, now=filed.occurred_at, event_id=filed.derived_id("check-answer"),
            ),
        )
