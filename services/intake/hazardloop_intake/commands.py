"""Intake's command handlers: file a report, keep the catalogue, write in a thread, disclose or erase an identity.

Each loads what its rules need, lets the domain decide, and appends through the event
store's one guarded path (``EventStore.decide``): a lost race reloads and decides again,
and a command already recorded (a retry) decides, and appends, nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from datetime import UTC, datetime

from sqlalchemy import Connection

from hazardloop.errors import DomainError, Invalid
from hazardloop.events import (
    CHECK_TASK,
    CheckTaskOpened,
    Event,
    IdentityDisclosed,
    Location,
    PlaceCatalogued,
    PlaceRetired,
    ReporterKeyShredded,
    ReportFiled,
    ReportTextShredded,
    ShredReason,
    stable_id,
)
from hazardloop.log.eventstore import History
from hazardloop.privacy.identity import Identity, IdentityErased
from hazardloop.privacy.pseudonyms import random_pseudonym
from hazardloop.privacy.receipts import receipt_digest
from hazardloop.web.auth import Role
from hazardloop_intake import disclosure, domain, thread
from hazardloop_intake.adapters import Intake
from hazardloop_intake.domain import ANONYMOUS, CataloguePlace, Filer, FileReport, Reporter, report_id_for
from hazardloop_intake.queries import find_place, possible_duplicate, reports_of, window_start
from hazardloop_intake.thread import Looker


@dataclass(frozen=True, slots=True)
class Filing:
    event: ReportFiled
    created: bool
    receipt_code: str | None
    """Shown to an anonymous reporter; never stored."""


async def _decide(
    intake: Intake, tenant: str, aggregate_type: str, aggregate_id: str, decision: Callable[[History], Sequence[Event]]
) -> tuple[list[Event], History]:
    """What ``decision`` appended, and the history it was last made on: what a repeated
    command, which appends nothing, answers with."""
    events, history = await _watched(partial(intake.store.decide, tenant, aggregate_type, aggregate_id), decision)
    assert history is not None  # ``decide`` always loads first
    return events, history


async def _watched(
    decide: Callable[[Callable[[History], Sequence[Event]]], Awaitable[list[Event]]], decision: Callable[[History], Sequence[Event]]
) -> tuple[list[Event], History | None]:
    """What ``decide`` appended with ``decision``, and the history ``decision`` was last
    made on (None: it was never asked, as when ``decide_new`` appended without a look)."""
    seen: list[History] = []

    def deciding(history: History) -> Sequence[Event]:
        seen.append(history)
        return decision(history)

    events = await decide(deciding)
    return events, seen[-1] if seen else None


async def handle_file_report(
    intake: Intake, command: FileReport, *, filer: Filer, idempotency_key: str, now: datetime | None = None
) -> Filing:
    """Record a report; a retry with the same Idempotency-Key returns the first one.

    The report id is derived from the key, so the retry targets the same aggregate and
    the broker, not this process, decides that it already exists (across restarts too).
    A named reporter's pseudonym comes from the directory (a random one on their first
    named report); an anonymous report gets a random pseudonym of its own.
    """
    now = now or datetime.now(UTC)
    tenant = command.tenant

    since = window_start(now, intake.settings.duplicate_window_hours)
    location, duplicate_of = await asyncio.to_thread(intake.read, _place_and_duplicate, command, since=since)
    if len(command.attachments) > intake.settings.max_attachments:
        raise Invalid(f"at most {intake.settings.max_attachments} photos or videos per report", field="attachments")
    attachments = [await intake.attachment(tenant, digest, field=f"attachments.{i}") for i, digest in enumerate(command.attachments)]

    if command.check_id is not None:
        await _answerable(intake, command, filer)

    receipt_code = None
    if command.anonymous:
        report_id = report_id_for(tenant, ANONYMOUS, idempotency_key)
        receipt_code = intake.receipts.code_for(tenant, report_id, idempotency_key)
        reporter = Reporter(random_pseudonym(), None, receipt_digest(receipt_code), None)
    else:
        source, identity, officer = domain.named_reporter(command, filer)
        directory = intake.directory()
        pseudonym = await directory.assign(tenant, source)
        entered_by = None if officer is None else await directory.assign(tenant, officer)
        report_id = report_id_for(tenant, entered_by or pseudonym, idempotency_key)
        sealed = await intake.vault().seal(tenant, pseudonym, report_id, identity)
        reporter = Reporter(pseudonym, sealed, None, entered_by)

    async with intake.texts.sealing(tenant, report_id, new_report=True):
        filing = domain.file_report(
            command,
            report_id=report_id,
            event_id=stable_id(report_id, "filed"),
            location=location,
            reporter=reporter,
            attachments=attachments,
            possible_duplicate_of=duplicate_of,
            now=now,
        )
    # A new report's aggregate has no history unless this key filed it before: appended
    # unseen at version 0, and looked at only when the log already holds the report.
    appended, history = await _watched(partial(intake.store.decide_new, filing), lambda history: domain.first_filing(history, filing))
    if appended:
        return Filing(filing, True, receipt_code)
    stored = None if history is None else domain.filing_of(history)
    description = None if stored is None else await intake.texts.open(tenant, stored.description)
    stored = domain.repeated_filing(stored, command, description=description)
    if stored.anonymous:  # the code on record, even if the receipt key was rotated since
        receipt_code = intake.receipts.code_for(tenant, report_id, idempotency_key, recorded_digest=stored.receipt_digest)
    return Filing(stored, False, receipt_code)


def _place_and_duplicate(db: Connection, command: FileReport, *, since: datetime) -> tuple[Location, str | None]:
    """Where the report is, from the catalogue, and the open report it may repeat: one
    visit to intake's store (each visit is a hop to a worker thread and back)."""
    location = domain.locate(command, find_place(db, command.tenant, command.place_id))
    duplicate_of = possible_duplicate(
        db, tenant=command.tenant, category=command.category.value, place_id=location.place_id,
        equipment_tag=location.equipment_tag, since=since,
    )
    return location, duplicate_of


