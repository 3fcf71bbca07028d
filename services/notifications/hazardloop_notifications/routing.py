"""Who hears what: each event becomes notices, each for an audience, with its parameters.

Part of notifications' domain, kept as a module of its own because it is one
self-contained table with an entry per event type: pure functions of the event and the
report's owner, so tests read the whole routing table here. Who holds a role is the
directory's business (the projection resolves audiences to recipients); a notice to
staff never carries the reporter's pseudonym or name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from hazardloop.events import (
    Accepted,
    Audience,
    CheckEscalationRaised,
    CheckTaskOpened,
    CheckTaskOverdue,
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
    ReporterFedBack,
    ReporterWrote,
    ReportFiled,
    RewardApproved,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    RewardReferred,
    SlaBreached,
    StaffWrote,
    Verified,
)
from hazardloop.privacy.sealing import text_token

REPORTER = "reporter"


@dataclass(frozen=True, slots=True)
class To:
    """An audience: the report's reporter, one person, or whoever holds a role."""

    reporter: bool = False
    person: str | None = None
    role: DirectoryRole | None = None


class Notice(NamedTuple):
    """What to tell an audience, and with which parameters (a named tuple: routing makes
    one or two per event)."""

    kind: str
    to: To
    params: dict[str, Any]


ESCALATION_ROLES = {
    Audience.SAFETY_DEPARTMENT: DirectoryRole.SAFETY_DEPARTMENT,
    Audience.SUBSIDIARY_LEADERSHIP: DirectoryRole.SUBSIDIARY_LEADERSHIP,
    Audience.GROUP_HQ: DirectoryRole.GROUP_HQ,
}

THE_REPORTER = To(reporter=True)


@cache
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
    route = _route(type(event))
    return [] if route is None else route(event, {"report_id": report_id_of(event)}, owner)


def digest_notices(digest: dict[str, Any]) -> list[Notice]:
    """The daily digest (its figures counted from the read model) goes to the managers."""
    return [Notice("digest", _role(DirectoryRole.MANAGER), digest)]


Route = Callable[[Any, dict[str, Any], str | None], list[Notice]]


def _filed(event: ReportFiled, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("received", THE_REPORTER, about), Notice("new_report", _role(DirectoryRole.SAFETY_DEPARTMENT), about)]


def _accepted(event: Accepted, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("accepted", THE_REPORTER, about)]


def _verified(event: Verified, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "outcome": event.outcome.value, "grade": event.grade.value if event.grade else None}
    return [Notice("verified", THE_REPORTER, params)]


def _assigned(event: RectificationAssigned, about: dict[str, Any], _: str | None) -> list[Notice]:
    deadline = event.deadline.isoformat()
    task = {**about, "deadline": deadline, "measures": event.plan.measures if event.plan else None}
    return [
        Notice("rectification_assigned", THE_REPORTER, {**about, "deadline": deadline}),
        *(Notice("task_assigned", to, task) for to in _person(event.owner)),
    ]


def _extension_requested(event: ExtensionRequested, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "requested_by": event.actor, "requested_deadline": event.requested_deadline.isoformat(), "reason": text_token(event.tenant, event.reason)}
    return [Notice("extension_requested", _role(DirectoryRole.MANAGER), params)]


def _extension_granted(event: ExtensionGranted, about: dict[str, Any], owner: str | None) -> list[Notice]:
    return [Notice("extension_granted", to, {**about, "deadline": event.deadline.isoformat()}) for to in _person(owner)]


def _extension_refused(event: ExtensionRefused, about: dict[str, Any], owner: str | None) -> list[Notice]:
    return [Notice("extension_refused", to, {**about, "reason": text_token(event.tenant, event.reason)}) for to in _person(owner)]


def _rectified(event: Rectified, about: dict[str, Any], _: str | None) -> list[Notice]:
    notices = [Notice("rectified", THE_REPORTER, {**about, "measures": event.measures, "on_the_spot": event.on_the_spot})]
    if not event.on_the_spot:
        notices.append(Notice("rectification_review", _role(DirectoryRole.SAFETY_DEPARTMENT), {**about, "measures": event.measures}))
    return notices


def _rectification_accepted(event: RectificationAccepted, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("closed", THE_REPORTER, about)]


def _rectification_rejected(event: RectificationRejected, about: dict[str, Any], owner: str | None) -> list[Notice]:
    return [Notice("rectification_rejected", to, {**about, "reason": text_token(event.tenant, event.reason)}) for to in _person(owner)]


def _fed_back(event: ReporterFedBack, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("feedback", THE_REPORTER, {**about, "message": text_token(event.tenant, event.message)})]


def _reporter_wrote(event: ReporterWrote, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("reporter_wrote", _role(DirectoryRole.SAFETY_DEPARTMENT), {**about, "message": text_token(event.tenant, event.text)})]


def _staff_wrote(event: StaffWrote, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("staff_wrote", THE_REPORTER, {**about, "message": text_token(event.tenant, event.text)})]


def _sla_breached(event: SlaBreached, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "clock": event.clock.value, "due_at": event.due_at.isoformat()}
    return [Notice("sla_breached", _role(DirectoryRole.SAFETY_DEPARTMENT), params)]


def _overdue(event: RectificationOverdue, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "deadline": event.deadline.isoformat(), "owner": event.owner}
    return [Notice("rectification_overdue", THE_REPORTER, about), Notice("overdue", To(person=event.owner), params)]


