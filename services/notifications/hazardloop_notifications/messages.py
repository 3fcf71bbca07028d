"""What the reporter is told at each step of their report."""

from __future__ import annotations

from hazardloop.events import (
    Accepted,
    Event,
    Outcome,
    RectificationAccepted,
    RectificationAssigned,
    Rectified,
    ReportFiled,
    ReporterFedBack,
    RewardDeclined,
    RewardGranted,
    RewardProposed,
    Verified,
)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def message_for(event: Event) -> tuple[str, str]:
    """(kind, text) of the inbox message an event produces."""
    match event:
        case ReportFiled():
            return "received", f"We received your report about {event.location.spot} ({event.location.site})."
        case Verified(outcome=Outcome.CONFIRMED_HAZARD):
            return "verified", f"Your report was confirmed as a {event.grade.value} hazard. Thank you."
        case Accepted():
            return "accepted", "The safety department has accepted your report and is looking into it."
        case Verified(outcome=Outcome.DUPLICATE):
            return "verified", "Your report describes a hazard already reported; your report was merged with it and keeps its place."
        case Verified(outcome=Outcome.VALID_NOT_HAZARD):
            return "verified", "Your report was found to be a valid safety issue, though not a hazard. Thank you."
        case Verified():
            return "verified", "Your report could not be confirmed. Thank you for reporting."
        case RectificationAssigned():
            return "rectification_assigned", f"Rectification was assigned, due by {event.deadline:%Y-%m-%d}."
        case Rectified():
            return "rectified", f"The hazard you reported was rectified: {event.measures}"
        case RectificationAccepted():
            return "closed", "The rectification was checked and your report is closed. Thank you."
        case ReporterFedBack():
            return "feedback", event.message
        case RewardProposed():
            return "reward_proposed", f"A reward of {yuan(event.amount_fen)} yuan was proposed for your report; it now goes for approval."
        case RewardGranted():
            return "rewarded", f"You were granted a reward of {yuan(event.amount_fen)} yuan."
        case RewardDeclined():
            return "not_rewarded", "No reward is due for this report."
    raise ValueError(f"no message for {event.type}")
