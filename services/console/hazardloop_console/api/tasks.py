"""The rectification owner's tasks and the manager's decisions: two lists made for a phone.

The owner sees what they must fix, nearest deadline first; the manager decides extension
requests and accepts rectifications straight from the list. Those small forms post to the
case page's routes with ``back`` naming this list, so every rule stays in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hazardloop.web.auth import Role
from hazardloop_console import queries_tasks
from hazardloop_console.api.cases import PHOTO_VIEWERS
from hazardloop_console.queries import page_number
from hazardloop_console.web import Page, for_roles, render

routes = APIRouter(prefix="/console", include_in_schema=False)

Owner = Annotated[Page, Depends(for_roles(Role.RECTIFIER))]
Decider = Annotated[Page, Depends(for_roles(Role.MANAGER, Role.LEADER))]


def _done(view: Page) -> None:
    if view.request.query_params.get("done"):
        view.notices.append(view.t("done"))


@routes.get("/tasks")
def my_tasks(view: Owner) -> Response:
    now = datetime.now(UTC)
    tenants = view.tenants
    number = page_number(view.request.query_params.get("page"))
    tasks = queries_tasks.owned(view.engine, view.person.subject, tenants, number, view.settings.page_size)
    closed = queries_tasks.recently_closed(view.engine, view.person.subject, tenants, now) if number == 1 else []
    _done(view)
    return render(view, "tasks.html", tasks=tasks, closed=closed, now=now)


@routes.get("/decisions")
def decisions(view: Decider) -> Response:
    tenants = view.tenants
    params = view.request.query_params
    size = view.settings.page_size
    extensions = queries_tasks.extensions_pending(view.engine, tenants, page_number(params.get("page")), size)
    reviews = queries_tasks.awaiting_review(view.engine, tenants, page_number(params.get("review_page")), size)
    shown = [row["report_id"] for row in reviews.rows] if view.person.has(*PHOTO_VIEWERS) else []
    evidence = queries_tasks.evidence_of(view.engine, shown)
    _done(view)
    return render(
        view, "decisions.html", extensions=extensions, reviews=reviews, evidence=evidence, now=datetime.now(UTC),
        may_decide=view.person.has(Role.MANAGER, Role.LEADER), may_review=view.person.has(Role.VERIFIER),
    )
