"""Who hears what: the routing table, read off the events of a report's life."""

from __future__ import annotations

from hazardloop.events import DirectoryRole as R
from hazardloop_notifications.routing import NEEDS_OWNER, notices_for
from tests.unit.services.notifications.samples import report_row, sample_events


def audiences(event) -> list[tuple[str, str]]:
    def who(to):
        return "reporter" if to.reporter else f"person:{to.person}" if to.person else f"role:{to.role.value}"

    owner = report_row()["owner"] if isinstance(event, NEEDS_OWNER) else None
    return [(n.kind, who(n.to)) for n in notices_for(event, owner)]


def by_type() -> dict[str, list]:
    table: dict[str, list] = {}
    for event in sample_events():
        table.setdefault(event.type, []).append(audiences(event))
    return table


def test_the_reporter_hears_each_step_of_their_report():
    table = by_type()
    assert ("received", "reporter") in table["ReportFiled"][0]
    for kind, event in [("accepted", "Accepted"), ("verified", "Verified"), ("rectification_assigned", "RectificationAssigned"),
                        ("rectified", "Rectified"), ("closed", "RectificationAccepted"), ("feedback", "ReporterFedBack"),
                        ("staff_wrote", "StaffWrote"),
                        ("rectification_overdue", "RectificationOverdue"), ("reward_proposed", "RewardProposed"),
                        ("rewarded", "RewardGranted"), ("not_rewarded", "RewardDeclined")]:
        assert (kind, "reporter") in table[event][0], event


def test_owners_hear_of_their_task_its_reminders_and_its_decisions():
    table = by_type()
    assert ("task_assigned", "person:maint-wang") in table["RectificationAssigned"][0]
    assert table["RectificationReminderDue"][0] == [("deadline_reminder", "person:maint-wang")]
    assert table["RectificationRejected"][0] == [("rectification_rejected", "person:maint-wang")]
    assert table["ExtensionGranted"][0] == [("extension_granted", "person:maint-wang")]
    assert table["ExtensionRefused"][0] == [("extension_refused", "person:maint-wang")]
    assert ("overdue", "person:maint-wang") in table["RectificationOverdue"][0]


def test_the_escalation_ladder_reaches_its_rungs_and_the_owner_is_not_told_twice_at_the_deadline():
    first, later = by_type()["EscalationRaised"]
    assert first == [("escalation", f"role:{R.SAFETY_DEPARTMENT.value}")]
    assert later == [("escalation", "person:maint-wang"), ("escalation", f"role:{R.SUBSIDIARY_LEADERSHIP.value}"), ("escalation", f"role:{R.GROUP_HQ.value}")]


def test_approvers_finance_hq_and_the_safety_department_hear_their_part():
    table = by_type()
    assert ("reward_pending", f"role:{R.APPROVER.value}") in table["RewardProposed"][0]
    assert table["RewardReferred"][0] == [("reward_referred", f"role:{R.GROUP_HQ.value}")]
    assert table["RewardApproved"][0] == [("reward_approved", f"role:{R.FINANCE.value}")]
    assert ("new_report", f"role:{R.SAFETY_DEPARTMENT.value}") in table["ReportFiled"][0]
    assert table["SlaBreached"][0] == [("sla_breached", f"role:{R.SAFETY_DEPARTMENT.value}")]
    assert table["ExtensionRequested"][0] == [("extension_requested", f"role:{R.MANAGER.value}")]
    on_review, on_the_spot = table["Rectified"]
    assert ("rectification_review", f"role:{R.SAFETY_DEPARTMENT.value}") in on_review
    assert on_the_spot == [("rectified", "reporter")]


def test_without_an_owner_the_owners_notices_go_nowhere():
    for event in sample_events():
        if isinstance(event, NEEDS_OWNER):
            assert all(not n.to.person for n in notices_for(event, None) if n.kind != "task_assigned")


def test_a_reporters_message_reaches_the_safety_department_and_never_names_the_reporter():
    (audience,) = by_type()["ReporterWrote"]
    assert audience == [("reporter_wrote", "role:safety_department")]
