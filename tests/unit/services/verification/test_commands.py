"""Verification's command handlers on the in-memory event store: what each appends, what the
domain refuses (and then nothing is appended), a lost race and an outage. No broker."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from hazardloop.errors import Invalid, NotFound
from hazardloop.events import (
    SEALING,
    Accepted,
    AttachmentRef,
    CaseworkPolicy,
    CaseworkPolicySet,
    Event,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    Rectified,
    ReporterFedBack,
    SealedText,
    SlaBreached,
    Verified,
)
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.testing import InMemoryEventStore
from hazardloop.timing.deadlines import deadline_timers, sla_timers
from hazardloop_verification.commands import Casework
from hazardloop_verification.domain import (
    Accept,
    Assign,
    DecideExtension,
    EscalateExternally,
    FeedBack,
    NotAllowed,
    OnTheSpot,
    Rectify,
    ReportCase,
    RequestExtension,
    Review,
    SetCaseworkPolicy,
    Verify,
    policy_in_force,
)
from tests.clock import ManualClock
from tests.eventstore_contract import rivals_win
from tests.factories import report_filed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PHOTO = AttachmentRef(digest="ab" * 32, content_type="image/jpeg", size=2048, kind="image")
NOWHERE = "cd" * 32
"""The digest of a file nobody uploaded."""


class Sealer:
    """Seals as the text vault does, under each report's own key; here the "ciphertext" is
    just the text in base64, so a test can read what was sealed."""

    @contextlib.asynccontextmanager
    async def sealing(self, tenant: str, report_id: str) -> AsyncIterator[None]:
        def seal(text: str) -> SealedText:
            ciphertext = base64.urlsafe_b64encode(text.encode() + bytes(16)).decode().rstrip("=")
            return SealedText(key_id=report_id, nonce="A" * 16, ciphertext=ciphertext)

        token = SEALING.set(seal)
        try:
            yield
        finally:
            SEALING.reset(token)


def unsealed(text: SealedText) -> str:
    raw = base64.urlsafe_b64decode(text.ciphertext + "=" * (-len(text.ciphertext) % 4))
    return raw[:-16].decode()


class Uploads:
    """The files uploaded through intake: one photo in the refinery."""

    async def find(self, tenant: str, digest: str) -> AttachmentRef | None:
        return PHOTO if (tenant, digest) == ("refinery", PHOTO.digest) else None


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def merged() -> dict[str, dict[str, datetime]]:
    """The read model's reports merged into each report (none until a test says so)."""
    return {}


@pytest.fixture
def casework(store, clock, merged) -> Casework:
    return Casework(store, Sealer(), clock, Uploads(), lambda report_id: merged.get(report_id, {}))


async def filed(store: InMemoryEventStore, *, hours_ago: float = 1) -> str:
    """A report filed through intake: its first event in the log; its id."""
    filing = report_filed(occurred_at=NOW - timedelta(hours=hours_ago))
    await store.append(filing, expected_version=0)
    return filing.aggregate_id


async def log_of(store: InMemoryEventStore, report_id: str, tenant: str = "refinery") -> list[Event]:
    """The report's events after its filing, as the log holds them."""
    return [stored.event for stored in (await store.load(tenant, "report", report_id)).events[1:]]


def kinds(events: list[Event]) -> list[type[Event]]:
    return [type(event) for event in events]


async def refused(store: InMemoryEventStore, command, error: type[Exception] = NotAllowed) -> Exception:
    """The command's refusal, having checked that the log did not change."""
    before = await store.last_sequence()
    with pytest.raises(error) as refusal:
        await command
    assert await store.last_sequence() == before, "a refused command appends nothing"
    return refusal.value


