"""Intake's command handlers: file a report, keep the catalogue, disclose or erase an identity."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hazardloop.web.auth import Role
from hazardloop.errors import DomainError, Invalid, NotFound
from hazardloop.log.eventstore import ConcurrencyError, History
from hazardloop.events import (
    Event,
    IdentityDisclosed,
    PlaceCatalogued,
    PlaceRetired,
    ReportFiled,
    ReporterKeyShredded,
    ReportTextShredded,
    ShredReason,
    stable_id,
)
from hazardloop.privacy.identity import Identity, IdentityErased
from hazardloop.privacy.pseudonyms import random_pseudonym
from hazardloop_intake.adapters import Intake
from hazardloop_intake.catalogue import CataloguePlace, catalogue_place, same_place
from hazardloop_intake.disclosure import check_disclosure, reward_state
from hazardloop_intake.domain import ENTERED_BY_STAFF, FileReport, Place, Reporter, file_report, locate, same_report
from hazardloop_intake.queries import find_place, possible_duplicate, reports_of, window_start
from hazardloop.privacy.receipts import receipt_digest


@dataclass(frozen=True, slots=True)
class Filer:
    """Who is filing: the token's subject (None: nobody signed in, so only anonymously) and
    whether they are safety staff."""

    subject: str | None
    staff: bool = False


@dataclass(frozen=True, slots=True)
class Filing:
    event: ReportFiled
    created: bool
    receipt_code: str | None
    """Shown to an anonymous reporter; never stored."""


def _reporter_id(command: FileReport, filer: Filer) -> tuple[str, Identity, str | None]:
    """(who reported, identity to seal, the officer who entered it) for a named report."""
    if command.channel in ENTERED_BY_STAFF:
        if not filer.staff:
            raise Invalid(f"{command.channel.value} reports are entered by a safety officer", field="channel")
        if command.reporter is None:
            raise Invalid("name the employee who reported", field="reporter")
        return command.reporter.employee_number, command.reporter, filer.subject
    if filer.subject is None:  # nobody signed in: a typed employee number proves nothing
        raise Invalid("sign in to report in your own name, or report anonymously", field="who")
    if command.reporter is not None and command.reporter.employee_number != filer.subject:
        raise Invalid("you can only report in your own name here", field="reporter.employee_number")
    return filer.subject, command.reporter or Identity(employee_number=filer.subject), None


def new_idempotency_key() -> str:
    """A key for a request that came without one, handed back so that its retry reuses it:
    128 random bits, since an anonymous report's receipt code is only as secret as its key."""
    return uuid.uuid4().hex


ANONYMOUS = "anonymous"
"""The namespace of anonymous filings' Idempotency-Keys: nothing about who sent them."""


def report_id_for(tenant: str, namespace: str, idempotency_key: str) -> str:
    """The report an Idempotency-Key files: the same key and filer, the same report.

    ``namespace`` is the pseudonym of whoever files a named report (the officer's, for one
    they enter), ``ANONYMOUS`` otherwise: never a person's name or number, so that the id
    says nothing about who filed it, even to someone who guesses the key.
    """
    return str(stable_id("report", tenant, namespace, idempotency_key))


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

    place = await asyncio.to_thread(intake.read, find_place, tenant, command.place_id)
    location = locate(command, place)
    if len(command.attachments) > intake.settings.max_attachments:
        raise Invalid(f"at most {intake.settings.max_attachments} photos or videos per report", field="attachments")
    attachments = [await intake.attachment(tenant, digest, field=f"attachments.{i}") for i, digest in enumerate(command.attachments)]

    receipt_code = None
    if command.anonymous:
        report_id = report_id_for(tenant, ANONYMOUS, idempotency_key)
        receipt_code = intake.receipts.code_for(tenant, report_id, idempotency_key)
        reporter = Reporter(random_pseudonym(), None, receipt_digest(receipt_code), None)
    else:
        source, identity, officer = _reporter_id(command, filer)
        directory = intake.directory()
        pseudonym = await directory.assign(tenant, source)
        entered_by = None if officer is None else await directory.assign(tenant, officer)
        report_id = report_id_for(tenant, entered_by or pseudonym, idempotency_key)
        sealed = await intake.vault().seal(tenant, pseudonym, report_id, identity)
        reporter = Reporter(pseudonym, sealed, None, entered_by)

    duplicate_of = await asyncio.to_thread(
        intake.read,
        possible_duplicate,
        tenant=tenant,
        category=command.category.value,
        place_id=location.place_id,
        equipment_tag=location.equipment_tag,
        since=window_start(now, intake.settings.duplicate_window_hours),
    )
    async with intake.texts.sealing(tenant, report_id):
        event = file_report(
            command,
            report_id=report_id,
            event_id=stable_id(report_id, "filed"),
            location=location,
            reporter=reporter,
            attachments=attachments,
            possible_duplicate_of=duplicate_of,
            now=now,
        )
    appended = await intake.store.append(event, expected_version=0)
    if not appended.duplicate:
        return Filing(event, True, receipt_code)
    history = await intake.store.load(tenant, "report", report_id)
    stored = history.events[0].event
    description = await intake.texts.open(tenant, stored.description) if isinstance(stored, ReportFiled) else None
    if not isinstance(stored, ReportFiled) or not same_report(stored, command, description=description):
        raise Invalid("this Idempotency-Key was already used for a different report", field="Idempotency-Key")
    if stored.anonymous:  # the code on record, even if the receipt key was rotated since
        receipt_code = intake.receipts.code_for(tenant, report_id, idempotency_key, recorded_digest=stored.receipt_digest)
    return Filing(stored, False, receipt_code)


