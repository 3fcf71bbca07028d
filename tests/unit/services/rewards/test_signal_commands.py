"""Reviewers' decisions on fraud signals and the signal rules, on an in-memory log: what each
records (the reason sealed), and what each refuses with nothing appended."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hazardloop.errors import Invalid
from hazardloop.events import NearDuplicatesRule, SealedText, SignalRule, SignalRules
from hazardloop.testing import InMemoryEventStore
from hazardloop_rewards.commands import RewardCommands
from hazardloop_rewards.domain import NotAllowed
from hazardloop_rewards.signals.review import RULES_ID, SignalSeen
from hazardloop_rewards.signals.seen import signal_id
from tests.clock import ManualClock
from tests.factories import REPORTER
from tests.unit.services.rewards.test_commands import TextsInProcess

TENANT = "refinery"
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
HEAD, OTHER_HEAD, REPORTING_HEAD = "head-liu", "head-2", "head-who-reported"
SEEN = SignalSeen(signal_id(TENANT, SignalRule.NEAR_DUPLICATES, REPORTER, "tag:p-101", "unsafe_equipment"), TENANT,
                  SignalRule.NEAR_DUPLICATES, REPORTER, ("r-1", "r-2", "r-3"))  # fmt: skip


@pytest.fixture
def log() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def texts() -> TextsInProcess:
    return TextsInProcess()


@pytest.fixture
def commands(log: InMemoryEventStore, texts: TextsInProcess) -> RewardCommands:
    async def pseudonym_of(tenant: str, subject: str) -> str | None:
        return {(TENANT, REPORTING_HEAD): REPORTER}.get((tenant, subject))

    return RewardCommands(log, texts.sealing, pseudonym_of, ManualClock(NOW), ZoneInfo("Asia/Shanghai"))


async def decisions(log: InMemoryEventStore, signal: str = SEEN.signal_id) -> list:
    return [stored.event for stored in (await log.load(TENANT, "signal", signal)).events]


async def test_a_dismissal_records_the_evidence_it_covers_and_the_reason_sealed_under_its_first_report(log, commands, texts):
    [event] = await commands.dismiss_signal(SEEN, reason="He is the pump's operator; each was a new leak.", actor=HEAD)
    assert [e.type for e in await decisions(log)] == ["SignalDismissed"]
    assert (event.rule, event.evidence, event.actor) == (SignalRule.NEAR_DUPLICATES, ("r-1", "r-2", "r-3"), HEAD)
    assert isinstance(event.reason, SealedText) and event.reason.key_id == "r-1"
    assert await texts.open(TENANT, event.reason) == "He is the pump's operator; each was a new leak."


async def test_a_dismissed_signal_is_not_dismissed_again_until_a_report_is_added_to_it(log, commands):
    await commands.dismiss_signal(SEEN, reason="Checked on site.", actor=HEAD)
    with pytest.raises(NotAllowed, match="already dismissed"):
        await commands.dismiss_signal(SEEN, reason="Again.", actor=OTHER_HEAD)
    assert len(await decisions(log)) == 1

    grown = SignalSeen(SEEN.signal_id, TENANT, SEEN.rule, REPORTER, ("r-1", "r-2", "r-3", "r-4"))
    await commands.dismiss_signal(grown, reason="The fourth was a new leak too.", actor=OTHER_HEAD)
    assert [e.type for e in await decisions(log)] == ["SignalDismissed", "SignalDismissed"]


async def test_a_confirmation_stands_neither_dismissed_nor_confirmed_again(log, commands):
    [event] = await commands.confirm_signal(SEEN, note="Same photo three times.", actor=HEAD)
    assert event.type == "SignalConfirmed" and isinstance(event.note, SealedText)
    with pytest.raises(NotAllowed, match="confirmed"):
        await commands.dismiss_signal(SEEN, reason="Changed my mind.", actor=OTHER_HEAD)
    with pytest.raises(NotAllowed, match="confirmed"):
        await commands.confirm_signal(SEEN, note=None, actor=OTHER_HEAD)
    assert len(await decisions(log)) == 1


async def test_nobody_decides_a_signal_about_their_own_reports(log, commands):
    with pytest.raises(NotAllowed, match="their own"):
        await commands.dismiss_signal(SEEN, reason="Nothing to see.", actor=REPORTING_HEAD)
    with pytest.raises(NotAllowed, match="their own"):
        await commands.confirm_signal(SEEN, note=None, actor=REPORTING_HEAD)
    assert await decisions(log) == []


async def test_a_blank_reason_is_refused_and_nothing_is_appended(log, commands):
    with pytest.raises(Invalid) as refused:
        await commands.dismiss_signal(SEEN, reason="   ", actor=HEAD)
    assert refused.value.field == "reason"
    assert await decisions(log) == []


async def test_signal_rules_are_set_per_subsidiary_and_setting_the_same_again_records_nothing(log, commands):
    rules = SignalRules(near_duplicates=NearDuplicatesRule(window_days=30, min_reports=4))
    [event] = await commands.set_signal_rules(TENANT, rules, actor=HEAD)
    assert event.rules.near_duplicates.window_days == 30
    assert await commands.set_signal_rules(TENANT, rules, actor=HEAD) == []
    assert len((await log.load(TENANT, "signal_rules", RULES_ID)).events) == 1
    assert not (await log.load("mine", "signal_rules", RULES_ID)).events
