"""The rewards side of the console: the department head's approvals, group HQ's referred
rewards, finance's payments and payroll export, the year's budgets and the reward policy.

Lists come from the console's own store; every decision goes to rewards with the
person's own token, and comes back marked where the form was wrong, with rewards' reason
where it refused, and with a notice that rewards is down when it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hazardloop.events import RewardPolicy
from hazardloop.web.auth import Role
from hazardloop_console import payroll, queries_rewards
from hazardloop_console.forms_rewards import (
    FACTORS,
    GRADES,
    ApprovalForm,
    BudgetForm,
    HqForm,
    PaymentForm,
    PolicyForm,
    SignalConfirmationForm,
    SignalDismissalForm,
)
from hazardloop_console.signals import signals_on
from hazardloop_console.queries import page_number
from hazardloop_console.web import FormDep, NotYours, Page, attempt, backends, for_roles, render

routes = APIRouter(prefix="/console/rewards", include_in_schema=False)

Head = Annotated[Page, Depends(for_roles(Role.MANAGER))]
HqOrHead = Annotated[Page, Depends(for_roles(Role.MANAGER, Role.LEADER))]
Finance = Annotated[Page, Depends(for_roles(Role.FINANCE))]
BudgetHolder = Annotated[Page, Depends(for_roles(Role.LEADER, Role.FINANCE))]
PolicyReader = Annotated[Page, Depends(for_roles(Role.MANAGER, Role.LEADER, Role.FINANCE, Role.AUDITOR))]
FIELD_OF = {"amount_fen": "amount_yuan", "cap_fen": "cap_yuan"}
"""Rewards' field names, as the console's forms call them."""


def _is_hq(view: Page) -> bool:
    return view.person.group_wide and view.person.has(Role.MANAGER, Role.LEADER)


def _done(view: Page) -> None:
    done = view.request.query_params.get("done")
    if done:
        view.notices.append(view.t("reward_referred_notice" if done == "RewardReferred" else "done"))


def _listing(
    view: Page, status: str, template: str, status_code: int = 200, failed: str | None = None,
    form: dict[str, Any] | None = None, **context: Any,
) -> Response:
    """A page of the rewards at ``status``; ``failed`` names the one whose ``form`` came back wrong."""
    number = page_number(view.request.query_params.get("page"))
    rows, more = queries_rewards.at_step(view.engine, view.tenants, status, number, view.settings.page_size)
    _done(view)
    return render(view, template, status_code=status_code, rows=rows, more=more, page_number=number,
                  failed=failed, form=form or {}, **context)


async def _decide(view: Page, report_id: str, listing: str, send, again) -> Response:
    """Send a decision on a reward; back to the ``listing`` page, or the list again marked where it went wrong."""
    row = queries_rewards.one_reward(view.engine, report_id[:64])
    if row is None or row["tenant"] not in view.tenants:
        raise NotYours()

    async def sent() -> str:
        answer = await send(row)
        return f"/console/rewards/{listing}?done={(answer or {}).get('event', 'done')}"

    return await attempt(view, sent, again, renames=FIELD_OF)


def _send(view: Page, report_id: str, step: str, body: dict[str, Any]):
    return backends(view).send(view.person.token, "rewards", f"/rewards/{report_id}/{step}", body)


# --- the department head -----------------------------------------------------------------


async def _approvals_signals(view: Page) -> dict[str, Any]:
    """The fraud signals on the rewards of this page of approvals, from rewards (shown beside
    each reward; they never decide it)."""
    number = page_number(view.request.query_params.get("page"))
    rows, _ = queries_rewards.at_step(view.engine, view.tenants, "proposed", number, view.settings.page_size)
    return {"signals": await signals_on(view, rows)}


@routes.get("/approvals")
async def approvals(view: Head) -> Response:
    return _listing(view, "proposed", "rewards_approvals.html", **await _approvals_signals(view))


@routes.post("/{report_id}/approval")
async def approve(report_id: str, view: Head, values: FormDep) -> Response:
    async def send(row):
        return await _send(view, report_id, "approval", ApprovalForm.read(values, proposed_fen=row["reward_proposed_fen"]).body())

    shown = await _approvals_signals(view)

    def again(code: int) -> Response:
        return _listing(view, "proposed", "rewards_approvals.html", code, report_id, values, **shown)

    return await _decide(view, report_id, "approvals", send, again)


# --- fraud signals beside the rewards --------------------------------------------------------


async def _on_signal(view: Page, signal_id: str, step: str, form: type[SignalDismissalForm | SignalConfirmationForm], values: dict[str, Any]) -> Response:
    """A reviewer's dismissal or confirmation, sent to rewards as them; back to the approvals."""
    shown = await _approvals_signals(view)

    async def send() -> str:
        decision = form.read(values)
        if decision.tenant not in view.tenants:
            raise NotYours()
        await backends(view).send(view.person.token, "rewards", f"/signals/{signal_id[:40]}/{step}", decision.body())
        return "/console/rewards/approvals?done=1"

    def again(code: int) -> Response:
        return _listing(view, "proposed", "rewards_approvals.html", code, None, values, failed_signal=signal_id, **shown)

    return await attempt(view, send, again)


@routes.post("/signals/{signal_id}/dismissal")
async def dismiss_signal(signal_id: str, view: Head, values: FormDep) -> Response:
    return await _on_signal(view, signal_id, "dismissal", SignalDismissalForm, values)