async def handle_catalogue_place(intake: Intake, command: CataloguePlace, *, actor: str) -> tuple[PlaceCatalogued, bool]:
    """Add a place; repeating the same request is harmless, reusing its id for another place is a conflict."""
    parent = None if command.parent_id is None else await _place_in_log(intake, command.tenant, command.parent_id)
    event = catalogue_place(
        command, parent=parent, actor=actor, event_id=stable_id(command.tenant, command.place_id, "catalogued"),
        now=datetime.now(UTC),
    )
    try:
        appended = await intake.store.append(event, expected_version=0)
    except ConcurrencyError:
        appended = None
    if appended is not None and not appended.duplicate:
        return event, True
    stored = (await intake.store.load(command.tenant, "place", command.place_id)).events[0].event
    if not isinstance(stored, PlaceCatalogued) or not same_place(stored, command):
        raise DomainError(f"place id {command.place_id!r} is already used for another place", state="catalogued")
    return stored, False


async def _place_in_log(intake: Intake, tenant: str, place_id: str) -> Place | None:
    """A place as the log has it: read-your-writes, so a site and its areas can be added in one go."""
    history = await intake.store.load(tenant, "place", place_id)
    if not history.events or not isinstance(created := history.events[0].event, PlaceCatalogued):
        return None
    retired = any(isinstance(stored.event, PlaceRetired) for stored in history.events)
    return Place(place_id, created.kind, created.name, None, None, created.equipment_tag, retired)


async def handle_retire_place(intake: Intake, tenant: str, place_id: str, *, reason: str, actor: str) -> PlaceRetired:
    history = await intake.store.load(tenant, "place", place_id)
    if not history.events:
        raise NotFound(f"no place {place_id!r} in {tenant}'s catalogue")
    if any(isinstance(stored.event, PlaceRetired) for stored in history.events):
        raise DomainError(f"place {place_id!r} is already retired", state="retired")
    event = PlaceRetired.record(
        prev_hash=history.last_hash, tenant=tenant, aggregate_id=place_id, actor=actor, reason=reason
    )
    await intake.store.append(event, expected_version=history.version)
    return event


async def _filed(intake: Intake, tenant: str, report_id: str) -> ReportFiled:
    history = await intake.store.load(tenant, "report", report_id)
    filed = history.events[0].event if history.events else None
    if not isinstance(filed, ReportFiled):
        raise NotFound(f"no report {report_id!r} in {tenant}")
    return filed


async def _record_on_reporter(intake: Intake, tenant: str, reporter: str, decide: Callable[[History], Event]) -> Event:
    """Append what ``decide`` makes of the reporter's record, reloading after a lost race.

    ``decide`` may return an event already in the record: then nothing is appended.
    """
    return await _record_on(intake, tenant, "reporter", reporter, decide)


