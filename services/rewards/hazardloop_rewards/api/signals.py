"""Fraud-signal routes: the signals on rewards (for those who decide or audit them, never
reporters), a reviewer's dismissal or confirmation, and each subsidiary's rule parameters."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select

from hazardloop.events import SignalRule, SignalRules, TenantId
from hazardloop.runtime.service import Runtime, RuntimeDep
from hazardloop.web.auth import Principal, Role, check_tenant, require
from hazardloop.web.edge import Command
from hazardloop.web.recorded import CREATED, Recorded, recorded
from hazardloop_rewards.api.rewards import CommandsDep
from hazardloop_rewards.signals import shown
from hazardloop_rewards.signals.review import SignalSeen
from hazardloop_rewards.signals.seen import signal_id
from hazardloop_rewards.signals.shown import SignalView
from hazardloop_rewards.store import reports, signal_decisions

routes = APIRouter(tags=["rewards: fraud signals"])

SIGNAL_READERS = frozenset({Role.MANAGER, Role.LEADER, Role.AUDITOR})
"""Who sees signals: those who decide rewards, and auditors. Never reporters."""
Reader = Annotated[Principal, Depends(require(*SIGNAL_READERS))]
Reviewer = Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))]
SignalIdPath = Annotated[str, StringConstraints(pattern=r"^sig-[0-9a-f]{32}$")]
ReportIds = Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]], Field(max_length=100)]


class Dismissal(Command):
    tenant: TenantId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=400)]


class Confirmation(Command):
    tenant: TenantId
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] | None = None


class SetSignalRules(SignalRules, Command):
    pass


class RulesInForce(BaseModel):
    tenant: str
    rules: SignalRules


async def signals_for(runtime: Runtime, tenant: str, report_ids: list[str], reporters: list[str]) -> list[SignalView]:
    """Every signal naming one of the reports or about one of the reporters, the
    unusual-place ones judged now; sealed reasons opened."""

    def counted() -> tuple[list[SignalView], dict[str, list[str]], SignalRules]:
        with runtime.engine.connect() as db:
            return shown.counted(db, tenant, report_ids=report_ids, reporters=reporters), shown.people_with_places(db, tenant), shown.rules_of(db, tenant)

    found, people, rules = await asyncio.to_thread(counted)
    if people:
        for reporter in dict.fromkeys(reporters):
            person = await runtime.pseudonyms().holder(tenant, reporter, list(people))
            if person is not None:
                signal = await asyncio.to_thread(_place_signal, runtime, tenant, reporter, people[person], rules)
                if signal is not None:
                    found.append(signal)
    return [SignalView.model_validate(view) for view in await runtime.texts.reveal([view.model_dump() for view in found])]


def _place_signal(runtime: Runtime, tenant: str, reporter: str, work: list[str], rules: SignalRules) -> SignalView | None:
    with runtime.engine.connect() as db:
        return shown.place_signal(db, tenant, reporter, work, rules)


async def _one(runtime: Runtime, principal: Principal, tenant: str, signal: str) -> SignalView:
    """The signal as shown now, or 404 (also for a subsidiary the caller may not see)."""
    check_tenant(principal, tenant)

    def counted() -> tuple[SignalView | None, dict[str, list[str]], SignalRules]:
        with runtime.engine.connect() as db:
            return shown.counted_one(db, signal), shown.people_with_places(db, tenant), shown.rules_of(db, tenant)

    found, people, rules = await asyncio.to_thread(counted)
    if found is not None and found.tenant == tenant:
        return found
    for person, work in people.items():  # an unusual-place signal is named after the reporter's pseudonym
        pseudonym = await runtime.pseudonym_of(tenant, person)
        if pseudonym is not None and signal_id(tenant, SignalRule.UNUSUAL_PLACE, pseudonym) == signal:
            view = await asyncio.to_thread(_place_signal, runtime, tenant, pseudonym, work, rules)
            if view is not None:
                return view
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no signal {signal!r} in {tenant!r}")


async def _taken_in(runtime: Runtime, signal: str, covered: int, status_: str) -> None:
    """Wait (briefly) until this service's store shows the decision, so the next read does."""

    def there() -> bool:
        with runtime.engine.connect() as db:
            row = db.execute(select(signal_decisions).where(signal_decisions.c.signal_id == signal)).first()
        return row is not None and row.status == status_ and row.covered == covered

    loop = asyncio.get_running_loop()
    deadline = loop.time() + runtime.settings.nats_timeout
    while not await asyncio.to_thread(there) and loop.time() < deadline:
        await asyncio.sleep(0.02)