async def _answerable(intake: Intake, command: FileReport, filer: Filer) -> None:
    """The check the report answers, as the log holds it: its task in this subsidiary and the check itself."""
    task = await intake.store.load(command.tenant, CHECK_TASK, command.check_id)
    opened = task.events[0].event if task.events else None
    check = None
    if isinstance(opened, CheckTaskOpened):
        check = await intake.store.load(opened.origin_tenant, "check", command.check_id)
    domain.answerable_check(command, filer, task, check)


async def handle_catalogue_place(intake: Intake, command: CataloguePlace, *, actor: str) -> tuple[PlaceCatalogued, bool]:
    """Add a place; repeating the same request is harmless, reusing its id for another place is a conflict.

    The parent is read from the log, not the catalogue's read model, so that a site and
    its areas can be added in one go.
    """
    parent = None
    if command.parent_id is not None:
        parent = domain.place_in(await intake.store.load(command.tenant, "place", command.parent_id))
    now = datetime.now(UTC)
    appended, history = await _decide(
        intake, command.tenant, "place", command.place_id,
        lambda history: domain.catalogue(history, command, parent=parent, actor=actor, now=now),
    )
    return (appended[0], True) if appended else (history.events[0].event, False)


async def handle_retire_place(intake: Intake, tenant: str, place_id: str, *, reason: str, actor: str) -> PlaceRetired:
    """Stop a place taking new reports; its reports and history stay."""
    now = datetime.now(UTC)
    [event] = await intake.store.decide(
        tenant, "place", place_id, lambda history: domain.retire(history, tenant=tenant, place_id=place_id, reason=reason, actor=actor, now=now)
    )
    return event