async def rectifying(casework: Casework, store: InMemoryEventStore, *, owner: str = "maint-wang") -> str:
    """A confirmed larger hazard, its rectification assigned to ``owner`` for a week."""
    report_id = await filed(store)
    rectification = Assign(owner=owner, deadline=NOW + timedelta(days=7))
    command = Verify(outcome="confirmed_hazard", grade="larger", rectification=rectification)
    await casework.verify("refinery", report_id, command, "safety-li")
    return report_id


# --- accept ------------------------------------------------------------------------------


async def test_accept_appends_the_acceptance_chained_to_the_filing_and_only_once(casework, store):
    report_id = await filed(store)
    [accepted] = await casework.accept("refinery", report_id, Accept(note="On it"), "safety-li")
    assert await log_of(store, report_id) == [accepted]
    assert isinstance(accepted, Accepted) and accepted.actor == "safety-li" and accepted.occurred_at == NOW
    again = await refused(store, casework.accept("refinery", report_id, Accept(), "safety-li"))
    assert again.state == "accepted"


async def test_a_command_on_a_report_the_log_does_not_hold_is_not_found(casework, store):
    await refused(store, casework.accept("refinery", "no-such-report", Accept(), "safety-li"), NotFound)


async def test_text_is_sealed_under_the_reports_own_key(casework, store):
    report_id = await filed(store)
    [accepted] = await casework.accept("refinery", report_id, Accept(note="On it"), "safety-li")
    assert accepted.note.key_id == report_id and unsealed(accepted.note) == "On it"


# --- verify ------------------------------------------------------------------------------


async def test_verify_with_a_rectification_assigns_it_under_the_policy_set_in_the_log(casework, store):
    policy = SetCaseworkPolicy.model_validate({"deadline_days": {"general": 1, "larger": 10, "major": 15}})
    await casework.set_policy("refinery", policy, "manager-chen")
    report_id = await filed(store)
    command = Verify(outcome="confirmed_hazard", grade="larger", rectification=Assign(owner="maint-wang"))
    verified, assigned = await casework.verify("refinery", report_id, command, "safety-li")
    assert await log_of(store, report_id) == [verified, assigned]
    assert isinstance(verified, Verified) and verified.grade == "larger" and verified.risk_colour == "orange"
    assert isinstance(assigned, RectificationAssigned) and assigned.owner == "maint-wang"
    assert assigned.deadline == NOW + timedelta(days=10), "the larger hazard's deadline of the policy in force"
    again = await refused(store, casework.verify("refinery", report_id, Verify(outcome="not_confirmed"), "safety-zhou"))
    assert again.state == "rectifying"


async def test_the_same_verification_sent_again_completes_what_did_not_land(casework, store):
    report_id = await filed(store)
    command = Verify(outcome="confirmed_hazard", grade="larger", rectification=Assign(owner="maint-wang", deadline=NOW + timedelta(days=5)))
    history = await store.load("refinery", "report", report_id)
    [verified, _] = ReportCase.from_history("refinery", report_id, history).verify(command, actor="safety-li", now=NOW)
    await store.append(verified, expected_version=history.version)  # the first event alone, as an outage would leave it
    [assigned] = await casework.verify("refinery", report_id, command, "safety-li")
    assert await log_of(store, report_id) == [verified, assigned] and assigned.prev_hash == verified.hash


async def test_a_general_hazard_fixed_on_the_spot_closes_with_its_photo(casework, store):
    report_id = await filed(store)
    spot = OnTheSpot(measures="Refitted the guard", evidence=(PHOTO.digest,))
    command = Verify(outcome="confirmed_hazard", grade="general", on_the_spot=spot)
    verified, fixed = await casework.verify("refinery", report_id, command, "safety-li")
    assert await log_of(store, report_id) == [verified, fixed]
    assert isinstance(fixed, Rectified) and fixed.on_the_spot and fixed.evidence == (PHOTO,)