def _externally_escalated(event: ExternallyEscalated, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "authority": event.authority}
    return [Notice("externally_escalated", _role(r), params) for r in (DirectoryRole.SAFETY_DEPARTMENT, DirectoryRole.SUBSIDIARY_LEADERSHIP)]


def _reminder_due(event: RectificationReminderDue, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "deadline": event.deadline.isoformat(), "hours_before": event.hours_before}
    return [Notice("deadline_reminder", To(person=event.owner), params)]


def _reward_proposed(event: RewardProposed, about: dict[str, Any], _: str | None) -> list[Notice]:
    amount = {**about, "amount_fen": event.amount_fen, "grade": event.grade.value if event.grade else None}
    return [Notice("reward_proposed", THE_REPORTER, amount), Notice("reward_pending", _role(DirectoryRole.APPROVER), amount)]


def _reward_referred(event: RewardReferred, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "amount_fen": event.amount_fen, "reason": event.reason.value}
    return [Notice("reward_referred", _role(DirectoryRole.GROUP_HQ), params)]


def _reward_approved(event: RewardApproved, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {**about, "amount_fen": event.amount_fen, "level": event.level}
    return [Notice("reward_approved", _role(DirectoryRole.FINANCE), params)]


def _reward_granted(event: RewardGranted, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("rewarded", THE_REPORTER, {**about, "amount_fen": event.amount_fen, "channel": event.channel.value})]


def _reward_declined(event: RewardDeclined, about: dict[str, Any], _: str | None) -> list[Notice]:
    return [Notice("not_rewarded", THE_REPORTER, {**about, "reason": text_token(event.tenant, event.reason)})]


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


# --- checks elsewhere: each subsidiary's task goes to its safety department ------------------
# ``report_id`` names the check: a message about a check quotes nothing of the original
# report (its description stays with the subsidiary that filed it).


def _check_task(event: CheckTaskOpened, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {
        "report_id": event.aggregate_id, "check_id": event.aggregate_id, "category": event.category.value,
        "equipment": event.equipment or "", "look_for": text_token(event.tenant, event.look_for), "deadline": event.deadline.isoformat(),
    }
    return [Notice("check_task", _role(DirectoryRole.SAFETY_DEPARTMENT), params)]


def _check_overdue(event: CheckTaskOverdue, about: dict[str, Any], _: str | None) -> list[Notice]:
    params = {"report_id": event.aggregate_id, "check_id": event.aggregate_id, "deadline": event.deadline.isoformat()}
    return [Notice("check_overdue", _role(DirectoryRole.SAFETY_DEPARTMENT), params)]


def _check_escalation(event: CheckEscalationRaised, about: dict[str, Any], _: str | None) -> list[Notice]:
    """Each audience of the rung, in the subsidiary that has not answered; its safety
    department (the task's owner) was told at the deadline, so hears again only later."""
    days = max(0, (event.due_at - event.deadline).days)
    params = {"report_id": event.aggregate_id, "check_id": event.aggregate_id, "step": event.step + 1,
              "deadline": event.deadline.isoformat(), "days_overdue": days}
    notices = []
    for audience in event.notify:
        if audience == Audience.OWNER:
            if event.due_at > event.deadline:
                notices.append(Notice("check_escalation", _role(DirectoryRole.SAFETY_DEPARTMENT), params))
        elif audience != Audience.SAFETY_DEPARTMENT or event.due_at > event.deadline:
            notices.append(Notice("check_escalation", _role(ESCALATION_ROLES[audience]), params))
    return notices


_ROUTES: dict[type, Route] = {
    ReportFiled: _filed,
    Accepted: _accepted,
    Verified: _verified,
    RectificationAssigned: _assigned,
    ExtensionRequested: _extension_requested,
    ExtensionGranted: _extension_granted,
    ExtensionRefused: _extension_refused,
    Rectified: _rectified,
    RectificationAccepted: _rectification_accepted,
    RectificationRejected: _rectification_rejected,
    ReporterFedBack: _fed_back,
    ReporterWrote: _reporter_wrote,
    StaffWrote: _staff_wrote,
    SlaBreached: _sla_breached,
    RectificationOverdue: _overdue,
    EscalationRaised: _escalation,
    ExternallyEscalated: _externally_escalated,
    RectificationReminderDue: _reminder_due,
    RewardProposed: _reward_proposed,
    RewardReferred: _reward_referred,
    RewardApproved: _reward_approved,
    RewardGranted: _reward_granted,
    RewardDeclined: _reward_declined,
    CheckTaskOpened: _check_task,
    CheckTaskOverdue: _check_overdue,
    CheckEscalationRaised: _check_escalation,
}
"""Each event type's notices, looked up by type: a chain of class patterns cost a
replay up to twenty ``isinstance`` checks per event."""


@cache
def _route(kind: type) -> Route | None:
    """The route of ``kind``, or of the nearest class it derives from."""
    return next((_ROUTES[base] for base in kind.__mro__ if base in _ROUTES), None)


def report_id_of(event: Event) -> str:
    """The report an event is about (rewards are keyed by report, reminders carry it)."""
    return (event.report_id if _has_report_id(type(event)) else None) or event.aggregate_id


@cache
def _has_report_id(kind: type) -> bool:
    """Whether events of ``kind`` carry a report id: asking an event for an attribute it
    lacks goes through pydantic's ``__getattr__``, which cost a replay ~2 µs an event."""
    return "report_id" in getattr(kind, "model_fields", {}) or hasattr(kind, "report_id")