def _seen(view: SignalView) -> SignalSeen:
    return SignalSeen(view.signal_id, view.tenant, view.rule, view.reporter, tuple(view.evidence))


@routes.get("/signals", response_model=list[SignalView])
async def list_signals(
    runtime: RuntimeDep,
    principal: Reader,
    tenant: Annotated[TenantId, Query()],
    report: Annotated[ReportIds, Query(description="Only signals naming these reports or about their reporters.")] = [],  # noqa: B006
    state: Annotated[Literal["open", "all"], Query(alias="status")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SignalView]:
    """Fraud signals for reviewers, open ones by default (confirmed ones stay shown). Given
    reports, the signals on them and their reporters, as each reward shows them; else the
    subsidiary's counted signals, most recently grown first. Signals never decide a reward."""
    check_tenant(principal, tenant)
    if report:

        def reporters() -> list[str]:
            with runtime.engine.connect() as db:
                query = select(reports.c.reporter).where(reports.c.tenant == tenant, reports.c.report_id.in_(report))
                return [row.reporter for row in db.execute(query)]

        found = await signals_for(runtime, tenant, list(report), await asyncio.to_thread(reporters))
    else:

        def counted() -> list[SignalView]:
            with runtime.engine.connect() as db:
                return shown.all_counted(db, tenant, limit)

        found = [SignalView.model_validate(v) for v in await runtime.texts.reveal([v.model_dump() for v in await asyncio.to_thread(counted)])]
    return [view for view in found if state == "all" or view.status != "dismissed"][:limit]


@routes.post("/signals/{signal}/dismissal", **CREATED)
async def dismiss(signal: SignalIdPath, body: Dismissal, runtime: RuntimeDep, commands: CommandsDep, principal: Reviewer) -> Recorded:
    """Dismiss a signal as unfounded, with a reason (kept sealed). It covers the reports it
    names now: a further matching report opens it again."""
    view = await _one(runtime, principal, body.tenant, signal)
    events = await commands.dismiss_signal(_seen(view), reason=body.reason, actor=principal.subject)
    await _taken_in(runtime, signal, len(view.evidence), "dismissed")
    return recorded(view.evidence[0], events)


@routes.post("/signals/{signal}/confirmation", **CREATED)
async def confirm(signal: SignalIdPath, body: Confirmation, runtime: RuntimeDep, commands: CommandsDep, principal: Reviewer) -> Recorded:
    """Confirm a signal as founded: it stays on the rewards it names. What to do about the
    rewards is still the approver's decision."""
    view = await _one(runtime, principal, body.tenant, signal)
    events = await commands.confirm_signal(_seen(view), note=body.note, actor=principal.subject)
    await _taken_in(runtime, signal, len(view.evidence), "confirmed")
    return recorded(view.evidence[0], events)


@routes.get("/signal-rules", response_model=RulesInForce)
def signal_rules(runtime: RuntimeDep, principal: Reader, tenant: Annotated[TenantId, Query()]) -> RulesInForce:
    """The subsidiary's signal parameters (the defaults until a manager sets them)."""
    check_tenant(principal, tenant)
    with runtime.engine.connect() as db:
        return RulesInForce(tenant=tenant, rules=shown.rules_of(db, tenant))


@routes.put("/signal-rules", response_model=RulesInForce)
async def set_signal_rules(
    body: SetSignalRules, commands: CommandsDep, principal: Annotated[Principal, Depends(require(Role.MANAGER, Role.LEADER))],
    tenant: Annotated[TenantId, Query()],
) -> RulesInForce:
    """Set the subsidiary's signal parameters; they apply to events from now on."""
    check_tenant(principal, tenant)
    rules = SignalRules.model_validate(body.model_dump())
    await commands.set_signal_rules(tenant, rules, actor=principal.subject)
    return RulesInForce(tenant=tenant, rules=rules)
