"""The dossier as a document for a regulator: plain sentences, local times, place names, the
five-item plan as a table, the photos themselves and the proof that nothing was altered.

Everything the printed page needs is inside it (photos as data URIs, the style sheet
inline), so a saved or printed copy stands on its own.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from hazardloop.errors import NotFound
from hazardloop.events import AttachmentRef, Event, Language, MediaKind, RectificationPlan, ReportFiled
from hazardloop.log.eventstore import StoredEvent
from hazardloop.media.attachments import AttachmentStore
from hazardloop.timing.instants import in_zone
from hazardloop.web.labels import label
from hazardloop_verification.dossier.proof import SealProof
from hazardloop_verification.dossier.words import say

PSEUDONYM = re.compile(r"p-[0-9a-f]{32}")
PRINT_PX = 1400
"""Longest side of a photo as printed: sharp at A4 width, without megabytes per photo."""


@dataclass(frozen=True, slots=True)
class Photo:
    caption: str
    data_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    sequence: int
    when: str
    title: str
    sentence: str
    by: str
    notes: list[str] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    hash: str = ""
    prev_hash: str = ""
    intact: bool = True


@dataclass(frozen=True, slots=True)
class DossierPage:
    language: Language
    report_id: str
    tenant: str
    generated: str
    zone: str
    summary: list[tuple[str, str]]
    plan: list[tuple[str, str]]
    steps: list[Step]
    chain_intact: bool
    seals: list[tuple[str, SealProof]]


async def dossier_page(
    *,
    report_id: str,
    tenant: str,
    events: Sequence[StoredEvent],
    intact: Sequence[bool],
    seals: Sequence[SealProof],
    attachments: AttachmentStore,
    language: Language,
    zone: ZoneInfo,
    now: datetime,
) -> DossierPage:
    def when(at: datetime) -> str:
        return in_zone(at, zone).strftime("%Y-%m-%d %H:%M")

    steps = []
    for stored, whole in zip(events, intact, strict=True):
        event = stored.event
        sentence, notes = _sentence(event, language, when)
        photos = [await _photo(attachments, tenant, ref, language) for ref in _photos_of(event)]
        steps.append(
            Step(
                sequence=stored.sequence,
                when=when(event.occurred_at),
                title=label(event.type, language),
                sentence=sentence,
                by=_actor(event.actor, language),
                notes=notes,
                photos=photos,
                hash=event.hash,
                prev_hash=event.prev_hash,
                intact=whole,
            )
        )
    filed = next((s.event for s in events if isinstance(s.event, ReportFiled)), None)
    plans = [s.event.plan for s in events if getattr(s.event, "plan", None) is not None]
    return DossierPage(
        language=language,
        report_id=report_id,
        tenant=tenant,
        generated=when(now),
        zone=str(zone),
        summary=_summary(filed, language, when) if filed else [],
        plan=_plan(plans[-1], language, when) if plans else [],
        steps=steps,
        chain_intact=all(intact),
        seals=[(say("seal_text", language, at=when(p.sealed_at), first=p.first_sequence, last=p.last_sequence, count=len(p.covers)), p) for p in seals],
    )


def _actor(actor: str, language: Language) -> str:
    """A reporter by pseudonym at most, staff by their name, the system's own timers and services as such."""
    kind, colon, who = actor.partition(":")
    if actor == "receipt-holder":
        return say("anonymous", language)
    if PSEUDONYM.fullmatch(who if colon else actor):
        return say("pseudonym", language, p=who if colon else actor)
    if kind == "staff" and who:
        return who
    if colon or "/" in actor:
        return say("system", language)
    return actor


def _summary(filed: ReportFiled, language: Language, when: Callable[[datetime], str]) -> list[tuple[str, str]]:
    where = filed.location
    rows = [
        (say("place", language), " / ".join(name for name in (where.site, where.area, where.spot) if name)),
        (say("equipment", language), where.equipment_tag or ""),
        (say("kind", language), f"{label(filed.category, language)} · {label(filed.subtype, language)}"),
        (say("observed", language), when(filed.observed_at)),
        (say("channel", language), label(filed.channel, language)),
        (say("reporter", language), say("anonymous", language) if filed.anonymous else say("pseudonym", language, p=filed.reporter)),
        (say("description", language), filed.description),
        (say("cause_analysis", language), filed.cause_analysis or ""),
        (say("suggested_fix", language), filed.suggested_fix or ""),
        (say("emergency_action", language), filed.emergency_action or ""),
    ]
    return [(name, value) for name, value in rows if value]