@routes.post("/signals/{signal_id}/confirmation")
async def confirm_signal(signal_id: str, view: Head, values: FormDep) -> Response:
    return await _on_signal(view, signal_id, "confirmation", SignalConfirmationForm, values)


# --- group HQ ----------------------------------------------------------------------------


@routes.get("/referrals")
def referrals(view: HqOrHead) -> Response:
    """Rewards awaiting group HQ: HQ decides them; a subsidiary's heads and leaders see theirs waiting."""
    return _listing(view, "referred", "rewards_referrals.html", hq=_is_hq(view))


@routes.post("/{report_id}/hq-decision")
async def hq_decision(report_id: str, view: HqOrHead, values: FormDep) -> Response:
    if not _is_hq(view):
        raise NotYours()

    async def send(_):
        return await _send(view, report_id, "hq-decision", HqForm.read(values).body())

    def again(code: int) -> Response:
        return _listing(view, "referred", "rewards_referrals.html", code, report_id, values, hq=True)

    return await _decide(view, report_id, "referrals", send, again)


# --- finance -----------------------------------------------------------------------------


def _months(view: Page) -> list[str]:
    """This month and the eleven before it, in the group's zone: what a payroll run covers."""
    now = datetime.now(view.zone)
    return [f"{(now.year * 12 + now.month - 1 - back) // 12}-{(now.month - 1 - back) % 12 + 1:02d}" for back in range(12)]


@routes.get("/payments")
def payments(view: Finance) -> Response:
    return _listing(view, "approved", "rewards_payments.html", months=_months(view), tenants=view.tenants)


@routes.post("/{report_id}/payment")
async def pay(report_id: str, view: Finance, values: FormDep) -> Response:
    async def send(row):
        return await _send(view, report_id, "payment", PaymentForm.read(values, anonymous=row["anonymous"]).body())

    def again(code: int) -> Response:
        return _listing(view, "approved", "rewards_payments.html", code, report_id, values, months=_months(view), tenants=view.tenants)

    return await _decide(view, report_id, "payments", send, again)


@routes.get("/payroll.{kind}")
async def payroll_export(kind: str, view: Finance, tenant: str = "", month: str = "") -> Response:
    """The month's paid rewards for the payroll system, as rewards lists them, in the page's language."""
    if kind not in ("csv", "xlsx") or tenant not in view.tenants or month not in _months(view):
        raise NotYours()
    answer = await backends(view).call(view.person.token, "rewards", "GET", "/payroll", params={"tenant": tenant, "period": month})
    rows = payroll.read(answer.text)
    filename = f"payroll-{tenant}-{month}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if kind == "csv":
        document = payroll.as_csv(rows, view.language, view.zone)
        return Response(document.encode(), media_type="text/csv; charset=utf-8", headers=headers)
    document = payroll.as_xlsx(rows, view.language, view.zone, title=view.t("payroll_title", t=view.label(tenant), m=month))
    return Response(document, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers=headers)


# --- budgets -----------------------------------------------------------------------------


def _budgets_page(view: Page, status_code: int = 200, form: dict[str, Any] | None = None) -> Response:
    tenants = view.tenants
    year = datetime.now(view.zone).year
    _done(view)
    return render(
        view, "rewards_budgets.html", status_code=status_code, rows=queries_rewards.budgets_of(view.engine, tenants, [year]),
        tenants=tenants, year=year, form=form or {},
    )


@routes.get("/budgets")
def budgets(view: BudgetHolder) -> Response:
    return _budgets_page(view)


@routes.post("/budgets")
async def set_budget(view: BudgetHolder, values: FormDep) -> Response:
    async def send() -> str:
        form = BudgetForm.read(values)
        if form.tenant not in view.tenants:
            raise NotYours()
        await backends(view).call(
            view.person.token, "rewards", "PUT", "/budgets", params={"tenant": form.tenant, "year": form.year},
            json={"amount_fen": form.amount_yuan},
        )
        return "/console/rewards/budgets?done=1"

    return await attempt(view, send, lambda status: _budgets_page(view, status, values), renames=FIELD_OF)


# --- the reward policy -------------------------------------------------------------------


def _policy_page(view: Page, status_code: int = 200, form: dict[str, Any] | None = None) -> Response:
    tenants = view.tenants
    wanted = (form or {}).get("tenant") or view.request.query_params.get("tenant")
    tenant = wanted if wanted in tenants else tenants[0]
    current, upcoming, earlier = queries_rewards.policy_versions(view.engine, tenant, datetime.now(UTC))
    policy = current["policy"] if current else RewardPolicy()
    _done(view)
    return render(
        view, "rewards_policy.html", status_code=status_code, tenants=tenants, tenant=tenant, current=current, policy=policy,
        upcoming=upcoming, earlier=earlier, grades=GRADES, factors=FACTORS, form=form or {},
        editable=view.person.has(Role.MANAGER, Role.LEADER),
    )


@routes.get("/policy")
def policy(view: PolicyReader) -> Response:
    return _policy_page(view)


@routes.post("/policy")
async def set_policy(view: HqOrHead, values: FormDep) -> Response:
    async def send() -> str:
        form = PolicyForm.read(values, zone=view.zone)
        if form.tenant not in view.tenants:
            raise NotYours()
        await backends(view).call(view.person.token, "rewards", "PUT", "/policy", params={"tenant": form.tenant}, json=form.body())
        return f"/console/rewards/policy?tenant={form.tenant}&done=1"

    return await attempt(view, send, lambda status: _policy_page(view, status, values), renames=FIELD_OF)
