"""The group dashboard: reports by week, service levels, overdue and escalated cases,
reward spend against budget, participation and places that keep coming back.

Each figure is drawn by ECharts from JSON in the page and repeated as a plain table
(the page reads without JavaScript); every number links to the queue listing its cases.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from hazardloop.web.auth import Role
from hazardloop_console import figures
from hazardloop_console.queries import UNGRADED
from hazardloop_console.web import Page, for_roles, render

routes = APIRouter(prefix="/console", include_in_schema=False)

Overseer = Annotated[Page, Depends(for_roles(Role.LEADER, Role.AUDITOR))]
DEFAULT_WEEKS = 13
LONGEST_DAYS = 5 * 366


def queue_link(params: dict[str, str]) -> str:
    return "/console/queue?" + urlencode(params)


def _day(view: Page, name: str, default: date) -> date:
    text = view.request.query_params.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        view.fields[name] = view.t("not_a_date")
        return default


def scope_of(view: Page) -> figures.Scope:
    """The subsidiaries and days asked for; a field asked wrongly is marked, and the default used."""
    tenants = view.tenants
    chosen = view.request.query_params.get("tenant") or None
    if chosen and chosen not in tenants:
        view.fields["tenant"] = view.t("invalid")
        chosen = None
    now = datetime.now(UTC)
    today = now.astimezone(view.zone).date()
    until = _day(view, "until", today)
    since = _day(view, "since", until - timedelta(days=until.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1))
    if since > until:
        view.fields["since"] = view.t("since_after_until")
        since = until - timedelta(weeks=DEFAULT_WEEKS)
    if (until - since).days > LONGEST_DAYS:
        view.fields["since"] = view.t("period_too_long")
        since = until - timedelta(days=LONGEST_DAYS)
    if view.fields:
        view.errors.append(view.t("fix_fields"))
    return figures.Scope([chosen] if chosen else tenants, since, until, now, view.zone)


def _series(view: Page, weeks: list[str], series: dict[str, dict[str, figures.Count]], name) -> list[dict[str, Any]]:
    return [{
        "name": name(key), "stack": "total",
        "data": [{"value": counts[w].value, "link": queue_link(counts[w].link)} if w in counts else 0 for w in weeks],
    } for key, counts in sorted(series.items())]


def charts(view: Page, board: figures.Dashboard) -> list[dict[str, Any]]:
    """What the chart script draws: categories along an axis, series of values with their links."""
    grade = lambda code: view.t("ungraded") if code == UNGRADED else view.label(code)  # noqa: E731
    tenant_clock = [f"{view.label(r['tenant'])} · {view.t('clock_' + r['clock'] + '_short')}" for r in board.clocks]
    tenant_year = [f"{view.label(r['tenant'])} {r['year']}" for r in board.spend]
    linked = lambda count: {"value": count.value, "link": queue_link(count.link)}  # noqa: E731
    return [
        {"id": "chart-category", "x": board.weeks, "series": _series(view, board.weeks, board.by_category, view.label)},
        {"id": "chart-grade", "x": board.weeks, "series": _series(view, board.weeks, board.by_grade, grade)},
        {"id": "chart-clocks", "x": tenant_clock, "unit": "%", "series": [
            {"name": view.t("within_sla"), "data": [round(100 * r["share"], 1) if r["share"] is not None else 0 for r in board.clocks]},
        ]},
        {"id": "chart-late", "x": [view.label(r["tenant"]) for r in board.late], "series": [
            {"name": view.t("overdue_now"), "data": [linked(r["overdue"]) for r in board.late]},
            {"name": view.t("escalated"), "data": [linked(r["escalated"]) for r in board.late]},
        ]},
        {"id": "chart-spend", "x": tenant_year, "series": [
            {"name": view.t("paid"), "data": [{"value": r["paid_fen"] / 100, "link": queue_link(r["paid"].link)} for r in board.spend]},
            {"name": view.t("budget"), "data": [(r["budget_fen"] or 0) / 100 for r in board.spend]},
        ]},
        {"id": "chart-participation", "x": [view.label(r["tenant"]) for r in board.participation], "series": [
            {"name": view.t("reporters"), "data": [r["reporters"] for r in board.participation]},
            {"name": view.t("reports"), "data": [linked(r["reports"]) for r in board.participation]},
        ]},
        {"id": "chart-places", "horizontal": True,
         "x": [f"{view.label(r['tenant'])} {r['site']} / {r['area']} / {r['spot']}" for r in board.places],
         "series": [{"name": view.t("reports"), "data": [linked(r["reports"]) for r in board.places]}]},
    ]


def hours(view: Page, seconds: float | None) -> str:
    return "" if seconds is None else view.t("hours_short", h=f"{seconds / 3600:,.1f}")


@routes.get("/dashboard")
def dashboard_page(view: Overseer) -> Response:
    scope = scope_of(view)
    board = figures.dashboard(view.engine, scope)
    return render(
        view, "dashboard.html", status_code=422 if view.fields else 200, scope=scope, board=board,
        figures_json={"charts": charts(view, board)}, link=queue_link, hours=hours, ungraded=UNGRADED,
        tenants=view.tenants, chosen=view.request.query_params.get("tenant") if not view.fields.get("tenant") else None,
    )