async def test_on_the_spot_evidence_never_uploaded_is_refused_naming_it(casework, store):
    report_id = await filed(store)
    spot = OnTheSpot(measures="Refitted the guard", evidence=(NOWHERE,))
    command = Verify(outcome="confirmed_hazard", grade="general", on_the_spot=spot)
    invalid = await refused(store, casework.verify("refinery", report_id, command, "safety-li"), Invalid)
    assert invalid.field == "on_the_spot.evidence.0"


async def test_a_duplicate_merges_into_a_verified_report_and_names_the_hazards_first_report(casework, store, merged):
    primary = await filed(store, hours_ago=2)
    duplicate = await filed(store, hours_ago=1)
    command = Verify(outcome="duplicate", duplicate_of=primary)
    unverified = await refused(store, casework.verify("refinery", duplicate, command, "safety-li"), Invalid)
    assert unverified.field == "duplicate_of", "merge into a verified report only"

    await casework.verify("refinery", primary, Verify(outcome="confirmed_hazard", grade="general"), "safety-li")
    merged[primary] = {"earliest": NOW - timedelta(days=1)}  # merged into it before, and filed before both
    [verified] = await casework.verify("refinery", duplicate, command, "safety-li")
    assert await log_of(store, duplicate) == [verified]
    assert (verified.duplicate_of, verified.first_report_id) == (primary, "earliest")


@pytest.mark.parametrize("target", ["itself", "no-such-report", "a-duplicate"])
async def test_a_duplicate_never_merges_into_itself_nothing_or_another_duplicate(casework, store, target):
    primary, merged_one, report_id = await filed(store), await filed(store), await filed(store)
    await casework.verify("refinery", primary, Verify(outcome="confirmed_hazard", grade="general"), "safety-li")
    await casework.verify("refinery", merged_one, Verify(outcome="duplicate", duplicate_of=primary), "safety-li")
    duplicate_of = {"itself": report_id, "no-such-report": "no-such-report", "a-duplicate": merged_one}[target]
    command = Verify(outcome="duplicate", duplicate_of=duplicate_of)
    invalid = await refused(store, casework.verify("refinery", report_id, command, "safety-li"), Invalid)
    assert invalid.field == "duplicate_of"


# --- assign ------------------------------------------------------------------------------


async def test_assign_names_the_owner_of_a_verified_hazard_with_the_grades_default_deadline(casework, store):
    report_id = await filed(store)
    early = await refused(store, casework.assign("refinery", report_id, Assign(owner="maint-wang"), "manager-chen"))
    assert early.state == "filed"
    await casework.verify("refinery", report_id, Verify(outcome="confirmed_hazard", grade="larger"), "safety-li")
    [assigned] = await casework.assign("refinery", report_id, Assign(owner="maint-wang"), "manager-chen")
    assert (await log_of(store, report_id))[-1] == assigned
    assert assigned.owner == "maint-wang" and assigned.deadline == NOW + timedelta(days=7)
    assert assigned.escalation == CaseworkPolicy().escalation, "the default ladder until a policy is set"


# --- extensions --------------------------------------------------------------------------


async def test_the_owner_asks_for_more_time_and_another_manager_grants_it(casework, store):
    report_id = await rectifying(casework, store)
    later = NOW + timedelta(days=14)
    ask = RequestExtension(deadline=later, reason="Parts on order")
    stranger = await refused(store, casework.request_extension("refinery", report_id, ask, "maint-zhou"))
    assert stranger.state == "rectifying"
    [asked] = await casework.request_extension("refinery", report_id, ask, "maint-wang")
    assert isinstance(asked, ExtensionRequested) and asked.requested_deadline == later
    own = await refused(store, casework.decide_extension("refinery", report_id, DecideExtension(approve=True), "maint-wang"))
    assert own.state == "extension_pending"
    [granted] = await casework.decide_extension("refinery", report_id, DecideExtension(approve=True), "manager-chen")
    assert isinstance(granted, ExtensionGranted) and granted.deadline == later
    assert (await log_of(store, report_id))[-2:] == [asked, granted]


