"""Checks elsewhere in the console: headquarters raises a check from a verified report and
follows every subsidiary's answer; a subsidiary's safety officers answer their tasks.

Verification owns checks and intake files the report of what was found: every page reads
from them and every form goes to them with the person's own token, so each service keeps
its rules (who may address whom, an answer once, none after the check closed) and a
refusal shows that service's reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError

from hazardloop.events import SUBTYPES, Category, Grade, Outcome
from hazardloop.web.auth import Role
from hazardloop_console import queries_checks
from hazardloop_console.api.cases import visible_case
from hazardloop_console.backends import Refused, ServiceDown
from hazardloop_console.forms import DecisionForm
from hazardloop_console.forms_checks import FoundForm, MoreTimeForm, NotPresentForm, RaiseCheckForm
from hazardloop_console.web import FormDep, NotYours, Page, backends, for_roles, render, retry_later, see_other

routes = APIRouter(prefix="/console", include_in_schema=False)

GRADE_RANK = {Grade.GENERAL: 0, Grade.LARGER: 1, Grade.MAJOR: 2}
OVERSEERS = (Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR)
RAISERS = (Role.VERIFIER, Role.MANAGER)
ANSWERERS = (Role.VERIFIER, Role.MANAGER)
Overseer = Annotated[Page, Depends(for_roles(*OVERSEERS))]
Answerer = Annotated[Page, Depends(for_roles(*ANSWERERS))]
Raiser = Annotated[Page, Depends(for_roles(*RAISERS))]


def _id(value: str) -> str:
    return value[:64]


async def attempt(view: Page, send: Callable[[], Awaitable[str]], again: Callable[[int], Awaitable[Response]]) -> Response:
    """``hazardloop_console.web.attempt`` for pages that read a service to be shown again."""
    try:
        return see_other(await send())
    except ValidationError as error:
        view.invalid(error)
        return await again(422)
    except Refused as refusal:
        view.refused(refusal)
        return await again(refusal.status)
    except ServiceDown as outage:
        view.down(outage)
        return retry_later(view, await again(503))


TIMES = frozenset({"raised_at", "closed_at", "due", "opened_at", "deadline", "answered_at", "overdue_since", "extension_requested_deadline"})


def with_times(value: Any) -> Any:
    """A service's answer with its times as datetimes (JSON carries them as text), for the page to show locally."""
    if isinstance(value, list):
        return [with_times(item) for item in value]
    if isinstance(value, dict):
        return {k: datetime.fromisoformat(v) if k in TIMES and isinstance(v, str) else with_times(v) for k, v in value.items()}
    return value


async def read(view: Page, path: str, **params: Any) -> Any:
    return with_times(await backends(view).read(view.person.token, "verification", path, **params))


def status_of(task: dict[str, Any]) -> str:
    """Where a subsidiary's task stands, as one word of the page."""
    if task["answer"]:
        return f"check_{task['answer']}"
    if task["overdue_since"]:
        return "check_overdue"
    return "check_waiting"


def summary(check: dict[str, Any]) -> dict[str, int]:
    tasks = check["tasks"]
    return {
        "n": len(check["subsidiaries"]),
        "answered": sum(1 for t in tasks if t["answer"]),
        "found": sum(1 for t in tasks if t["answer"] == "found"),
        "overdue": sum(1 for t in tasks if t["overdue_since"] and not t["answer"]),
    }


def _done(view: Page) -> None:
    if view.request.query_params.get("done"):
        view.notices.append(view.t("done"))


# --- headquarters: the checks and their answers ------------------------------------------------


@routes.get("/checks")
async def checks_page(view: Overseer) -> Response:
    checks = await read(view, "/checks")
    _done(view)
    return render(view, "checks.html", checks=checks, summaries={c["check_id"]: summary(c) for c in checks}, now=datetime.now(UTC))


async def show_check(view: Page, check_id: str, status_code: int = 200, failed: str | None = None, **form: Any) -> Response:
    check = await read(view, f"/checks/{_id(check_id)}")
    _done(view)
    return render(
        view, "check.html", status_code=status_code, check=check, summary=summary(check), status_of=status_of, now=datetime.now(UTC),
        may_decide=view.person.has(Role.MANAGER, Role.LEADER), may_close=view.person.has(*RAISERS), failed=failed, form=form,
    )


@routes.get("/checks/{check_id}")
async def check_page(check_id: str, view: Overseer) -> Response:
    return await show_check(view, check_id)


@routes.post("/checks/{check_id}/close")
async def close(check_id: str, view: Raiser, values: FormDep) -> Response:
    async def send() -> str:
        note = (values.get("note") or "").strip()
        await backends(view).send(view.person.token, "verification", f"/checks/{_id(check_id)}/closure", {"note": note} if note else {})
        return f"/console/checks/{_id(check_id)}?done=1"

    return await attempt(view, send, lambda status: show_check(view, check_id, status, failed="close", **values))


@routes.post("/checks/{check_id}/tasks/{tenant}/decision")
async def decide_more_time(check_id: str, tenant: str, view: Overseer, values: FormDep) -> Response:
    async def send() -> str:
        form = DecisionForm.read(values)
        path = f"/checks/{_id(check_id)}/tasks/{_id(tenant)}/extension/decision"
        await backends(view).send(view.person.token, "verification", path, {"approve": form.approve, "reason": form.reason})
        return f"/console/checks/{_id(check_id)}?done=1"

    return await attempt(view, send, lambda status: show_check(view, check_id, status, failed=f"decision-{tenant}", **values))


