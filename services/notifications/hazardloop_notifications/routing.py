"""Who hears what: each event becomes notices, each for an audience, with its parameters.

Pure functions of the event and the report as notifications knows it, so tests can
read the whole routing table here. Who holds a role is the directory's business
(``recipients``); a notice to staff never carries the reporter's pseudonym or name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hazardloop.events import (
    Accepted,
    Audience,
    DirectoryRole,
    EscalationRaised,
    Event,
    ExtensionGranted,
    ExtensionRefused,
    ExtensionRequested,
    ExternallyEscalated,
    RectificationAccepted,
    RectificationAssigned,
    RectificationOverdue,
    RectificationRejected,
    RectificationReminderDue,
    Rectified,
    ReportFiled,
    ReporterFedBack,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    SlaBreached,
    Verified,
)

REPORTER = "reporter"


@dataclass(frozen=True, slots=True)
class To:
    """An audience: the report's reporter, one person, or whoever holds a role."""

    reporter: bool = False
    person: str | None = None
    role: DirectoryRole | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    to: To
    params: dict[str, Any] = field(default_factory=dict)


ESCALATION_ROLES = {
    Audience.SAFETY_DEPARTMENT: DirectoryRole.SAFETY_DEPARTMENT,
    Audience.SUBSIDIARY_LEADERSHIP: DirectoryRole.SUBSIDIARY_LEADERSHIP,
    Audience.GROUP_HQ: DirectoryRole.GROUP_HQ,
}

THE_REPORTER = To(reporter=True)


def _role(role: DirectoryRole) -> To:
    return To(role=role)


def _person(person: str | None) -> list[To]:
    return [To(person=person)] if person else []


NEEDS_OWNER = (ExtensionGranted, ExtensionRefused, RectificationRejected, EscalationRaised)
"""Events whose notices go to the report's current owner, which they do not name themselves."""


def notices_for(event: Event, owner: str | None = None) -> list[Notice]:
    """The notices ``event`` produces; ``owner`` is the report's rectification owner, for
    ``NEEDS_OWNER`` events. What every message says about the report (its place and
    category, and for staff its description) is looked up when it is rendered, so
    routing never reads the store for it."""
    about = {"report_id": report_id_of(event)}
    match event:
        case ReportFiled():
            return [
                Notice("received", THE_REPORTER, about),
                Notice("new_report", _role(DirectoryRole.SAFETY_DEPARTMENT), about),
            ]
        case Accepted():
            return [Notice("accepted", THE_REPORTER, about)]
        case Verified():
            params = {**about, "outcome": event.outcome.value, "grade": event.grade.value if event.grade else None}
            return [Notice("verified", THE_REPORTER, params)]
        case RectificationAssigned():
            deadline = event.deadline.isoformat()
            task = {**about, "deadline": deadline, "measures": event.plan.measures if event.plan else None}
            return [
                Notice("rectification_assigned", THE_REPORTER, {**about, "deadline": deadline}),
                *(Notice("task_assigned", to, task) for to in _person(event.owner)),
            ]
        case ExtensionRequested():
            params = {**about, "requested_by": event.actor, "requested_deadline": event.requested_deadline.isoformat(), "reason": event.reason}
            return [Notice("extension_requested", _role(DirectoryRole.MANAGER), params)]
        case ExtensionGranted():
            return [Notice("extension_granted", to, {**about, "deadline": event.deadline.isoformat()}) for to in _person(owner)]
        case ExtensionRefused():
            return [Notice("extension_refused", to, {**about, "reason": event.reason}) for to in _person(owner)]
        case Rectified():
            notices = [Notice("rectified", THE_REPORTER, {**about, "measures": event.measures, "on_the_spot": event.on_the_spot})]
            if not event.on_the_spot:
                notices.append(Notice("rectification_review", _role(DirectoryRole.SAFETY_DEPARTMENT), {**about, "measures": event.measures}))
            return notices
        case RectificationAccepted():
            return [Notice("closed", THE_REPORTER, about)]
        case RectificationRejected():
            return [Notice("rectification_rejected", to, {**about, "reason": event.reason}) for to in _person(owner)]
        case ReporterFedBack():
            return [Notice("feedback", THE_REPORTER, {**about, "message": event.message})]
        case SlaBreached():
            params = {**about, "clock": event.clock.value, "due_at": event.due_at.isoformat()}
            return [Notice("sla_breached", _role(DirectoryRole.SAFETY_DEPARTMENT), params)]
        case RectificationOverdue():
            params = {**about, "deadline": event.deadline.isoformat(), "owner": event.owner}
            return [Notice("rectification_overdue", THE_REPORTER, about), Notice("overdue", To(person=event.owner), params)]
        case EscalationRaised():
            return _escalation(event, about, owner)
        case ExternallyEscalated():
            params = {**about, "authority": event.authority}
            return [Notice("externally_escalated", _role(r), params) for r in (DirectoryRole.SAFETY_DEPARTMENT, DirectoryRole.SUBSIDIARY_LEADERSHIP)]
        case RectificationReminderDue():
            params = {**about, "deadline": event.deadline.isoformat(), "hours_before": event.hours_before}
            return [Notice("deadline_reminder", To(person=event.owner), params)]
        case RewardProposed():
            amount = {**about, "amount_fen": event.amount_fen, "grade": event.grade.value if event.grade else None}
            return [Notice("reward_proposed", THE_REPORTER, amount), Notice("reward_pending", _role(DirectoryRole.APPROVER), amount)]
        case RewardReferred():
            params = {**about, "amount_fen": event.amount_fen, "reason": event.reason.value}
            return [Notice("reward_referred", _role(DirectoryRole.GROUP_HQ), params)]
        case RewardApproved():
            params = {**about, "amount_fen": event.amount_fen, "level": event.level}
            return [Notice("reward_approved", _role(DirectoryRole.FINANCE), params)]
        case RewardGranted():
            return [Notice("rewarded", THE_REPORTER, {**about, "amount_fen": event.amount_fen, "channel": event.channel.value})]
        case RewardDeclined():
            return [Notice("not_rewarded", THE_REPORTER, {**about, "reason": event.reason})]
    return []


def _escalation(event: EscalationRaised, about: dict[str, Any], owner: str | None) -> list[Notice]:
    """Each audience of the rung; the owner was told at the deadline already (``overdue``),
    so they hear again only from later rungs."""
    days = max(0, (event.due_at - event.deadline).days)
    params = {**about, "step": event.step + 1, "deadline": event.deadline.isoformat(), "days_overdue": days, "owner": owner or ""}
    notices = []
    for audience in event.notify:
        if audience == Audience.OWNER:
            if event.due_at > event.deadline:
                notices += [Notice("escalation", to, params) for to in _person(owner)]
        else:
            notices.append(Notice("escalation", _role(ESCALATION_ROLES[audience]), params))
    return notices


def report_context(row: Mapping[str, Any] | None, *, staff: bool) -> dict[str, Any]:
    """What a message may say about its report, merged into its parameters when rendered:
    never who reported it, and the reporter's own words only to staff who handle it."""
    if row is None or row.get("place") is None:
        return {"place": "", "category": ""}
    context = {"place": row["place"], "category": row["category"]}
    if staff:
        context["description"] = row["description"]
    return context


def report_id_of(event: Event) -> str:
    """The report an event is about (rewards are keyed by report, reminders carry it)."""
    return getattr(event, "report_id", None) or event.aggregate_id
