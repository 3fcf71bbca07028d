"""The safety officer's queue and the case page, with every step of casework a person
takes there: accept, verify and grade, assign, feed back, rectify, extend, review.

Each step is sent to verification (or a photo to intake) with the person's own token;
the page comes back marked where the form was wrong, with the service's reason where it
refused, and with a notice that the service is down when it is.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile  # what a parsed form holds (FastAPI's is a subclass of it)

from hazardloop.events import Category, Grade, Outcome, RiskColour
from hazardloop.web.auth import Role
from hazardloop_console import queries
from hazardloop_console.backends import Refused, ServiceDown
from hazardloop_console.forms import (
    FACTORS,
    AcceptForm,
    AssignForm,
    DecisionForm,
    ExtensionForm,
    FeedbackForm,
    RectifyForm,
    ReplyForm,
    VerifyForm,
)
from hazardloop_console.similar.lookup import Similar, similar_to
from hazardloop_console.web import FormDep, NotYours, Page, SignedIn, attempt, backends, for_roles, render

routes = APIRouter(prefix="/console", include_in_schema=False)

TRIAGE = (Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR)
"""Who works the whole queue and opens any case of their subsidiaries: an owner works from
their own tasks instead, and opens only the cases given to them."""
Triage = Annotated[Page, Depends(for_roles(*TRIAGE))]
PHOTO_VIEWERS = (Role.VERIFIER, Role.RECTIFIER, Role.MANAGER, Role.AUDITOR)
"""Whom intake shows a report's photos: safety staff, not a company's leaders."""
MAX_PHOTOS = 6
MESSAGES = ("ReporterWrote", "StaffWrote")
"""The thread's own messages: on the case page in the thread, not on the timeline."""
THREAD = (*MESSAGES, "ReporterFedBack")
"""Steps that are messages between the reporter and the safety department: shown to those who
triage, not to a rectification owner (a reporter may fear their own team's lead)."""
WRITERS = (Role.VERIFIER, Role.MANAGER)
"""Who writes to reporters (intake decides; the page offers the form to them only)."""
PREVIEWED = ("outcome", "grade", "factors", "within_routine_duties")
"""What of a grading decides its reward: all the reward preview is sent."""


def _rows(view: Page) -> dict[str, Any]:
    """A page of the queue as filtered: all the rows partial needs."""
    wanted = queries.QueueFilter.parse(dict(view.request.query_params), view.tenants)
    rows, more = queries.queue(view.engine, view.tenants, wanted, view.settings.page_size, zone=view.zone)
    return {"rows": rows, "more": more, "wanted": wanted, "now": datetime.now(UTC)}


@routes.get("/queue")
def queue_page(view: Triage) -> Response:
    return render(
        view, "queue.html", **_rows(view), tenants=view.tenants, areas=queries.areas(view.engine, view.tenants),
        categories=list(Category), grades=list(Grade), states=["open", *queries.STATES],
    )


@routes.get("/queue/rows")
def queue_rows(view: Triage) -> Response:
    """The queue's rows alone: what the page fetches every few seconds to stay current (the filters'
    choices, such as the areas reports name, are not counted again for it)."""
    return render(view, "queue_rows.html", **_rows(view))


def may_open(view: Page, case: dict[str, Any]) -> bool:
    """A case of the person's subsidiaries, for whoever triages them or the owner it was given to."""
    person = view.person
    ours = case["tenant"] in view.tenants
    return ours and (person.has(*TRIAGE) or (person.has(Role.RECTIFIER) and case["owner"] == person.subject))


def visible_case(view: Page, report_id: str) -> tuple[dict[str, Any], list, list]:
    """The case, its steps and photos; for anybody who may not open it, the page is not theirs
    (the case page, its photos and dossier, and every form posted from it)."""
    case, history, pictures = queries.one_case(view.engine, report_id[:64])
    if case is None or not may_open(view, case):
        raise NotYours()
    return case, history, pictures