# --- raising a check from a verified report ----------------------------------------------------


def _raise_form(view: Page, report_id: str, status_code: int = 200, **form: Any) -> Response:
    case, _, _ = visible_case(view, report_id)
    if case["outcome"] != Outcome.CONFIRMED_HAZARD.value:
        raise NotYours()
    lowest = queries_checks.check_from_grade(view.engine, case["tenant"])
    return render(view, "check_raise.html", status_code=status_code, case=case, form=form, categories=list(Category),
                  tenants=[t for t in view.settings.tenants if view.person.group_wide or t in view.person.tenants],
                  lowest=lowest, allowed=GRADE_RANK[Grade(case["grade"])] >= GRADE_RANK[lowest])


@routes.get("/cases/{report_id}/check")
def raise_page(report_id: str, view: Raiser) -> Response:
    return _raise_form(view, report_id)


@routes.post("/cases/{report_id}/check")
async def raise_check(report_id: str, view: Raiser, values: FormDep) -> Response:
    _raise_form(view, report_id)  # the case is theirs and a verified hazard

    async def send() -> str:
        body = RaiseCheckForm.read(values, zone=view.zone).body()
        raised = await backends(view).send(view.person.token, "verification", f"/reports/{_id(report_id)}/checks", body)
        return f"/console/checks/{raised['check_id']}?done=1"

    async def again(status: int) -> Response:
        return _raise_form(view, report_id, status, **values)

    return await attempt(view, send, again)


# --- a subsidiary's tasks ----------------------------------------------------------------------


async def show_tasks(view: Page, status_code: int = 200, failed: str | None = None, **form: Any) -> Response:
    tasks = []
    for tenant in view.tenants:
        tasks += await read(view, "/check-tasks", tenant=tenant)
    tasks.sort(key=lambda t: (t["deadline"], t["check_id"], t["tenant"]))
    _done(view)
    return render(view, "check_tasks.html", status_code=status_code, tasks=tasks, now=datetime.now(UTC), failed=failed, form=form)


@routes.get("/check-tasks")
async def tasks_page(view: Answerer) -> Response:
    return await show_tasks(view)


def _task_path(check_id: str, tenant: str, step: str) -> str:
    return f"/checks/{_id(check_id)}/tasks/{_id(tenant)}/{step}"


@routes.post("/check-tasks/{check_id}/{tenant}/not-present")
async def not_present(check_id: str, tenant: str, view: Answerer, values: FormDep) -> Response:
    async def send() -> str:
        body = NotPresentForm.read(values).body()
        await backends(view).send(view.person.token, "verification", _task_path(check_id, tenant, "answer"), body)
        return "/console/check-tasks?done=1"

    return await attempt(view, send, lambda status: show_tasks(view, status, failed=f"not-present-{check_id}-{tenant}", **values))


@routes.post("/check-tasks/{check_id}/{tenant}/more-time")
async def more_time(check_id: str, tenant: str, view: Answerer, values: FormDep) -> Response:
    async def send() -> str:
        body = MoreTimeForm.read(values, zone=view.zone).body()
        await backends(view).send(view.person.token, "verification", _task_path(check_id, tenant, "extension"), body)
        return "/console/check-tasks?done=1"

    return await attempt(view, send, lambda status: show_tasks(view, status, failed=f"more-time-{check_id}-{tenant}", **values))


async def _found_form(view: Page, check_id: str, tenant: str, status_code: int = 200, **form: Any) -> Response:
    if tenant not in view.tenants:
        raise NotYours()
    task = next((t for t in await read(view, "/check-tasks", tenant=tenant) if t["check_id"] == check_id), None)
    if task is None:
        raise NotYours()
    listed = await backends(view).read(view.person.token, "intake", "/catalogue", tenant=tenant)
    names = {p["place_id"]: (p["name_en"] if view.language == "en" and p["name_en"] else p["name"]) for p in listed}
    places = [
        {"place_id": p["place_id"], "shown": f"{names.get(p['parent_id'] or '', '')} / {names[p['place_id']]}", "kind": p["kind"]}
        for p in listed if not p["retired"] and p["kind"] != "site"
    ]
    return render(view, "check_found.html", status_code=status_code, task=task, places=places, subtypes=SUBTYPES,
                  categories=list(Category), form=form)


@routes.get("/check-tasks/{check_id}/{tenant}/found")
async def found_page(check_id: str, tenant: str, view: Answerer) -> Response:
    return await _found_form(view, _id(check_id), tenant)


@routes.post("/check-tasks/{check_id}/{tenant}/found")
async def found(check_id: str, tenant: str, view: Answerer, values: FormDep) -> Response:
    async def send() -> str:
        body = FoundForm.read(values, zone=view.zone).body(tenant, _id(check_id))
        filed = await backends(view).call(view.person.token, "intake", "POST", "/reports", json=body, language=view.language)
        return f"/console/check-tasks?done=1&filed={filed.json()['report_id']}"

    return await attempt(view, send, lambda status: _found_form(view, _id(check_id), tenant, status, **values))