async def test_a_refused_extension_gives_its_reason_and_none_is_left_to_decide(casework, store):
    report_id = await rectifying(casework, store)
    ask = RequestExtension(deadline=NOW + timedelta(days=14), reason="Parts on order")
    await casework.request_extension("refinery", report_id, ask, "maint-wang")
    no = DecideExtension(approve=False, reason="Use the spare")
    [refusal] = await casework.decide_extension("refinery", report_id, no, "manager-chen")
    assert isinstance(refusal, ExtensionRefused) and unsealed(refusal.reason) == "Use the spare"
    nothing = await refused(store, casework.decide_extension("refinery", report_id, DecideExtension(approve=True), "manager-chen"))
    assert nothing.state == "rectifying"


# --- rectify and review ------------------------------------------------------------------


async def test_the_owner_records_the_rectification_with_its_photo(casework, store):
    report_id = await rectifying(casework, store)
    work = Rectify(measures="Replaced the valve", evidence=(PHOTO.digest,))
    stranger = await refused(store, casework.rectify("refinery", report_id, work, "maint-zhou", verifier=False))
    assert stranger.state == "rectifying"
    missing = Rectify(measures="Replaced the valve", evidence=(NOWHERE,))
    invalid = await refused(store, casework.rectify("refinery", report_id, missing, "maint-wang", verifier=False), Invalid)
    assert invalid.field == "evidence.0"
    [done] = await casework.rectify("refinery", report_id, work, "maint-wang", verifier=False)
    assert isinstance(done, Rectified) and done.evidence == (PHOTO,) and not done.on_the_spot
    assert (await log_of(store, report_id))[-1] == done


async def test_a_verifier_may_record_the_rectification_for_its_owner(casework, store):
    report_id = await rectifying(casework, store)
    [done] = await casework.rectify("refinery", report_id, Rectify(measures="Replaced the valve"), "safety-li", verifier=True)
    assert done.actor == "safety-li"


async def test_a_review_by_someone_else_accepts_or_rejects_the_work(casework, store):
    report_id = await rectifying(casework, store)
    early = await refused(store, casework.review("refinery", report_id, Review(accept=True), "safety-zhou"))
    assert early.state == "rectifying"
    await casework.rectify("refinery", report_id, Rectify(measures="Replaced the valve"), "maint-wang", verifier=False)
    own = await refused(store, casework.review("refinery", report_id, Review(accept=True), "maint-wang"))
    assert own.state == "under_review"
    [rejected] = await casework.review("refinery", report_id, Review(accept=False, reason="Still leaking"), "safety-zhou")
    assert isinstance(rejected, RectificationRejected)
    await casework.rectify("refinery", report_id, Rectify(measures="Tightened the flange"), "maint-wang", verifier=False)
    [accepted] = await casework.review("refinery", report_id, Review(accept=True), "safety-zhou")
    assert isinstance(accepted, RectificationAccepted)
    assert kinds((await log_of(store, report_id))[-4:]) == [Rectified, RectificationRejected, Rectified, RectificationAccepted]


# --- feedback, clocks and the way out ------------------------------------------------------


async def test_feedback_tells_the_reporter_in_sealed_words(casework, store):
    report_id = await filed(store)
    [told] = await casework.feed_back("refinery", report_id, FeedBack(message="Being checked this week"), "safety-li")
    assert isinstance(told, ReporterFedBack) and unsealed(told.message) == "Being checked this week"
    assert await log_of(store, report_id) == [told]