def show_case(
    view: Page, report_id: str, status_code: int = 200, preview: dict[str, Any] | None = None, failed: str | None = None,
    similar: list[Similar] | None = None, **forms: Any,
) -> Response:
    """The case page; ``failed`` names the form that came back wrong (several have a ``reason``);
    ``similar``, the earlier reports like it (None: not shown)."""
    case, history, pictures = visible_case(view, report_id)
    if view.request.query_params.get("done"):
        view.notices.append(view.t("done"))
    return render(
        view, "case.html", status_code=status_code, case=case, history=[step for step in history if step["type"] not in MESSAGES],
        now=datetime.now(UTC),
        photos=pictures if view.person.has(*PHOTO_VIEWERS) else [],
        outcomes=list(Outcome), grades=list(Grade), colours=list(RiskColour), factors=FACTORS, form=forms, preview=preview,
        failed=failed, writes=view.person.has(*WRITERS),
        thread=[step for step in history if step["type"] in THREAD] if view.person.has(*TRIAGE) else None,
        similar=similar,
    )


async def similar_cases(view: Page, report_id: str) -> list[Similar] | None:
    """Earlier reports like this one in the person's subsidiaries, for those who triage them
    (an owner opens only the cases given to them: they are shown none)."""
    if not view.person.has(*TRIAGE):
        return None
    case, _, _ = await asyncio.to_thread(visible_case, view, report_id)
    text = await view.request.app.state.runtime.texts.reveal(case["description"], erased="")
    return await asyncio.to_thread(similar_to, view.engine, case, text, view.tenants, view.request.app.state.index_key)


@routes.get("/cases/{report_id}")
async def case_page(report_id: str, view: SignedIn) -> Response:
    similar = await similar_cases(view, report_id)
    return await asyncio.to_thread(show_case, view, report_id, similar=similar)


