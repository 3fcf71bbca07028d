"""The console's front page: each person sees the pages their roles use, nothing else."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from hazardloop.web.auth import Role
from hazardloop_console.web import Page, SignedIn, render

routes = APIRouter(prefix="/console", include_in_schema=False)

NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ("/console/queue", "queue", frozenset({Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR})),
    ("/console/tasks", "my_tasks", frozenset({Role.RECTIFIER})),
    ("/console/decisions", "decisions", frozenset({Role.MANAGER, Role.LEADER})),
    ("/console/places", "places", frozenset({Role.MANAGER, Role.OPERATOR, Role.VERIFIER})),
    ("/console/rewards/approvals", "reward_approvals", frozenset({Role.MANAGER})),
    ("/console/rewards/referrals", "reward_referrals", frozenset({Role.MANAGER, Role.LEADER})),
    ("/console/rewards/payments", "reward_payments", frozenset({Role.FINANCE})),
    ("/console/rewards/budgets", "reward_budgets", frozenset({Role.LEADER, Role.FINANCE})),
    ("/console/rewards/policy", "reward_policy", frozenset({Role.MANAGER, Role.LEADER, Role.FINANCE, Role.AUDITOR})),
    ("/console/dashboard", "dashboard", frozenset({Role.LEADER, Role.AUDITOR})),
    ("/console/audit", "audit", frozenset({Role.AUDITOR})),
    ("/console/checks", "checks_elsewhere", frozenset({Role.VERIFIER, Role.MANAGER, Role.LEADER, Role.AUDITOR})),
    ("/console/check-tasks", "check_tasks", frozenset({Role.VERIFIER, Role.MANAGER})),
]
"""(path, word, roles that use it): the pages of the console, in the order they are offered."""


def navigation(view: Page) -> list[tuple[str, str]]:
    if view.person is None:
        return []
    return [(path, view.t(key)) for path, key, roles in NAVIGATION if view.person.roles & roles]


@routes.get("")
def home(view: SignedIn) -> Response:
    return render(view, "home.html")