async def test_due_clocks_fire_once_and_clocks_not_due_or_stopped_not_at_all(casework, store, clock):
    report_id = await filed(store)
    accept_clock, verify_clock, feedback_clock = sla_timers(NOW - timedelta(hours=1), CaseworkPolicy())
    assert await casework.fire_clocks("refinery", report_id, [accept_clock, verify_clock, feedback_clock]) == [], "none is due yet"
    clock.advance(days=4)
    await casework.feed_back("refinery", report_id, FeedBack(message="Being checked"), "safety-li")
    fired = await casework.fire_clocks("refinery", report_id, [accept_clock, verify_clock, feedback_clock])
    assert kinds(fired) == [SlaBreached, SlaBreached] and [e.clock for e in fired] == ["accept", "verify"], "feedback was given"
    assert await casework.fire_clocks("refinery", report_id, [accept_clock, verify_clock]) == [], "each fires once"
    assert kinds(await log_of(store, report_id)) == [ReporterFedBack, SlaBreached, SlaBreached]


async def test_an_overdue_report_may_be_taken_to_the_authorities_once(casework, store, clock):
    report_id = await rectifying(casework, store)
    escalate = EscalateExternally(authority="County emergency bureau")
    early = await refused(store, casework.escalate_externally("refinery", report_id, escalate, "p-reporter"))
    assert early.state == "rectifying"
    clock.advance(days=8)
    overdue = deadline_timers(NOW + timedelta(days=7), ())[0]
    [late] = await casework.fire_clocks("refinery", report_id, [overdue])
    assert isinstance(late, RectificationOverdue) and late.owner == "maint-wang"
    [escalated] = await casework.escalate_externally("refinery", report_id, escalate, "p-reporter")
    assert isinstance(escalated, ExternallyEscalated) and escalated.authority == "County emergency bureau"
    again = await refused(store, casework.escalate_externally("refinery", report_id, escalate, "p-reporter"))
    assert again.state == "escalated"


# --- the policy --------------------------------------------------------------------------


async def test_each_policy_set_is_chained_onto_the_one_before(casework, store):
    first = await casework.set_policy("refinery", SetCaseworkPolicy.model_validate({"verify_within_days": 2}), "manager-chen")
    second = await casework.set_policy("refinery", SetCaseworkPolicy.model_validate({"verify_within_days": 5}), "head-liu")
    history = await store.load("refinery", "policy", "casework")
    assert [s.event for s in history.events] == [first, second] and isinstance(second, CaseworkPolicySet)
    assert second.prev_hash == first.hash and policy_in_force(history).verify_within_days == 5


# --- races and outages -------------------------------------------------------------------


async def test_a_verification_that_loses_the_race_gets_the_winners_state(casework, store, monkeypatch):
    report_id = await filed(store)
    [filing] = (await store.load("refinery", "report", report_id)).events
    rival = Verified.record(
        prev_hash=filing.event.hash, tenant="refinery", aggregate_id=report_id, actor="safety-zhou", outcome="not_confirmed"
    )
    rivals_win(monkeypatch, store, rival)
    with pytest.raises(NotAllowed) as lost:
        await casework.verify("refinery", report_id, Verify(outcome="confirmed_hazard", grade="major"), "safety-li")
    assert lost.value.state == "not_confirmed"
    assert await log_of(store, report_id) == [rival], "the winner's verification alone"


async def test_a_command_that_loses_the_race_to_one_it_does_not_conflict_with_lands_after_it(casework, store, monkeypatch):
    report_id = await filed(store)
    [filing] = (await store.load("refinery", "report", report_id)).events
    rival = Accepted.record(prev_hash=filing.event.hash, tenant="refinery", aggregate_id=report_id, actor="safety-zhou")
    rivals_win(monkeypatch, store, rival)
    [told] = await casework.feed_back("refinery", report_id, FeedBack(message="Being checked"), "safety-li")
    assert await log_of(store, report_id) == [rival, told] and told.prev_hash == rival.hash


async def test_an_outage_refuses_the_command_and_appends_nothing(casework, store):
    report_id = await filed(store)
    store.fail_next()
    with pytest.raises(EventStoreUnavailable):
        await casework.accept("refinery", report_id, Accept(), "safety-li")
    assert await log_of(store, report_id) == []