async def handle_write_to_thread(
    intake: Intake, tenant: str, report_id: str, *, who: Looker, text: str, idempotency_key: str, now: datetime | None = None
) -> Event:
    """Write to the other side of the report's thread, once per Idempotency-Key: a resent
    message is the one written first. The thread's own sequence guards the append."""
    now = now or datetime.now(UTC)
    event_id = thread.message_id(report_id, idempotency_key)
    async with intake.texts.sealing(tenant, report_id):  # sealed under the report's text key as it is made
        appended, history = await _decide(
            intake, tenant, "thread", report_id,
            lambda history: thread.write(history, tenant=tenant, report_id=report_id, who=who, text=text, event_id=event_id, now=now),
        )
    return appended[0] if appended else thread.message(history, event_id)


async def handle_disclose_identity(
    intake: Intake, tenant: str, report_id: str, *, purpose: str, role: Role, actor: str
) -> tuple[Identity, IdentityDisclosed]:
    """Decrypt a reporter's identity if the policy allows it in the reward's present state
    (read from the log, never a lagging projection); the disclosure is in the log before
    anyone reads it, and a refusal records nothing.

    Opened first, in memory: an identity that cannot be opened (erased, or a master key
    missing) is not disclosed, so no disclosure is recorded.
    """
    filed = domain.filing_of(await intake.store.load(tenant, "report", report_id))
    reward = disclosure.reward_state(await intake.store.load(tenant, "reward", report_id))
    sealed = disclosure.identity_to_open(filed, role=role, reward=reward, tenant=tenant, report_id=report_id)
    try:
        identity = await intake.vault().open(tenant, report_id, sealed)
    except IdentityErased as exc:
        raise DomainError(str(exc), state="erased") from exc
    now = datetime.now(UTC)
    async with intake.texts.sealing(tenant, report_id):  # the purpose is sealed as the event is made
        [event] = await intake.store.decide(
            tenant, "reporter", filed.reporter,
            lambda history: disclosure.disclose(history, filed=filed, purpose=purpose, role=role, actor=actor, now=now),
        )
    return identity, event


async def handle_shred_reporter_key(
    intake: Intake, tenant: str, reporter: str, *, reason: str, actor: str
) -> ReporterKeyShredded:
    """Erase a reporter: recorded first, then the link from the person to the pseudonym and
    the data key that sealed their identities are purged (a retry finishes the erasure).
    The log keeps every event; nothing left links the pseudonym to anyone."""
    now = datetime.now(UTC)
    appended, history = await _decide(
        intake, tenant, "reporter", reporter,
        lambda history: domain.shred_reporter_key(history, tenant=tenant, reporter=reporter, reason=reason, actor=actor, now=now),
    )
    await intake.directory().forget(tenant, reporter)
    await intake.vault().shred(tenant, reporter)
    return appended[0] if appended else domain.recorded(history, ReporterKeyShredded)


async def handle_shred_report_text(
    intake: Intake, tenant: str, report_id: str, *, reason: ShredReason, actor: str
) -> ReportTextShredded:
    """Destroy a report's text key: recorded first, then destroyed (a retry finishes it).

    Every text sealed in the report's events (and in its reward's) is then unreadable in
    every replica and archive of the log; projections forget what they kept of it.
    """
    now = datetime.now(UTC)
    appended, history = await _decide(
        intake, tenant, "report", report_id,
        lambda history: domain.shred_report_text(history, tenant=tenant, report_id=report_id, reason=reason, actor=actor, now=now),
    )
    await intake.texts.shred(tenant, report_id)
    return appended[0] if appended else domain.recorded(history, ReportTextShredded)


async def handle_erase_reporter(
    intake: Intake, tenant: str, reporter: str, *, reason: str, actor: str
) -> ReporterKeyShredded:
    """Erase a reporter: their identity key, and the text keys of every report they filed."""
    event = await handle_shred_reporter_key(intake, tenant, reporter, reason=reason, actor=actor)
    for report_id in await asyncio.to_thread(intake.read, reports_of, tenant, reporter):
        await handle_shred_report_text(intake, tenant, report_id, reason=ShredReason.REPORTER_ERASURE, actor=actor)
    return event