def console_path(value: Any) -> str | None:
    """Where a form asks to go once done: a console page of this site, never anywhere else."""
    if not isinstance(value, str) or len(value) > 400 or "\\" in value or any(ord(c) < 33 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or parts.fragment:
        return None
    return value


async def _command(view: Page, report_id: str, values: dict[str, Any], send) -> Response:
    """Send a command; then to the page the form names in ``back`` (the case page by default),
    or back to the case page marked where it went wrong, keeping ``back`` for the next try."""
    visible_case(view, report_id)
    back = values["back"] = console_path(values.get("back"))
    failed = view.request.url.path.rsplit("/", 1)[-1]

    async def sent() -> str:
        await send()
        target = back or f"/console/cases/{report_id}"
        return f"{target}{'&' if '?' in target else '?'}done=1"

    return await attempt(view, sent, lambda status: show_case(view, report_id, status_code=status, failed=failed, **values))


def _casework(view: Page, report_id: str, step: str, body: dict[str, Any]):
    return backends(view).send(view.person.token, "verification", f"/reports/{report_id}/{step}", body)


@routes.post("/cases/{report_id}/accept")
async def accept(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _command(view, report_id, values, lambda: _casework(view, report_id, "acceptance", AcceptForm.read(values).body()))


@routes.post("/cases/{report_id}/verify")
async def verify(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _command(view, report_id, values, lambda: _casework(view, report_id, "verification", VerifyForm.read(values).body()))


@routes.post("/cases/{report_id}/assign")
async def assign(report_id: str, view: SignedIn, values: FormDep) -> Response:
    case, _, _ = visible_case(view, report_id)
    major = case["grade"] == Grade.MAJOR.value

    async def send():
        return await _casework(view, report_id, "assignment", AssignForm.read(values, zone=view.zone, major=major).body())

    return await _command(view, report_id, values, send)


@routes.post("/cases/{report_id}/feedback")
async def feed_back(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _command(view, report_id, values, lambda: _casework(view, report_id, "feedback", FeedbackForm.read(values).body()))


@routes.post("/cases/{report_id}/thread")
async def reply(report_id: str, view: SignedIn, values: FormDep) -> Response:
    """Write to the reporter: intake keeps the report's thread and checks who may write to it."""

    async def send():
        return await backends(view).send(view.person.token, "intake", f"/reports/{report_id}/thread", ReplyForm.read(values).body())

    return await _command(view, report_id, values, send)


@routes.post("/cases/{report_id}/rectify")
async def rectify(report_id: str, view: SignedIn, values: FormDep) -> Response:
    case, _, _ = visible_case(view, report_id)
    sent = values.pop("evidence", [])
    uploads = [item for item in (sent if isinstance(sent, list) else [sent]) if isinstance(item, UploadFile)]

    async def send():
        form = RectifyForm.read(values)
        digests = []
        for upload in uploads[:MAX_PHOTOS]:
            data = await upload.read()
            if not data:
                continue
            try:
                response = await backends(view).call(
                    view.person.token, "intake", "POST", "/attachments", params={"tenant": case["tenant"], "filename": upload.filename},
                    content=data, language=view.language,
                )
            except Refused as refused:  # the photo's own reason, beside the photo field
                raise Refused(refused.service, refused.status, refused.reason, {"evidence": refused.reason}) from None
            digests.append(response.json()["digest"])
        return await _casework(view, report_id, "rectification", form.body(digests))

    return await _command(view, report_id, values, send)


@routes.post("/cases/{report_id}/extension")
async def request_extension(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _command(
        view, report_id, values, lambda: _casework(view, report_id, "extension", ExtensionForm.read(values, zone=view.zone).body())
    )


async def _decision(view: Page, report_id: str, values: dict[str, Any], step: str, verdict: str) -> Response:
    """A yes or no with its reason, sent as verification names the yes of ``step`` (``verdict``)."""

    async def send():
        form = DecisionForm.read(values)
        return await _casework(view, report_id, step, {verdict: form.approve, "reason": form.reason})

    return await _command(view, report_id, values, send)


@routes.post("/cases/{report_id}/extension-decision")
async def decide_extension(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _decision(view, report_id, values, "extension/decision", "approve")


@routes.post("/cases/{report_id}/review")
async def review(report_id: str, view: SignedIn, values: FormDep) -> Response:
    return await _decision(view, report_id, values, "review", "accept")


@routes.get("/cases/{report_id}/photos/{digest}")
async def photo(report_id: str, digest: str, view: SignedIn, thumbnail: bool = False) -> Response:
    """A report's photo, fetched from intake as the person (who must be allowed to see it there)."""
    if not view.person.has(*PHOTO_VIEWERS):
        raise NotYours()
    _, _, pictures = visible_case(view, report_id)
    match = next((p for p in pictures if p["digest"] == digest), None)
    if match is None:
        raise NotYours()
    answer = await backends(view).call(
        view.person.token, "intake", "GET", f"/attachments/{digest}", params={"tenant": match["tenant"], "thumbnail": thumbnail}
    )
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(answer.content, media_type=answer.headers.get("content-type"), headers=headers)


@routes.post("/cases/{report_id}/reward-preview")
async def reward_preview(report_id: str, view: SignedIn, values: FormDep) -> Response:
    """The reward the grading on the form would propose, by the policy in force: before saving it."""
    case, _, _ = visible_case(view, report_id)
    fragment = bool(view.request.headers.get("HX-Request"))
    preview: dict[str, Any] | None = None
    note: str | None = None
    try:
        form = VerifyForm.read(values)
        if form.outcome == Outcome.NOT_CONFIRMED:
            note = view.t("preview_nothing_due")
        elif form.outcome == Outcome.DUPLICATE:
            note = view.t("preview_duplicate")
        else:
            grading = {key: value for key, value in form.body().items() if key in PREVIEWED}
            preview = await backends(view).send(view.person.token, "rewards", "/rewards/preview", {"tenant": case["tenant"], **grading})
    except ValidationError as error:
        view.invalid(error)
    except Refused as refusal:
        view.refused(refusal)
    except ServiceDown as outage:
        view.down(outage)
    if fragment:
        return render(view, "reward_preview.html", preview=preview, preview_note=note)
    if note:
        view.notices.append(note)
    return show_case(view, report_id, preview=preview, **values)