async def _record_on(intake: Intake, tenant: str, kind: str, aggregate_id: str, decide: Callable[[History], Event]) -> Event:
    for _ in range(3):
        history = await intake.store.load(tenant, kind, aggregate_id)
        event = decide(history)
        if any(stored.event.event_id == event.event_id for stored in history.events):
            return event
        try:
            await intake.store.append(event, expected_version=history.version)
            return event
        except ConcurrencyError:
            continue
    raise DomainError(f"the {kind}'s record kept changing; try again", state="busy")


async def handle_disclose_identity(
    intake: Intake, tenant: str, report_id: str, *, purpose: str, role: Role, actor: str
) -> tuple[Identity, IdentityDisclosed]:
    """Decrypt a reporter's identity if the policy allows it in the reward's present state
    (read from the log, never a lagging projection); the disclosure is in the log before
    anyone reads it, and a refusal records nothing.

    Opened first, in memory: an identity that cannot be opened (erased, or a master key
    missing) is not disclosed, so no disclosure is recorded.
    """
    filed = await _filed(intake, tenant, report_id)
    check_disclosure(role, reward_state(await intake.store.load(tenant, "reward", report_id)))
    if filed.identity is None:
        raise DomainError("the report was filed anonymously: there is no identity to disclose", state="anonymous")
    try:
        identity = await intake.vault().open(tenant, report_id, filed.identity)
    except IdentityErased as exc:
        raise DomainError(str(exc), state="erased") from exc
    async with intake.texts.sealing(tenant, report_id):  # the purpose is sealed as the event is made
        event = await _record_on_reporter(
            intake,
            tenant,
            filed.reporter,
            lambda history: IdentityDisclosed.record(
                prev_hash=history.last_hash, tenant=tenant, aggregate_id=filed.reporter, actor=actor, report_id=report_id,
                purpose=purpose, role=role.value,
            ),
        )
    return identity, event


async def handle_shred_reporter_key(
    intake: Intake, tenant: str, reporter: str, *, reason: str, actor: str
) -> ReporterKeyShredded:
    """Erase a reporter: recorded first, then the link from the person to the pseudonym and
    the data key that sealed their identities are purged (a retry finishes the erasure).
    The log keeps every event; nothing left links the pseudonym to anyone."""

    def shredding(history: History) -> ReporterKeyShredded:
        done = next((s.event for s in history.events if isinstance(s.event, ReporterKeyShredded)), None)
        return done or ReporterKeyShredded.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=reporter, actor=actor, reason=reason,
            event_id=stable_id(tenant, reporter, "shredded"),
        )

    event = await _record_on_reporter(intake, tenant, reporter, shredding)
    await intake.directory().forget(tenant, reporter)
    await intake.vault().shred(tenant, reporter)
    return event


async def handle_shred_report_text(
    intake: Intake, tenant: str, report_id: str, *, reason: ShredReason, actor: str
) -> ReportTextShredded:
    """Destroy a report's text key: recorded first, then destroyed (a retry finishes it).

    Every text sealed in the report's events (and in its reward's) is then unreadable in
    every replica and archive of the log; projections forget what they kept of it.
    """

    def shredding(history: History) -> ReportTextShredded:
        done = next((s.event for s in history.events if isinstance(s.event, ReportTextShredded)), None)
        return done or ReportTextShredded.record(
            prev_hash=history.last_hash, tenant=tenant, aggregate_id=report_id, actor=actor, reason=reason,
            event_id=stable_id(tenant, report_id, "text-shredded"),
        )

    event = await _record_on(intake, tenant, "report", report_id, shredding)
    await intake.texts.shred(tenant, report_id)
    return event


async def handle_erase_reporter(
    intake: Intake, tenant: str, reporter: str, *, reason: str, actor: str
) -> ReporterKeyShredded:
    """Erase a reporter: their identity key, and the text keys of every report they filed."""
    event = await handle_shred_reporter_key(intake, tenant, reporter, reason=reason, actor=actor)
    for report_id in await asyncio.to_thread(intake.read, reports_of, tenant, reporter):
        await handle_shred_report_text(intake, tenant, report_id, reason=ShredReason.REPORTER_ERASURE, actor=actor)
    return event
