"""The auditor's checks of the log itself (the source of truth, not any service's store):
hashes, chains and seals verified, the closed loop and the rewards reconciled, in one
read bounded in time; and the hazard ledger of a subsidiary and period.

A check that runs out of time says how far it got rather than holding a page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, TypeVar

from nats.aio.client import Client
from sqlalchemy import Engine, insert, select

from hazardloop.audit.ledger import LEDGER_TYPES, Ledger, build_ledger
from hazardloop.audit.reconcile import RECONCILE_TYPES, reconcile_all
from hazardloop.audit.source import connect, last_sequence, parse_headers, read_stream
from hazardloop.audit.verify import Verifier
from hazardloop.events import Event, RangeSealed, decode_event
from hazardloop.log.eventstore import Subjects
from hazardloop.log.reader import read_log
from hazardloop.runtime.settings import CommonSettings
from hazardloop_console.store import log_checks

T = TypeVar("T")
_SEAL = RangeSealed.model_fields["type"].default
_RECONCILED = frozenset(RECONCILE_TYPES)


class LogTooSlow(Exception):
    """The log could not be read within the time allowed."""


@dataclass
class LogCheck:
    ran_at: datetime
    ran_by: str
    seconds: float
    complete: bool
    checked_through: int
    last_sequence: int
    intact: bool | None
    """None when the check did not reach the end of the log."""
    faults: int = 0
    first_fault: dict[str, Any] | None = None
    seals: int = 0
    sealed_through: int = 0
    last_seal: dict[str, Any] | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


async def _connected(settings: CommonSettings, work: Callable[[Client], Awaitable[T]]) -> T:
    """A connection of its own: a long read never crowds the projection's subscription."""
    nc = await connect(settings.nats_servers, timeout=settings.nats_timeout)
    try:
        return await work(nc)
    finally:
        await nc.close()


def _where(subject: str) -> dict[str, str]:
    parts = subject.split(".")
    if len(parts) < 5:
        return {"subject": subject}
    return {"tenant": parts[1], "aggregate": parts[2], "aggregate_id": ".".join(parts[3:-1]), "type": parts[-1]}


async def check_log(settings: CommonSettings, ran_by: str, seconds: float, now: datetime | None = None) -> LogCheck:
    """Verify every message and reconcile the loop in one pass, for at most ``seconds``."""
    now = now or datetime.now(UTC)
    started = perf_counter()

    async def run(nc: Client) -> LogCheck:
        verifier, events = Verifier(), []
        end = await last_sequence(nc, settings.stream_name)
        through, last_seal = 0, None
        try:
            async with asyncio.timeout(seconds):
                async for batch in read_stream(nc, settings.stream_name, until=end):
                    for message in batch:
                        document = verifier.feed(message.sequence, message.subject, message.data, headers=parse_headers(message.headers))
                        through = message.sequence
                        kind = document.get("type") if isinstance(document, dict) else None
                        if kind == _SEAL:
                            last_seal = {"first": document.get("first_sequence"), "last": document.get("last_sequence"),
                                         "at": document.get("occurred_at")}
                        elif kind in _RECONCILED:
                            try:
                                events.append((message.sequence, decode_event(message.data)))
                            except ValueError:
                                pass  # an altered message: the verifier has named it
        except TimeoutError:
            return LogCheck(now, ran_by, perf_counter() - started, False, through, end, None, len(verifier.verdict.faults))
        verdict = verifier.finish(expected_last=end)
        first = verdict.first_fault()
        first_fault = None
        if first is not None:
            first_fault = {"sequence": first.sequence, "kind": first.kind, "detail": first.detail}
            if first.sequence:
                try:
                    stored = await nc.jetstream().get_msg(settings.stream_name, first.sequence)
                    first_fault |= _where(stored.subject)
                except Exception:  # noqa: BLE001 - a missing message is itself the fault named
                    pass
        findings = [asdict(finding) for finding in reconcile_all(events, now)]
        return LogCheck(
            now, ran_by, perf_counter() - started, True, through, end, verdict.ok, len(verdict.faults), first_fault,
            verdict.seals, verdict.sealed_through, last_seal, findings,
        )

    return await _connected(settings, run)


def keep(engine: Engine, check: LogCheck) -> None:
    values = asdict(check)
    for name in ("first_fault", "last_seal"):
        values[name] = json.dumps(values[name], ensure_ascii=False) if values[name] is not None else None
    values["findings"] = json.dumps(values["findings"], ensure_ascii=False)
    with engine.begin() as db:
        db.execute(insert(log_checks).values(**values))


def latest(engine: Engine) -> LogCheck | None:
    with engine.connect() as db:
        row = db.execute(select(log_checks).order_by(log_checks.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    values = dict(row._mapping)
    values.pop("id")
    for name in ("first_fault", "last_seal", "findings"):
        values[name] = json.loads(values[name]) if values[name] else None
    values["findings"] = values["findings"] or []
    return LogCheck(**values)


async def read_ledger(settings: CommonSettings, tenant: str, seconds: float) -> Ledger:
    """The subsidiary's ledger of every report in the log (the caller picks the period)."""
    subjects = Subjects(settings.subject_prefix)

    async def run(nc: Client) -> Ledger:
        log: list[tuple[int, Event]] = []
        try:
            async with asyncio.timeout(seconds):
                async for item in read_log(nc, settings.stream_name, [subjects.of_type(t, tenant) for t in LEDGER_TYPES]):
                    log.append(item)
        except TimeoutError as exc:
            raise LogTooSlow() from exc
        return build_ledger(log, tenant)

    return await _connected(settings, run)
