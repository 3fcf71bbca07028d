"""Who hears what: the routing table, read off the events of a report's life."""

from __future__ import annotations

import json

import pytest

from hazardloop.events import DirectoryRole as R
from hazardloop_notifications.projection import projection
from hazardloop_notifications.routing import NEEDS_OWNER, digest_notices, notices_for
from tests.factories import REPORTER
from tests.unit.services.notifications.samples import digest_params, report_row, sample_events

SAFETY, LEADERSHIP, HQ = f"role:{R.SAFETY_DEPARTMENT.value}", f"role:{R.SUBSIDIARY_LEADERSHIP.value}", f"role:{R.GROUP_HQ.value}"
OWNER = "person:maint-wang"

HEARD = {
    # the report
    "ReportFiled": [("received", "reporter"), ("new_report", SAFETY)],
    "Accepted": [("accepted", "reporter")],
    "Verified": [("verified", "reporter")],
    "ReporterFedBack": [("feedback", "reporter")],
    "ReporterWrote": [("reporter_wrote", SAFETY)],
    "StaffWrote": [("staff_wrote", "reporter")],
    "SlaBreached": [("sla_breached", SAFETY)],
    "ExternallyEscalated": [("externally_escalated", SAFETY), ("externally_escalated", LEADERSHIP)],
    # its rectification
    "RectificationAssigned": [("rectification_assigned", "reporter"), ("task_assigned", OWNER)],
    "RectificationReminderDue": [("deadline_reminder", OWNER)],
    "ExtensionRequested": [("extension_requested", f"role:{R.MANAGER.value}")],
    "ExtensionGranted": [("extension_granted", OWNER)],
    "ExtensionRefused": [("extension_refused", OWNER)],
    "Rectified": [("rectified", "reporter"), ("rectification_review", SAFETY)],
    "Rectified on the spot": [("rectified", "reporter")],
    "RectificationRejected": [("rectification_rejected", OWNER)],
    "RectificationAccepted": [("closed", "reporter")],
    "RectificationOverdue": [("rectification_overdue", "reporter"), ("overdue", OWNER)],
    "EscalationRaised at the deadline": [("escalation", SAFETY)],
    "EscalationRaised later": [("escalation", OWNER), ("escalation", LEADERSHIP), ("escalation", HQ)],
    # its reward
    "RewardProposed": [("reward_proposed", "reporter"), ("reward_pending", f"role:{R.APPROVER.value}")],
    "RewardReferred": [("reward_referred", HQ)],
    "RewardApproved": [("reward_approved", f"role:{R.FINANCE.value}")],
    "RewardGranted": [("rewarded", "reporter")],
    "RewardDeclined": [("not_rewarded", "reporter")],
    # a check elsewhere: the task of the subsidiary addressed
    "CheckTaskOpened": [("check_task", SAFETY)],
    "CheckTaskOverdue": [("check_overdue", SAFETY)],
    "CheckEscalationRaised at the deadline": [],
    "CheckEscalationRaised later": [("check_escalation", SAFETY), ("check_escalation", LEADERSHIP)],
}
"""Each sample event (named by its type, and what sets it apart) and who hears of it, in order."""


def who(to) -> str:
    return "reporter" if to.reporter else f"person:{to.person}" if to.person else f"role:{to.role.value}"


def owner_of(event) -> str | None:
    return report_row()["owner"] if isinstance(event, NEEDS_OWNER) else None


def named(event) -> str:
    """The sample's entry in ``HEARD``."""
    if event.type == "Rectified" and event.on_the_spot:
        return "Rectified on the spot"
    if event.type in ("EscalationRaised", "CheckEscalationRaised"):
        return f"{event.type} {'later' if event.due_at > event.deadline else 'at the deadline'}"
    return event.type


SAMPLES = {named(event): event for event in sample_events()}  # the last Verified: all three are checked below


@pytest.mark.parametrize("name", HEARD)
def test_each_event_reaches_its_audiences(name):
    event = SAMPLES[name]
    assert [(n.kind, who(n.to)) for n in notices_for(event, owner_of(event))] == HEARD[name]


def test_every_outcome_of_a_verification_reaches_the_reporter():
    verified = [event for event in sample_events() if event.type == "Verified"]
    assert {event.outcome.value for event in verified} == {"confirmed_hazard", "valid_not_hazard", "not_confirmed"}
    for event in verified:
        [notice] = notices_for(event)
        assert notice.to.reporter and notice.params["outcome"] == event.outcome.value


def test_every_event_the_projection_follows_is_in_the_routing_table_or_tells_nobody():
    silent = {  # what notifications records of itself, and a report's text forgotten
        "DirectoryEntrySet", "DirectoryEntryRemoved", "NotificationSent", "NotificationFailed", "NotificationRetried",
        "MessageRead", "ReportTextShredded",
    }
    routed = {name.split()[0] for name in HEARD} | {"DigestDue"}  # the digest: see below
    assert set(projection(reminder_hours=(24,)).event_types) == routed | silent


def test_managers_get_the_daily_digest():
    [notice] = digest_notices(digest_params())
    assert (notice.kind, who(notice.to)) == ("digest", f"role:{R.MANAGER.value}") and notice.params == digest_params()


def test_without_an_owner_the_owners_notices_go_nowhere():
    for event in sample_events():
        if isinstance(event, NEEDS_OWNER):
            assert all(not n.to.person for n in notices_for(event, None))


def test_no_notice_to_staff_names_the_reporter():
    for event in sample_events():
        for notice in notices_for(event, owner_of(event)):
            if not notice.to.reporter:
                assert REPORTER not in json.dumps(notice.params, default=str), (event.type, notice.kind)


def test_every_notice_says_which_report_it_is_about():
    """A check's notices name the check, never the original report of another subsidiary."""
    for event in sample_events():
        about = "c-1" if event.type.startswith("Check") else "r-1"
        assert all(n.params["report_id"] == about for n in notices_for(event, owner_of(event))), event.type