def _plan(plan: RectificationPlan, language: Language, when: Callable[[datetime], str]) -> list[tuple[str, str]]:
    return [
        (say("responsible_person", language), plan.responsible_person),
        (say("measures", language), plan.measures),
        (say("funds", language), say("yuan", language, v=f"{plan.funds_fen / 100:,.2f}")),
        (say("deadline", language), when(plan.deadline)),
        (say("emergency_plan", language), plan.emergency_plan),
    ]


def _sentence(event: Event, language: Language, when: Callable[[datetime], str]) -> tuple[str, list[str]]:
    """The step as one plain sentence, and the notes written with it."""
    kind = event.type
    data = event.model_dump()
    notes = [say("comment", language, text=text) for key in ("comment", "note") if (text := data.get(key))]
    match kind:
        case "ReportFiled":
            who = say("anonymous", language) if event.anonymous else say("pseudonym", language, p=event.reporter)
            kind_text = f"{label(event.category, language)} · {label(event.subtype, language)}"
            channel = label(event.channel, language)
            return say(kind, language, who=who, channel=channel if language != Language.EN else channel.lower(), kind=kind_text), []
        case "Verified":
            if event.duplicate_of or event.first_report_id:
                return say("Verified_duplicate", language, first=event.first_report_id or event.duplicate_of), notes
            grade = f"，{label(event.grade, language)}" if language != Language.EN else f", {label(event.grade, language).lower()}"
            outcome = label(event.outcome, language)
            return say(kind, language, outcome=outcome.lower() if language == Language.EN else outcome, grade=grade if event.grade else ""), notes
        case "RectificationAssigned":
            return say(kind, language, owner=event.owner, deadline=when(event.deadline)), notes
        case "ExtensionRequested":
            return say(kind, language, deadline=when(event.requested_deadline), reason=event.reason), notes
        case "ExtensionGranted":
            return say(kind, language, deadline=when(event.deadline)), notes
        case "ExtensionRefused" | "RectificationRejected":
            return say(kind, language, reason=event.reason), notes
        case "Rectified":
            return say("Rectified_on_the_spot" if event.on_the_spot else kind, language, measures=event.measures), notes
        case "ReporterFedBack":
            return say(kind, language, message=event.message), notes
        case "SlaBreached":
            return say(kind, language, clock=label(event.clock, language), due=when(event.due_at)), notes
        case "RectificationOverdue":
            return say(kind, language, deadline=when(event.deadline), owner=event.owner), notes
        case "EscalationRaised":
            return say(kind, language, notify="、".join(label(a, language) for a in event.notify) if language != Language.EN else ", ".join(label(a, language) for a in event.notify)), notes
        case "ExternallyEscalated":
            return say(kind, language, authority=event.authority), notes
        case "Accepted" | "RectificationAccepted":
            return say(kind, language), notes
    return say("other_step", language, step=label(kind, language)), notes


def _photos_of(event: Event) -> tuple[AttachmentRef, ...]:
    """The photos and videos a step brought: the report's own, or the rectification's evidence."""
    return tuple(getattr(event, "attachments", ()) or getattr(event, "evidence", ()) or ())


async def _photo(attachments: AttachmentStore, tenant: str, ref: AttachmentRef, language: Language) -> Photo:
    kind = label(ref.kind, language)
    if ref.kind is MediaKind.VIDEO:
        size = f"{ref.size / (1024 * 1024):.1f} MB"
        return Photo(say("video_caption", language, size=size, digest=ref.digest))
    try:
        data, _ = await attachments.read(tenant, ref.digest)
        printable = await asyncio.to_thread(_printable, data)
    except NotFound:
        return Photo(say("missing_photo", language, kind=kind, digest=ref.digest))
    except (OSError, ValueError, Image.DecompressionBombError):
        return Photo(say("missing_photo", language, kind=kind, digest=ref.digest))
    return Photo(say("photo_caption", language, kind=kind, digest=ref.digest), "data:image/jpeg;base64," + base64.b64encode(printable).decode())


def _printable(data: bytes) -> bytes:
    """A JPEG of the stored photo (already cleaned of metadata), at most ``PRINT_PX`` on its longest side."""
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((PRINT_PX, PRINT_PX))
        rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, "white")
    canvas.paste(rgba, mask=rgba)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=85)
    return out.getvalue()
